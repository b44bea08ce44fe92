"""What the explaind rules read from the config (kept out of the .smk file, which holds only rules)."""
from __future__ import annotations

import json


def task(cfg: dict, name: str) -> dict:
    if name not in cfg["tasks"]:
        raise ValueError(f"explaind task {name!r} is not in config explaind.tasks ({', '.join(cfg['tasks'])})")
    return cfg["tasks"][name]


def datasets(cfg: dict, name: str) -> list[str]:
    """Registry datasets the task reads (none for modulo addition, which is generated)."""
    dataset = task(cfg, name)["dataset"]
    return [] if dataset == "modulo" else [dataset]


def args(cfg: dict, name: str, data_dirs: list[str]) -> str:
    """The flags defining a task's training run: --settings (task section as JSON), seed, dtype, threads,
    device, data."""
    data = f" --data-dir {data_dirs[0]}" if data_dirs else ""
    return (f"--settings '{json.dumps(task(cfg, name), sort_keys=True)}' --seed {cfg['seed']} "
            f"--dtype {cfg['dtype']} --threads {cfg['threads']} --device {cfg['device']}{data}")


def targets(cfg: dict) -> list[str]:
    out = []
    for name, settings in cfg["tasks"].items():
        run = f"results/explaind/{name}"
        out += [f"{run}/{f}" for f in ("fidelity.json", "phases.csv", "components.csv", "top_examples.csv", "comparison.csv")]
        out += [f"{run}/plots/{p}.png" for p in ("training_curves", "phase_components", "step_components")]
        if settings.get("prune_fractions"):
            out += [f"{run}/pruning.csv", f"{run}/plots/pruning.png"]
    return out
