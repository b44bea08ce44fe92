"""What workflow/rules/dknn.smk needs from the config, kept here because snakemake's lint wants no
functions in rule files."""
from __future__ import annotations


def vectors(config: dict, model: str) -> list[str]:
    """The registry name of the word vectors a model uses: none for character models or
    word_vectors: null."""
    if config["word_vectors"] is None or model.startswith("char"):
        return []
    return [config["word_vectors"]]


def flags(config: dict, *keys: str) -> str:
    """Config keys as a step's command-line flags: n_calib -> --n-calib VALUE."""
    return " ".join(f"--{key.replace('_', '-')} {config[key]}" for key in keys)


def runs(config: dict, name: str) -> list[str]:
    """results/dknn/<dataset>/<model>/seed<seed>/<name> for every configured dataset, model and seed."""
    return [f"results/dknn/{d}/{m}/seed{s}/{name}" for d in config["datasets"] for m in config["models"]
            for s in config["seeds"]]


def combined(config: dict) -> list[str]:
    """The comparison table of every dataset and model: mean ± std over the seeds (the scorecard's input)."""
    return [f"results/dknn/{d}/{m}/comparison.csv" for d in config["datasets"] for m in config["models"]]
