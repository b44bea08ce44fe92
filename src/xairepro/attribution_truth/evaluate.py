"""Step truth_evaluate: a task's ground truth (LOO effects, LDS subsets' outputs from the retraining
shards) against every method's scores: LDS and LOO Spearman per explained test point, their mean ± std,
next to each method's time (in-process, the method alone) and peak memory (the job's, Snakemake
benchmark). Writes the task's summary CSV and a figure.

How much of the LOO truth is retraining noise is reported with it (`loo_reliability`): the mean Spearman
correlation between the LOO effects measured with two different seeds, raised to the reliability of their
S-seed mean by the Spearman-Brown formula (1 for a deterministic task). No method's LOO Spearman can be
expected above about its square root (`loo_ceiling`). `explained_accuracy` is the explained model's accuracy
on the explained test points (margin > 0; for the knowledge graph, P(true tail) > 1 / entities): a guard
that the model being explained has learnt something.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from xairepro.attribution_truth.metrics import lds, loo_effects, loo_spearman, spearman
from xairepro.attribution_truth.plan import retrainings
from xairepro.attribution_truth.task_io import plan_for
from xairepro.io import atomic_path, start_step, write_csv

COLUMNS = ["task", "method", "lds_mean", "lds_std", "loo_spearman_mean", "loo_spearman_std", "test_points",
           "lds_subsets", "lds_alpha", "loo_points", "loo_seeds", "loo_reliability", "loo_ceiling",
           "explained_accuracy", "agreement_with", "agreement", "seconds", "peak_mib"]
# Where our code and dattri compute the same quantity (the influence function: last layer here, whole model in
# dattri; the same model for the logistic regression), the Spearman agreement of their scores.
AGREEMENT = {"dattri_if": "if"}


def ground_truth(shards: list[str], plan, n_train: int) -> dict[str, np.ndarray]:
    """Outputs of every planned retraining by name, from the shard files (each must be there exactly once)."""
    out = {}
    for path in shards:
        with np.load(path) as f:
            out.update(zip(f["names"].tolist(), f["outputs"]))
    missing = [name for name, _, _ in retrainings(plan, n_train) if name not in out]
    if missing:
        raise ValueError(f"{len(missing)} planned retrainings are missing from {', '.join(shards)} "
                         f"(e.g. {missing[0]}): the shards were made with another plan; rerun truth_retrain")
    return out


def loo_reliability(full: np.ndarray, left_out: np.ndarray) -> float:
    """Spearman-Brown reliability of the seed-averaged LOO effects: the mean over test points and seed
    pairs of the Spearman correlation of two single-seed effect vectors, raised to S seeds."""
    from itertools import combinations

    per_seed = full[None] - left_out                  # (n_loo, S, n_test)
    n_seeds = per_seed.shape[1]
    if n_seeds < 2:
        return float("nan")
    if all(np.array_equal(per_seed[:, 0], per_seed[:, s]) for s in range(1, n_seeds)):
        return 1.0  # deterministic training
    rho = np.mean([spearman(per_seed[:, a, t], per_seed[:, b, t])
                   for a, b in combinations(range(n_seeds), 2) for t in range(per_seed.shape[2])])
    return float(n_seeds * rho / (1 + (n_seeds - 1) * rho)) if rho > -1 / (n_seeds - 1) else float("nan")


def peak_mib(benchmark: str | None) -> float:
    if not benchmark:
        return float("nan")
    with open(benchmark) as f:
        return float(next(csv.DictReader(f, delimiter="\t"))["max_rss"])


def evaluate(task: str, plan_settings: dict, shards: list[str], scores: dict[str, str],
             benchmarks: dict[str, str]) -> list[dict]:
    with np.load(next(iter(scores.values()))) as first:
        n_train, n_test, chance = int(first["n_train"]), int(first["n_test"]), float(first["chance"])
    plan = plan_for(n_train, n_test, plan_settings)
    truth = ground_truth(shards, plan, n_train)
    seeds = range(len(plan.loo_seeds))
    full = np.stack([truth[f"full/{k}"] for k in seeds])
    left_out = np.stack([[truth[f"loo/{i}/{k}"] for k in seeds] for i in plan.loo])
    effects, _ = loo_effects(full, left_out)
    reliability = loo_reliability(full, left_out)
    subset_outputs = np.stack([truth[f"lds/{m}"] for m in range(len(plan.subsets))])
    rows = []
    loaded = {}
    for method, path in scores.items():
        with np.load(path) as f:
            s, seconds, explained = f["scores"], float(f["seconds"]), f["model_outputs"]
        loaded[method] = s
        if not np.allclose(explained, full[0], rtol=1e-6, atol=1e-9):
            raise ValueError(f"{task}/{method}: the explained model's outputs differ from the full-data retraining "
                             f"with the same seed: the score and retrain steps did not train the same model")
        per_test_lds = lds(s, plan.subsets, subset_outputs)
        per_test_loo = loo_spearman(s, plan.loo, effects)
        rows.append({"task": task, "method": method,
                     "lds_mean": f"{per_test_lds.mean():.4f}", "lds_std": f"{per_test_lds.std(ddof=1):.4f}",
                     "loo_spearman_mean": f"{per_test_loo.mean():.4f}",
                     "loo_spearman_std": f"{per_test_loo.std(ddof=1):.4f}",
                     "test_points": len(plan.test), "lds_subsets": len(plan.subsets),
                     "lds_alpha": plan_settings["lds_alpha"], "loo_points": len(plan.loo), "loo_seeds": len(seeds),
                     "loo_reliability": f"{reliability:.3f}", "loo_ceiling": f"{np.sqrt(max(reliability, 0)):.3f}",
                     "explained_accuracy": f"{(full[0] > chance).mean():.3f}", "agreement_with": "", "agreement": "",
                     "seconds": f"{seconds:.4g}", "peak_mib": f"{peak_mib(benchmarks.get(method)):.0f}"})
    for row in rows:
        other = AGREEMENT.get(row["method"])
        if other in loaded:
            a, b = loaded[row["method"]], loaded[other]
            row["agreement_with"] = other
            row["agreement"] = f"{np.mean([spearman(a[:, t], b[:, t]) for t in range(a.shape[1])]):.4f}"
    return rows


def plot(rows: list[dict], title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [r["method"] for r in rows]
    x = np.arange(len(methods))
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(methods) + 2), 3.6))
    for offset, key, label in ((-0.2, "lds", "LDS"), (0.2, "loo_spearman", "LOO Spearman")):
        ax.bar(x + offset, [float(r[f"{key}_mean"]) for r in rows], 0.4,
               yerr=[float(r[f"{key}_std"]) for r in rows], capsize=3, label=label)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, methods, rotation=30, ha="right")
    ax.set_ylabel("Spearman correlation (mean ± sd over test points)")
    ax.set_title(f"{title}: attribution vs retraining")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--plan", required=True, help="the plan settings (JSON)")
    parser.add_argument("--shards", nargs="+", required=True)
    parser.add_argument("--scores", nargs="+", required=True, help="METHOD=scores.npz")
    parser.add_argument("--benchmarks", nargs="*", default=[], help="METHOD=benchmark.tsv of its score job")
    parser.add_argument("--out", required=True)
    parser.add_argument("--figure", required=True)
    args = parser.parse_args(argv)
    scores = dict(item.split("=", 1) for item in args.scores)
    benchmarks = {m: p for m, p in (item.split("=", 1) for item in args.benchmarks) if Path(p).exists()}
    rows = evaluate(args.task, json.loads(args.plan), args.shards, scores, benchmarks)
    write_csv(args.out, rows, COLUMNS)
    plot(rows, args.task, args.figure)


if __name__ == "__main__":
    main()
