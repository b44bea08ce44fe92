"""The explaind rules end to end on tiny modulo and digits2 tasks, in the torch environment; a forced
rerun gives byte-identical metrics and tables; both configs plan the pipeline experiments."""
import csv
import json

import yaml

TINY = {"explaind": {"integration_steps": 8, "n_explain": 8, "tasks": {
    "modulo": {"p": 7, "n_train": 25, "model": {"name": "modulo_transformer", "d_model": 16, "n_heads": 2, "d_mlp": 32},
               "steps": 20, "checkpoint_every": 6, "eval_every": 5,
               "pipeline": {"swap_every": 5, "retrain_every": 10, "retrain_seeds": [0, 1], "retrain_max_epochs": 4}},
    "digits2": {"model": {"name": "small_cnn", "width": 4}, "epochs": 3, "batch_size": 64, "checkpoint_every": 3,
                "eval_every": 2, "prune_fractions": [0.5, 0.9]}}}}

PIPELINE_TARGETS = ("swap.csv", "retrain_pipeline.csv", "plots/swap.png", "plots/retrain_pipeline.png")


def test_explaind_rules_run_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    targets = [f"results/explaind/{t}/{name}" for t in ("modulo", "digits2")
               for name in ("fidelity.json", "phases.csv", "components.csv", "top_examples.csv",
                            "plots/training_curves.png", "plots/phase_components.png", "plots/step_components.png")]
    targets += ["results/explaind/digits2/pruning.csv", "results/explaind/digits2/plots/pruning.png"]
    targets += [f"results/explaind/modulo/{name}" for name in PIPELINE_TARGETS]
    targets += ["results/explaind/summary.md"]
    snakemake("--cores", "1", "--configfile", str(config), "--", *targets)
    run = snakemake.workdir / "results/explaind"
    metrics = ("fidelity.json", "phases.csv", "components.csv", "comparison.csv")
    first = {(t, m): (run / t / m).read_bytes() for t in ("modulo", "digits2") for m in metrics}
    first.update({("modulo", m): (run / "modulo" / m).read_bytes() for m in PIPELINE_TARGETS if m.endswith(".csv")})
    for task, n_steps in (("modulo", 20), ("digits2", 3 * 4)):
        fidelity = json.loads((run / task / "fidelity.json").read_text())
        assert fidelity["n_steps"] == n_steps and fidelity["n_explained"] == 8
        assert fidelity["relative_error"] < 1e-2  # EPK reconstruction of the trained model's outputs
        log = (snakemake.workdir / f"results/logs/explaind/{task}/epk.log").read_text()
        assert ".venvs/torch/bin/python" in log or "envs" in log
        assert (run / task / "plots/training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "stand-in for CIFAR2" in (run / "digits2/fidelity.json").read_text()
    pruning = (run / "digits2/pruning.csv").read_text().splitlines()
    assert pruning[0] == "method,fraction,pruned,val_acc,model_acc,kl_div" and len(pruning) == 1 + 3 * 2
    check_pipeline_tables(run)
    # the README block is made from these files: each task's fidelity and the pruning / pipeline tables
    summary = (run / "summary.md").read_text()
    for task in ("modulo", "digits2"):
        fidelity = json.loads((run / task / "fidelity.json").read_text())
        assert f"| {task} | {fidelity['n_steps']} | {fidelity['relative_error']:.2g} (T = " in summary
    assert "Pruning digits2" in summary and "| pipeline kept from t = " in summary and "| scratch |" in summary
    snakemake("--cores", "1", "--configfile", str(config), "--forcerun", "explaind_train", "--", *targets)
    assert {(t, m): (run / t / m).read_bytes() for t, m in first} == first


def check_pipeline_tables(run):
    swap = list(csv.DictReader(open(run / "modulo/swap.csv")))
    # steps 0, 5, 10, 15, 20 x pipeline and config.yaml's variants (sorted by name)
    assert [(int(r["step"]), r["variant"]) for r in swap] == [
        (s, v) for s in range(0, 21, 5) for v in ("pipeline", "all_but_attention", "decoder")]
    for r in swap[-3:]:  # swapped into the final step: the final model itself
        assert r["accuracy"] == r["step_model_accuracy"] and r["kl_to_final"] == r["step_model_kl_to_final"] == "0"
    retrain = list(csv.DictReader(open(run / "modulo/retrain_pipeline.csv")))
    # seeds x (scratch + {pipeline, complement} x t in {10, 20})
    assert [(r["seed"], r["variant"], r["step_from"]) for r in retrain] == [
        (seed, v, t) for seed in "01" for v, t in (("scratch", ""), ("pipeline", "10"), ("complement", "10"),
                                                   ("pipeline", "20"), ("complement", "20"))]
    assert all(r["max_steps"] == "4" and int(r["steps_run"]) <= 4 for r in retrain)
    for name in PIPELINE_TARGETS:
        assert (run / "modulo" / name).stat().st_size > 0


def test_both_configs_plan_the_pipeline_experiments(snakemake, repo):
    for extra in ([], ["--configfile", str(repo / "config" / "paper.yaml")]):
        out = snakemake("-n", *extra).stdout
        for rule in ("explaind_swap", "explaind_retrain_pipeline", "explaind_plot_pipeline"):
            assert f"rule {rule}:" in out, (extra, rule)
