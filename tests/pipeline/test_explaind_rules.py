"""The explaind rules end to end on tiny modulo and digits2 tasks, in the torch environment; a forced
rerun gives byte-identical metrics and tables."""
import json

import yaml

TINY = {"explaind": {"integration_steps": 8, "n_explain": 8, "tasks": {
    "modulo": {"p": 7, "n_train": 25, "model": {"name": "modulo_transformer", "d_model": 16, "n_heads": 2, "d_mlp": 32},
               "steps": 20, "checkpoint_every": 6, "eval_every": 5},
    "digits2": {"model": {"name": "small_cnn", "width": 4}, "epochs": 3, "batch_size": 64, "checkpoint_every": 3,
                "eval_every": 2, "prune_fractions": [0.5, 0.9]}}}}


def test_explaind_rules_run_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    targets = [f"results/explaind/{t}/{name}" for t in ("modulo", "digits2")
               for name in ("fidelity.json", "phases.csv", "components.csv", "top_examples.csv",
                            "plots/training_curves.png", "plots/phase_components.png", "plots/step_components.png")]
    targets += ["results/explaind/digits2/pruning.csv", "results/explaind/digits2/plots/pruning.png"]
    snakemake("--cores", "1", "--configfile", str(config), "--", *targets)
    run = snakemake.workdir / "results/explaind"
    metrics = ("fidelity.json", "phases.csv", "components.csv", "comparison.csv")
    first = {(t, m): (run / t / m).read_bytes() for t in ("modulo", "digits2") for m in metrics}
    for task, n_steps in (("modulo", 20), ("digits2", 3 * 4)):
        fidelity = json.loads((run / task / "fidelity.json").read_text())
        assert fidelity["n_steps"] == n_steps and fidelity["n_explained"] == 8
        assert fidelity["relative_error"] < 1e-2  # EPK reconstruction of the trained model's outputs
        log = (snakemake.workdir / f"results/logs/explaind/{task}/epk.log").read_text()
        assert ".venvs/torch/bin/python" in log or "envs" in log
        assert (run / task / "plots/training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "stand-in for CIFAR2" in (run / "digits2/fidelity.json").read_text()
    pruning = (run / "digits2/pruning.csv").read_text().splitlines()
    assert pruning[0] == "method,fraction,val_acc,model_acc,kl_div" and len(pruning) == 1 + 2 * 2
    snakemake("--cores", "1", "--configfile", str(config), "--forcerun", "explaind_train", "--", *targets)
    assert {(t, m): (run / t / m).read_bytes() for t in ("modulo", "digits2") for m in metrics} == first
