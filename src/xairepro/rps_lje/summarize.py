"""Step 4: mean ± std debugging curves over runs (CSV + one PNG per model, like the paper's figures)
and the 40%-checked table, ours vs published.

    python -m xairepro.rps_lje.summarize --debugging run0/debugging.csv run1/... --model cnn \
        --dataset digits --curves curves.csv --figure debugging.png --table debugging_40pct.csv

Published values come from xairepro.published (paper's dataset only); a stand-in dataset (digits for
CIFAR, SST-2 for IMDB) gets an empty `published` and says so in `source`.
"""
from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from xairepro.io import atomic_path, start_step, write_csv  # noqa: E402
from xairepro.published import COMPARISON_COLUMNS, lookup  # noqa: E402

from .train import MODELS, PAPER_DATASET, STAND_IN  # noqa: E402

LABELS = {"lje": "RPS-LJE", "rps_l2": "RPS-l2", "if": "Influence function", "random": "random"}


def curves(debugging: pd.DataFrame) -> pd.DataFrame:
    stats = debugging.groupby(["order", "checked_fraction"])[["test_accuracy", "flips_found"]].agg(["mean", "std"])
    stats.columns = [f"{a}_{b}" for a, b in stats.columns]
    return stats.reset_index().fillna(0.0).round(6)


def plot(table: pd.DataFrame, title: str, path: str, labels: dict = LABELS) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for order, group in table.groupby("order", sort=False):
        for ax, metric in zip(axes, ("test_accuracy", "flips_found")):
            x, mean, std = group["checked_fraction"], group[f"{metric}_mean"], group[f"{metric}_std"]
            ax.plot(x, mean, label=labels[order])
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    axes[0].set_ylabel("test accuracy after fixing")
    axes[1].set_ylabel("fraction of flipped labels found")
    for ax in axes:
        ax.set_xlabel("fraction of training data checked")
        ax.grid(alpha=0.3)
    axes[1].legend()
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def table_40pct(table: pd.DataFrame, dataset: str, model: str, runs: int) -> list[dict]:
    at40 = table[(table["checked_fraction"] - 0.4).abs() < 1e-9]
    if at40.empty:
        raise ValueError("the debugging checkpoints do not include 40% (use a step that divides 0.4)")
    stand_in = STAND_IN.get(dataset)
    rows = []
    for metric in ("test_accuracy", "flips_found"):
        for _, row in at40.iterrows():
            name = f"{metric}_{row['order']}"
            published = None if stand_in else lookup("rps_lje", "debugging_40pct", PAPER_DATASET[dataset], model, name)
            source = (f"{stand_in}: no published value" if stand_in else
                      (published["source"] if published else "no published value"))
            rows.append({"paper": "rps_lje", "experiment": "debugging_40pct", "model": model,
                         "dataset": dataset if stand_in else PAPER_DATASET[dataset],  # cifar-10 -> its horse-vs-car task
                         "metric": name, "published": published["published"] if published else "",
                         "ours": f"{row[f'{metric}_mean']:.3f}",
                         "source": f"{source}; ours: mean of {runs} runs"})
    return rows


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debugging", nargs="+", required=True, help="debugging.csv of each run")
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--dataset", required=True)
    p.add_argument("--curves", required=True)
    p.add_argument("--figure", required=True)
    p.add_argument("--table", required=True)
    args = p.parse_args(argv)
    debugging = pd.concat([pd.read_csv(path) for path in args.debugging], ignore_index=True)
    table = curves(debugging)
    write_csv(args.curves, table.to_dict("records"))
    runs = debugging["run"].nunique()
    title = f"Dataset debugging: {args.model} on {STAND_IN.get(args.dataset, args.dataset)} ({runs} runs)"
    plot(table, title, args.figure)
    rows = table_40pct(table, args.dataset, args.model, runs)
    write_csv(args.table, rows, COMPARISON_COLUMNS)
    log.info("40%% table: %s", rows)


if __name__ == "__main__":
    main()
