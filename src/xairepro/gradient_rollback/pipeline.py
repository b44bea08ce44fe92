"""What workflow/rules/gradient_rollback.smk needs from the config (lint wants no functions in rule files)."""
from __future__ import annotations

from xairepro.config.errors import lookup

SETTINGS = ("dim", "epochs", "negatives", "credit")


def settings(config: dict, dataset: str) -> dict:
    """The settings of `dataset` under gradient_rollback.datasets, or an error naming that key."""
    return lookup(config["datasets"], dataset, "gradient_rollback dataset", "gradient_rollback.datasets")


def runs(config: dict, name: str) -> list[str]:
    """results/gradient_rollback/<dataset>/<model>/<name> for every dataset in `run` and every model."""
    for dataset in config["run"]:
        settings(config, dataset)
    return [f"results/gradient_rollback/{d}/{m}/{name}" for d in config["run"] for m in config["models"]]


def train_flags(config: dict, dataset: str) -> str:
    """Training settings of `dataset` (per dataset in the paper) and the shared ones, as flags."""
    values = {**{k: settings(config, dataset)[k] for k in SETTINGS},
              **{k: config[k] for k in ("seed", "learning_rate", "decay_steps", "decay_rate", "mode")}}
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in values.items())


def table1_flags(config: dict, dataset: str, mode: str) -> str:
    """Training flags of one Table 1 run (mode and seed come from the path): the dataset's settings,
    with credit hrt in mode authors (the authors' γ; mode authors accepts no other)."""
    values = {**{k: settings(config, dataset)[k] for k in SETTINGS},
              **{k: config[k] for k in ("learning_rate", "decay_steps", "decay_rate")}}
    if mode == "authors":
        values["credit"] = "hrt"
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in values.items())


def table1_runs(config: dict) -> list[str]:
    """run.json of every (mode, seed) of gradient_rollback.table1."""
    t1 = config["table1"]
    settings(config, t1["dataset"])
    return [f"results/gradient_rollback/table1/{mode}/seed{seed}/{t1['dataset']}/{t1['model']}/run.json"
            for mode in t1["modes"] for seed in t1["seeds"]]


def table1_summary(config: dict) -> str:
    t1 = config["table1"]
    return f"results/gradient_rollback/table1/{t1['dataset']}/{t1['model']}/table1.md"


def shard_files(config: dict, dataset: str, model: str) -> list[str]:
    shards = settings(config, dataset)["shards"]
    return [f"results/gradient_rollback/{dataset}/{model}/eval/shard{i}-of{shards}.json" for i in range(shards)]
