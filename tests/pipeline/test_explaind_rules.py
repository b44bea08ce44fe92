"""The explaind rules end to end on tiny modulo and digits2 tasks, in the torch environment: one independent
run per training seed (digits2 two, by its own `seeds`; modulo the default one), each task's comparison table
the mean ± std over its seeds, and a forced rerun gives byte-identical metrics and tables; both configs plan
the pipeline experiments; the old scalar `seed` is an error naming `seeds`."""
import csv
import json
import statistics

import pytest
import yaml

TINY = {"explaind": {"integration_steps": 8, "n_explain": 8, "tasks": {
    "modulo": {"p": 7, "n_train": 25, "model": {"name": "modulo_transformer", "d_model": 16, "n_heads": 2, "d_mlp": 32},
               "steps": 20, "checkpoint_every": 6, "eval_every": 5,
               "pipeline": {"swap_every": 5, "retrain_every": 10, "retrain_seeds": [100, 101], "retrain_max_epochs": 4}},
    "digits2": {"model": {"name": "small_cnn", "width": 4}, "epochs": 3, "batch_size": 64, "checkpoint_every": 3,
                "eval_every": 2, "prune_fractions": [0.5, 0.9], "seeds": [0, 1]}}}}
SEEDS = {"modulo": [0], "digits2": [0, 1]}  # modulo: config.yaml's explaind.seeds

PIPELINE_TARGETS = ("swap.csv", "retrain_pipeline.csv", "plots/swap.png", "plots/retrain_pipeline.png")


def test_explaind_rules_run_per_seed_combine_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runs = [f"{t}/seed{s}" for t, seeds in SEEDS.items() for s in seeds]
    targets = [f"results/explaind/{r}/{name}" for r in runs
               for name in ("fidelity.json", "phases.csv", "components.csv", "top_examples.csv",
                            "plots/training_curves.png", "plots/phase_components.png", "plots/step_components.png")]
    targets += [f"results/explaind/digits2/seed{s}/{name}" for s in SEEDS["digits2"]
                for name in ("pruning.csv", "plots/pruning.png")]
    targets += [f"results/explaind/modulo/seed0/{name}" for name in PIPELINE_TARGETS]
    targets += [f"results/explaind/{t}/comparison.csv" for t in SEEDS] + ["results/explaind/summary.md"]
    snakemake("--cores", "1", "--configfile", str(config), "--", *targets)
    run = snakemake.workdir / "results/explaind"
    metrics = ("fidelity.json", "phases.csv", "components.csv", "comparison.csv", "training_curves.csv")
    first = {(r, m): (run / r / m).read_bytes() for r in runs for m in metrics}
    first.update({("modulo/seed0", m): (run / "modulo/seed0" / m).read_bytes()
                  for m in PIPELINE_TARGETS if m.endswith(".csv")})
    first.update({(t, "comparison.csv"): (run / t / "comparison.csv").read_bytes() for t in SEEDS})
    first.update({(".", "summary.md"): (run / "summary.md").read_bytes()})
    for task, n_steps in (("modulo", 20), ("digits2", 3 * 4)):
        for seed in SEEDS[task]:
            fidelity = json.loads((run / f"{task}/seed{seed}/fidelity.json").read_text())
            assert fidelity["n_steps"] == n_steps and fidelity["n_explained"] == 8
            assert fidelity["relative_error"] < 1e-2  # EPK reconstruction of the trained model's outputs
            log = (snakemake.workdir / f"results/logs/explaind/{task}/seed{seed}/epk.log").read_text()
            assert ".venvs/torch/bin/python" in log or "envs" in log
            assert (run / f"{task}/seed{seed}/plots/training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "stand-in for CIFAR2" in (run / "digits2/seed0/fidelity.json").read_text()
    for seed in SEEDS["digits2"]:
        pruning = (run / f"digits2/seed{seed}/pruning.csv").read_text().splitlines()
        assert pruning[0] == "method,fraction,pruned,val_acc,model_acc,kl_div" and len(pruning) == 1 + 3 * 2
    check_seeds_are_independent_runs(run)
    check_comparison_is_mean_and_std_over_seeds(run)
    check_pipeline_tables(run / "modulo/seed0")
    # the README block is made from these files: fidelity over the seeds, the pruning and pipeline tables
    summary = (run / "summary.md").read_text()
    modulo = json.loads((run / "modulo/seed0/fidelity.json").read_text())
    assert f"| modulo | 0 (one seed) | {modulo['n_steps']} | {modulo['relative_error']:.2g} (T = " in summary
    errors = [json.loads((run / f"digits2/seed{s}/fidelity.json").read_text())["relative_error"]
              for s in SEEDS["digits2"]]
    assert (f"| digits2 | 0, 1 | 12 | {statistics.fmean(errors):.2g} ± {statistics.stdev(errors):.2g} (T = "
            in summary)
    assert "Pruning digits2" in summary and "seeds 0, 1:" in summary
    assert "pipeline experiments on modulo, seed 0:" in summary
    assert "| pipeline kept from t = " in summary and "| scratch |" in summary
    snakemake("--cores", "1", "--configfile", str(config), "--forcerun", "explaind_train", "--", *targets)
    assert {(r, m): (run / r / m).read_bytes() for r, m in first} == first


def check_seeds_are_independent_runs(run):
    """The seed reaches the data split, the initialisation and the batch order: two seeds, two different runs."""
    folders = [run / f"digits2/seed{s}/history" for s in SEEDS["digits2"]]
    histories = [sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file())
                 for folder in folders]
    assert [name for name, _ in histories[0]] == [name for name, _ in histories[1]]
    assert histories[0] != histories[1]
    curves = [(run / f"digits2/seed{s}/training_curves.csv").read_bytes() for s in SEEDS["digits2"]]
    assert curves[0] != curves[1]


