"""What workflow/rules/empirical_explainers.smk needs from the config, kept here because snakemake's
lint wants no functions in rule files. `config` is the `empirical_explainers` section."""
from __future__ import annotations

from xairepro.config.errors import lookup

RESULTS = "results/empirical_explainers"


def setups(config: dict) -> dict[str, dict]:
    """The setups by dataset; a dataset listed twice is an error (its outputs would collide)."""
    by_dataset = {}
    for entry in config["setups"]:
        if entry["dataset"] in by_dataset:
            raise ValueError(f"empirical_explainers: dataset {entry['dataset']!r} has two entries in 'setups'; keep one")
        by_dataset[entry["dataset"]] = entry
    return by_dataset


def setup(config: dict, dataset: str) -> dict:
    """The dataset's settings, with null sizes spelled 'all' for the command line."""
    return {key: "all" if value is None else value for key, value in lookup(setups(config), dataset, "empirical_explainers dataset",
                                                            "empirical_explainers.setups (an entry with that dataset)").items()}


def shards(config: dict, dataset: str, explainer: str, split: str) -> list[str]:
    """The target explanation files of `split`, in shard order (their concatenation is the split)."""
    return [f"{RESULTS}/{dataset}/{explainer}/target/{split}.{shard}.jsonl" for shard in range(config["shards"])]


def runs(config: dict, name: str) -> list[str]:
    """results/empirical_explainers/<dataset>/<explainer>/<name> for every configured setup."""
    return [f"{RESULTS}/{dataset}/{explainer}/{name}"
            for dataset, settings in setups(config).items() for explainer in settings["explainers"]]


def patience_option(config: dict, dataset: str) -> str:
    """'--patience N' for the EE's early stopping when the setup sets ee_patience (optional), else ''."""
    patience = setups(config)[dataset].get("ee_patience")
    return "" if patience is None else f"--patience {patience}"


def explainer_runs(config: dict, dataset: str, explainer: str) -> list[str]:
    """The EE's test explanations, one file per seed in `explainer_seeds` (the evaluation's mean ± std)."""
    return [f"{RESULTS}/{dataset}/{explainer}/explainer/seed{seed}/test.jsonl"
            for seed in config["explainer_seeds"]]
