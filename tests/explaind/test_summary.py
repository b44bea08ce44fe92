"""The README summary (report.markdown) over training seeds: fidelity and pruning cells are the mean ± sample
std of the seeds' numbers, a task run with one seed says so and gives its value alone, and the pipeline
tables come from the first seed."""
import json
import statistics

import pandas as pd

from xairepro.explaind import report

ERRORS = {"digits2": [1e-4, 3e-4, 2e-4], "modulo": [5e-5]}
TEST_ACC = {"digits2": [0.90, 0.94, 0.98], "modulo": [0.4]}


def write_run(run, relative_error, test_acc, pruning_acc=None):
    run.mkdir(parents=True)
    by_T = {"10": {"epk_accuracy": test_acc, "kl": relative_error / 10, "relative_error": relative_error * 2},
            "100": {"epk_accuracy": 1.0, "kl": -1e-15, "relative_error": relative_error}}
    (run / "fidelity.json").write_text(json.dumps({
        "n_steps": 12, "relative_error": relative_error, "integration_steps": 8, "max_abs_error": relative_error * 5,
        "all_logits": {"n_points": 4, "n_outputs": 2, "error_slope": 1.0 + relative_error * 1000, "by_T": by_T}}))
    pd.DataFrame({"step": [0, 12], "train_acc": [0.5, 1.0], "test_acc": [0.5, test_acc]}).to_csv(
        run / "training_curves.csv", index=False)
    if pruning_acc is not None:
        pd.DataFrame([{"method": m, "fraction": f, "pruned": f * 0.7, "val_acc": pruning_acc - f / 10,
                       "model_acc": 1.0, "kl_div": f * relative_error}
                      for f in (0.5, 0.9) for m in ("authors", "magnitude")]).to_csv(run / "pruning.csv", index=False)


def test_fidelity_and_pruning_cells_are_mean_and_std_over_seeds(tmp_path):
    runs = [tmp_path / "modulo/seed0"] + [tmp_path / f"digits2/seed{s}" for s in (0, 1, 2)]
    write_run(runs[0], ERRORS["modulo"][0], TEST_ACC["modulo"][0])
    for run, error, acc in zip(runs[1:], ERRORS["digits2"], TEST_ACC["digits2"]):
        write_run(run, error, acc, pruning_acc=acc)
    text = report.markdown(runs)
    # rows of the all-logit table by task and T
    rows = {" | ".join(line.split(" | ")[i] for i in (0, 3)): line for line in text.splitlines()
            if line.startswith(("| modulo", "| digits2")) and " × " in line}

    def pm(values, fmt):
        return f"{format(statistics.fmean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"

    errors, accs = ERRORS["digits2"], TEST_ACC["digits2"]
    assert (f"| digits2 | 0, 1, 2 | 12 | {pm(errors, '.2g')} (T = 8) | {pm([e * 5 for e in errors], '.2g')} | "
            f"1.00 ± 0.00 | {pm(accs, '.2f')} |") in text
    assert "| modulo | 0 (one seed) | 12 | 5e-05 (T = 8) | 0.00025 | 1.00 | 0.40 |" in text
    # the all-logit table: EPK accuracy, KL (negative rounding clipped to 0 before the mean), error, slope
    assert rows["| digits2 | 10"] == (f"| digits2 | 0, 1, 2 | 4 × 2 | 10 | {pm(accs, '.3f')} | "
                                      f"{pm([e / 10 for e in errors], '.2g')} | {pm([e * 2 for e in errors], '.2g')} | "
                                      f"{pm([1 + e * 1000 for e in errors], '.2f')} |")
    assert rows["| digits2 | 100"].split(" | ")[5] == "0 ± 0"
    assert rows["| modulo | 10"] == "| modulo | 0 (one seed) | 4 × 2 | 10 | 0.400 | 5e-06 | 0.0001 | 1.05 |"
    # pruning: accuracy / agreement / KL per fraction and score, over digits2's three seeds
    assert "Pruning digits2" in text and "seeds 0, 1, 2:" in text
    cell = (f"{pm([a - 0.09 for a in accs], '.3f')} / 1.000 ± 0.000 / {pm([0.9 * e for e in errors], '.2g')}")
    assert f"| 90.0% | 63.0% | {cell} | {cell} |" in text
    assert "Grokking pipeline" not in text  # no swap.csv in these runs


def test_pipeline_tables_come_from_the_first_seed(tmp_path):
    runs = [tmp_path / f"modulo/seed{s}" for s in (3, 4)]
    for seed, run in enumerate(runs):
        write_run(run, 1e-4, 0.5)
        pd.DataFrame([{"step": s, "variant": "pipeline", "accuracy": 0.1 * seed + 0.5, "kl_to_final": 0.1,
                       "step_model_accuracy": 0.5, "step_model_kl_to_final": 0.1} for s in (0, 10)]).to_csv(
            run / "swap.csv", index=False)
        pd.DataFrame([{"variant": "scratch", "step_from": "", "seed": 0, "steps_to_fit": 5 + seed,
                       "steps_to_generalise": "", "steps_run": 9, "max_steps": 9, "train_acc": 1, "test_acc": 0.5}]
                     ).to_csv(run / "retrain_pipeline.csv", index=False)
    text = report.markdown(runs)
    first = "Grokking pipeline experiments on modulo, seed 3; the other seeds' tables are in"
    assert f"{first} {tmp_path / 'modulo'}/seed<s>/" in text
    assert "| pipeline | +0.000 | +0.000 |" in text and "| scratch | 5 |" in text
