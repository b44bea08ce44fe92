"""What the explaind rules read from the config (kept out of the .smk file, which holds only rules)."""
from __future__ import annotations

import json

from xairepro.config.errors import lookup


def task(cfg: dict, name: str) -> dict:
    """The settings of task `name` under explaind.tasks, or an error naming that key."""
    return lookup(cfg["tasks"], name, "explaind task", "explaind.tasks")


def datasets(cfg: dict, name: str) -> list[str]:
    """Registry datasets the task reads (none for modulo addition, which is generated)."""
    dataset = task(cfg, name)["dataset"]
    return [] if dataset == "modulo" else [dataset]


def args(cfg: dict, name: str, data_dirs: list[str]) -> str:
    """The flags defining a task's training run: --settings (task section as JSON), seed, dtype, threads,
    device, data."""
    data = f" --data-dir {data_dirs[0]}" if data_dirs else ""
    # without the `pipeline` section: changing the pipeline experiments does not retrain the model
    settings = {k: v for k, v in task(cfg, name).items() if k != "pipeline"}
    return (f"--settings '{json.dumps(settings, sort_keys=True)}' --seed {cfg['seed']} "
            f"--dtype {cfg['dtype']} --threads {cfg['threads']} --device {cfg['device']}{data}")


def pipeline(cfg: dict, name: str) -> str:
    """The --pipeline flag of the swap and retrain_pipeline steps (the task's `pipeline` section)."""
    settings = task(cfg, name)
    if settings["dataset"] != "modulo" or "pipeline" not in settings:
        raise ValueError(f"explaind task {name!r}: the pipeline experiments need dataset modulo and a `pipeline` section")
    return f"--pipeline '{json.dumps(settings['pipeline'], sort_keys=True)}'"


def targets(cfg: dict) -> list[str]:
    """The final outputs of every task listed in explaind.run, and the README summary of them all."""
    out = ["results/explaind/summary.md"]
    for name in cfg["run"]:
        settings = task(cfg, name)
        run = f"results/explaind/{name}"
        out += [f"{run}/{f}" for f in ("fidelity.json", "phases.csv", "components.csv", "top_examples.csv", "comparison.csv")]
        out += [f"{run}/plots/{p}.png" for p in ("training_curves", "phase_components", "step_components")]
        if settings.get("prune_fractions"):
            out += [f"{run}/pruning.csv", f"{run}/plots/pruning.png"]
        if "pipeline" in settings:
            pipeline(cfg, name)  # a pipeline section on a non-modulo task is an error here, not a missing rule
            out += [f"{run}/{f}" for f in ("swap.csv", "retrain_pipeline.csv", "plots/swap.png", "plots/retrain_pipeline.png")]
    return out


def report_inputs(cfg: dict) -> list[str]:
    """What explaind_report reads: each task's fidelity and curves, and its pruning and pipeline tables."""
    return [p for p in targets(cfg) if p.endswith((".json", ".csv")) and not p.endswith(("comparison.csv",
                                                                                         "phases.csv", "components.csv",
                                                                                         "top_examples.csv"))] + [
        f"results/explaind/{name}/training_curves.csv" for name in cfg["run"]]
