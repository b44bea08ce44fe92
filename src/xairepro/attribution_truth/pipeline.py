"""What workflow/rules/attribution_truth.smk reads from the config (standard library only: the workflow
parses without the project's environments). `config` is the `attribution_truth` section."""
from __future__ import annotations

import json

from xairepro.config.errors import lookup

RESULTS = "results/attribution_truth"
# Methods scored on each task (each is a truth_score job): last-layer tasks get every method of the five
# papers that attributes data to a classifier and dattri's; the knowledge graph gets Gradient Rollback.
# Two trivial baselines each: random scores, and a lookup that knows only the labels (same label as the
# test point: +1, else -1) or, for the knowledge graph, GR's candidate set (shares h, r or t: +1, else 0).
TORCH_METHODS = ("lje", "rps_l2", "if", "explaind", "dknn", "dattri_if", "dattri_tracin", "dattri_trak", "same_label",
                 "random")
KG_METHODS = ("gr", "shares_entity", "random")
TASKS = {"credit_logistic": ("torch", TORCH_METHODS), "digits_cnn": ("torch", TORCH_METHODS),
         "nations_distmult": ("tf", KG_METHODS)}
PLAN_KEYS = ("seed", "test_points", "loo_points", "loo_seeds", "lds_subsets", "lds_alpha")


def task(config: dict, name: str) -> dict:
    return lookup(config["tasks"], name, "attribution_truth task", "attribution_truth.tasks")


def score_mem_mb(method: str) -> int:
    """mem_mb of a scoring job: dattri's explicit-Hessian influence function holds the whole model's Hessian
    (its measured peak is in the README's resource table); every other method stays well below the default."""
    return 6000 if method == "dattri_if" else 4000


def env(name: str) -> str:
    """The software environment of a task's retraining and scoring jobs."""
    return lookup(TASKS, name, "attribution_truth task", "attribution_truth.tasks (known tasks)")[0]


def methods(name: str) -> tuple[str, ...]:
    return TASKS[name][1]


def dataset(config: dict, name: str) -> str:
    return task(config, name)["dataset"]


def settings_json(config: dict, name: str) -> str:
    return json.dumps({k: v for k, v in task(config, name).items() if k != "dataset"}, sort_keys=True)


def plan_json(config: dict) -> str:
    return json.dumps({k: config[k] for k in PLAN_KEYS}, sort_keys=True)


def shard_files(config: dict, name: str) -> list[str]:
    shards = config["shards"]
    return [f"{RESULTS}/{name}/retrain/shard{i}-of{shards}.npz" for i in range(shards)]


def score_files(name: str) -> list[str]:
    return [f"{RESULTS}/{name}/scores/{method}.npz" for method in methods(name)]


def benchmark_files(name: str) -> list[str]:
    return [f"results/benchmarks/attribution_truth/{name}/score_{method}.tsv" for method in methods(name)]


def by_method(name: str, files: list[str]) -> str:
    """`METHOD=path ...` for the evaluate step (files in the order of methods(name))."""
    return " ".join(f"{method}={path}" for method, path in zip(methods(name), files))


def targets(config: dict) -> list[str]:
    for name in config["run"]:
        task(config, name)
        env(name)
    return [f"{RESULTS}/summary.csv", f"{RESULTS}/summary.md",
            *(f"{RESULTS}/{name}/{f}" for name in config["run"] for f in ("summary.csv", "truth.png"))]


def methods_json(config: dict) -> str:
    return json.dumps(config["methods"], sort_keys=True)
