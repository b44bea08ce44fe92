"""Helpers of workflow/rules/rps_lje.smk (kept here, not in the rule file, so the rules stay plain)."""
from __future__ import annotations

from xairepro.config.errors import ConfigError, lookup

EXPLAINER_NAMES = ["lje", "rps_l2", "if"]
# Keys of a model's config section that are not settings of its train step.
NOT_TRAIN_FLAGS = ("dataset", "retrain", "runs")


def section(rps: dict, model: str, dataset: str | None = None) -> dict:
    """The config section of `model` (rps_lje.<model>); with `dataset`, also checks that this is the
    dataset the section trains on, so an output path never runs one dataset with another's settings."""
    settings = lookup({m: rps[m] for m in ("cnn", "rnn", "xgboost") if m in rps}, model, "rps_lje model", "rps_lje")
    if dataset is not None and settings["dataset"] != dataset:
        raise ConfigError(f"results/rps_lje/{dataset}/{model}/ needs `rps_lje.{model}.dataset: {dataset}` in the "
                          f"config (it is {settings['dataset']!r}; config/paper.yaml has the paper's datasets)")
    return settings


def cli_flags(section: dict) -> str:
    """A model's config section as command-line flags of the train step (--lr 0.01 --classes 3 8 ...)."""
    flags = []
    for key, value in section.items():
        if key not in NOT_TRAIN_FLAGS:
            values = value if isinstance(value, list) else [value]
            flags.append(f"--{key.replace('_', '-')} " + " ".join(map(str, values)))
    return " ".join(flags)


def runs(rps: dict, model: str) -> int:
    """Runs of one model: its own `runs` where set (cheap XGBoost affords more), else the shared one."""
    return rps[model].get("runs", rps["runs"])


def debug_flags(rps: dict, model: str) -> str:
    """Settings of the debugging step (rps_debug, and mislabel_debug on the same tasks): seed,
    checkpoints, and how the model is retrained after fixing (the model's `retrain` section)."""
    retrain = rps[model]["retrain"]
    return (f"--seed {rps['seed']} --step {rps['checked_step']} --retrain-max {retrain['max_checked']} "
            f"--retrain-start {retrain['start']} --retrain-epochs {retrain.get('epochs', 0)} "
            f"--retrain-lr {retrain.get('lr', 0)} --retrain-repeats {retrain.get('repeats', 1)}")


def debug_runtime(model: str) -> int:
    """SLURM minutes of one debugging job: XGBoost refits take seconds; a network is trained again
    per checkpoint and order (paper scale: 42 CNN trainings per run, 127 Bi-LSTM ones with 3 repeats;
    README)."""
    return 120 if model == "xgboost" else 2880


def model_dir(rps: dict, model: str) -> str:
    return f"results/rps_lje/{rps[model]['dataset']}/{model}"


def final_targets(rps: dict) -> list[str]:
    return (["results/rps_lje/debugging_40pct.csv", "results/rps_lje/explain_times.csv",
             "results/rps_lje/curves_vs_paper.csv", "results/rps_lje/summary.md"]
            + [f"{model_dir(rps, m)}/debugging.png" for m in rps["models"]])


def debug_benchmark_files(rps: dict) -> list[str]:
    """Snakemake's benchmark file of every rps_debug job (wall time of the job, for the README)."""
    return [f"results/benchmarks/rps_lje/{rps[m]['dataset']}/{m}/run{r}/debug.tsv"
            for m in rps["models"] for r in range(runs(rps, m))]


def timing_files(rps: dict) -> list[str]:
    return [f"{model_dir(rps, m)}/run{r}/explain_{e}.timing.json"
            for m in rps["models"] for r in range(runs(rps, m)) for e in EXPLAINER_NAMES]
