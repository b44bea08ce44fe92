"""What the explaind rules read from the config (kept out of the .smk file, which holds only rules)."""
from __future__ import annotations

import json

from xairepro.config.errors import lookup

# Task keys that are not part of one training run: the pipeline experiments, the list of training seeds and
# whether the EPK splits the data per example (adding a seed, or changing what is explained, must not retrain
# the seeds already run).
NOT_RUN_SETTINGS = ("pipeline", "seeds", "data_attribution")
# The retrain re-initialisation when the pipeline section does not set it (the authors': randn × 0.1). Written
# into the --pipeline JSON, so a run made under another default reruns (workflow/schemas/explaind.schema.yaml).
RETRAIN_INIT_STD = 0.1


def task(cfg: dict, name: str) -> dict:
    """The settings of task `name` under explaind.tasks, or an error naming that key."""
    return lookup(cfg["tasks"], name, "explaind task", "explaind.tasks")


def seeds(cfg: dict, name: str) -> list[int]:
    """The training seeds of a task: its own `seeds` where it sets them, else explaind.seeds."""
    return task(cfg, name).get("seeds", cfg["seeds"])


def datasets(cfg: dict, name: str) -> list[str]:
    """Registry datasets the task reads (none for modulo addition, which is generated)."""
    dataset = task(cfg, name)["dataset"]
    return [] if dataset == "modulo" else [dataset]


def args(cfg: dict, name: str, seed: int | str, data_dirs: list[str]) -> str:
    """The flags defining one training run of a task: --settings (task section as JSON), seed, dtype, threads,
    device, data."""
    data = f" --data-dir {data_dirs[0]}" if data_dirs else ""
    settings = {k: v for k, v in task(cfg, name).items() if k not in NOT_RUN_SETTINGS}
    return (f"--settings '{json.dumps(settings, sort_keys=True)}' --seed {seed} "
            f"--dtype {cfg['dtype']} --threads {cfg['threads']} --device {cfg['device']}{data}")


def pipeline(cfg: dict, name: str) -> str:
    """The --pipeline flag of the swap and retrain_pipeline steps (the task's `pipeline` section)."""
    settings = task(cfg, name)
    if settings["dataset"] != "modulo" or "pipeline" not in settings:
        raise ValueError(f"explaind task {name!r}: the pipeline experiments need dataset modulo and a `pipeline` section")
    resolved = {"retrain_init_std": RETRAIN_INIT_STD, **settings["pipeline"]}
    return f"--pipeline '{json.dumps(resolved, sort_keys=True)}'"


def runs(cfg: dict, name: str) -> list[str]:
    """results/explaind/<task>/seed<seed> for every training seed of the task."""
    return [f"results/explaind/{name}/seed{seed}" for seed in seeds(cfg, name)]


def run_outputs(cfg: dict, name: str) -> list[str]:
    """The files of one task's training run that the method delivers, relative to its run folder."""
    settings = task(cfg, name)
    out = ["fidelity.json", "phases.csv", "components.csv", "top_examples.csv", "comparison.csv"]
    out += [f"plots/{p}.png" for p in ("training_curves", "phase_components", "step_components")]
    if settings.get("prune_fractions"):
        if not settings.get("data_attribution", True):
            raise ValueError(f"explaind.tasks.{name}: prune_fractions needs the per-example kernel; "
                             "set data_attribution: true (or drop prune_fractions)")
        out += ["pruning.csv", "plots/pruning.png"]
    if "pipeline" in settings:
        pipeline(cfg, name)  # a pipeline section on a non-modulo task is an error here, not a missing rule
        out += ["swap.csv", "retrain_pipeline.csv", "plots/swap.png", "plots/retrain_pipeline.png"]
    return out


def combined(cfg: dict) -> list[str]:
    """Each task's comparison table: mean ± std over its training seeds (the scorecard's input)."""
    return [f"results/explaind/{name}/comparison.csv" for name in cfg["run"]]


def targets(cfg: dict) -> list[str]:
    """The final outputs of every seed of every task listed in explaind.run, the tables combined over seeds,
    and the README summary of them all."""
    per_run = [f"{run}/{f}" for name in cfg["run"] for run in runs(cfg, name) for f in run_outputs(cfg, name)]
    return ["results/explaind/summary.md", *combined(cfg), *per_run]


def report_inputs(cfg: dict) -> list[str]:
    """What explaind_report reads from each run: fidelity, training curves, and the pruning and pipeline tables."""
    read = ("fidelity.json", "training_curves.csv", "pruning.csv", "swap.csv", "retrain_pipeline.csv")
    return [f"{run}/{f}" for name in cfg["run"] for run in runs(cfg, name)
            for f in ("training_curves.csv", *run_outputs(cfg, name)) if f in read]