def read_comparison(path):
    with open(path, newline="") as f:
        return {r["metric"]: r for r in csv.DictReader(f)}


def check_comparison_is_mean_and_std_over_seeds(run):
    per_seed = [read_comparison(run / f"digits2/seed{s}/comparison.csv") for s in SEEDS["digits2"]]
    combined = read_comparison(run / "digits2/comparison.csv")
    assert set(combined) == set(per_seed[0]) and "relative_error" in combined and "test_acc" in combined
    for metric, row in combined.items():
        values = [float(table[metric]["ours"]) for table in per_seed]
        assert float(row["ours"]) == pytest.approx(statistics.fmean(values), rel=1e-5, abs=1e-12), metric
        assert float(row["ours_std"]) == pytest.approx(statistics.stdev(values), rel=1e-5, abs=1e-12), metric
        assert row["runs"] == "2"
    assert len({t["relative_error"]["ours"] for t in per_seed}) == 2  # a real spread, not one run twice
    modulo = read_comparison(run / "modulo/comparison.csv")
    seed0 = read_comparison(run / "modulo/seed0/comparison.csv")
    assert all(r["runs"] == "1" and r["ours_std"] == "" and float(r["ours"]) == pytest.approx(float(seed0[m]["ours"]),
                                                                                                 rel=1e-5)
               for m, r in modulo.items())


def check_pipeline_tables(run):
    swap = list(csv.DictReader(open(run / "swap.csv")))
    # steps 0, 5, 10, 15, 20 x pipeline and config.yaml's variants (sorted by name)
    assert [(int(r["step"]), r["variant"]) for r in swap] == [
        (s, v) for s in range(0, 21, 5) for v in ("pipeline", "all_but_attention", "decoder")]
    for r in swap[-3:]:  # swapped into the final step: the final model itself
        assert r["accuracy"] == r["step_model_accuracy"] and r["kl_to_final"] == r["step_model_kl_to_final"] == "0"
    retrain = list(csv.DictReader(open(run / "retrain_pipeline.csv")))
    # seeds x (scratch + {pipeline, complement} x t in {10, 20})
    assert [(r["seed"], r["variant"], r["step_from"]) for r in retrain] == [
        (seed, v, t) for seed in ("100", "101") for v, t in (("scratch", ""), ("pipeline", "10"), ("complement", "10"),
                                                   ("pipeline", "20"), ("complement", "20"))]
    assert all(r["max_steps"] == "4" and int(r["steps_run"]) <= 4 for r in retrain)
    for name in PIPELINE_TARGETS:
        assert (run / name).stat().st_size > 0


def test_both_configs_plan_the_pipeline_experiments(snakemake, repo):
    for extra in ([], ["--configfile", str(repo / "config" / "paper.yaml")]):
        out = snakemake("-n", *extra).stdout
        for rule in ("explaind_swap", "explaind_retrain_pipeline", "explaind_plot_pipeline"):
            assert f"rule {rule}:" in out, (extra, rule)


def test_the_old_scalar_seed_is_an_error_naming_seeds(snakemake):
    proc = snakemake("-n", "--config", "explaind={'seed': 1}", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0
    assert "explaind: Additional properties are not allowed ('seed' was unexpected); `seed` is now `seeds`, a list" in out
