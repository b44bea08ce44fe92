"""Helpers of workflow/rules/rps_lje.smk (kept here, not in the rule file, so the rules stay plain)."""
from __future__ import annotations

EXPLAINER_NAMES = ["lje", "rps_l2", "if"]


def cli_flags(section: dict) -> str:
    """A model's config section as command-line flags of the train step (--lr 0.01 --classes 3 8 ...)."""
    flags = []
    for key, value in section.items():
        if key != "dataset":
            values = value if isinstance(value, list) else [value]
            flags.append(f"--{key.replace('_', '-')} " + " ".join(map(str, values)))
    return " ".join(flags)


def debug_flags(rps: dict, model: str) -> str:
    """Settings of the debugging step (rps_debug, and mislabel_debug on the same tasks): seed,
    checkpoints, last-layer l2, and for XGBoost the booster it retrains."""
    flags = f"--seed {rps['seed']} --step {rps['checked_step']} --retrain-l2 {rps['retrain_l2']}"
    if model == "xgboost":
        x = rps["xgboost"]
        flags += f" --n-estimators {x['n_estimators']} --max-depth {x['max_depth']} --eta {x['eta']}"
    return flags


def model_dir(rps: dict, model: str) -> str:
    return f"results/rps_lje/{rps[model]['dataset']}/{model}"


def final_targets(rps: dict) -> list[str]:
    return (["results/rps_lje/debugging_40pct.csv", "results/rps_lje/explain_times.csv"]
            + [f"{model_dir(rps, m)}/debugging.png" for m in rps["models"]])


def timing_files(rps: dict) -> list[str]:
    return [f"{model_dir(rps, m)}/run{r}/explain_{e}.timing.json"
            for m in rps["models"] for r in range(rps["runs"]) for e in EXPLAINER_NAMES]
