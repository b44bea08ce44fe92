"""Step 4: the debugging curves of one task over runs, compared with the paper's whole curves.

    python -m xairepro.rps_lje.summarize --debugging run0/debugging.csv run1/... --model cnn \
        --dataset digits --curves curves.csv --vs-paper curves_vs_paper.csv --figure debugging.png \
        --table debugging_40pct.csv

- curves: per order and checked fraction, test accuracy after fixing and fraction of flips found, mean
  and std over runs, and the gap to the random order of the same run (mean and std of the paired gap);
- vs-paper: the same at every checked fraction where the paper has a value (the authors' saved curves,
  `debugging_curve` rows of src/xairepro/published_numbers.csv), with the paper's accuracy and gap;
- figure: ours (solid, ± std) and the paper (dashed) on the same axes;
- table: the 40%-checked comparison rows for the scorecard, mean with its std and number of runs, and
  the gap to random: the effect the paper claims, judged against our seed spread.
A stand-in dataset (digits for CIFAR, SST-2 for IMDB) is compared with the paper's curves for the
task it stands in for, for reference only: its scorecard rows carry no published value.
"""
from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from xairepro.io import atomic_path, start_step, write_csv  # noqa: E402
from xairepro.published import COMPARISON_COLUMNS, rows as published_rows  # noqa: E402

from .train import MODELS, PAPER_DATASET, STAND_IN  # noqa: E402

LABELS = {"lje": "RPS-LJE", "rps_l2": "RPS-l2", "if": "Influence function", "loss": "training loss (baseline)",
          "random": "random"}
# Where the authors' saved curves have points: accuracy at 5%..40% (networks) or 5%..100% (XGBoost);
# flips found of run 0 at 5%..40%. XGBoost has no RPS-l2 in the paper.
PAPER_FRACTIONS = {"cnn": np.round(np.arange(1, 9) * 0.05, 2), "rnn": np.round(np.arange(1, 9) * 0.05, 2),
                   "xgboost": np.round(np.arange(1, 21) * 0.05, 2)}
PAPER_ORDERS = {"cnn": ("lje", "rps_l2", "if", "random"), "rnn": ("lje", "rps_l2", "if", "random"),
                "xgboost": ("lje", "if", "random")}
PAPER_TASK = {"digits": "cifar-horse-vs-car", "sst2": "imdb"}  # the paper task a stand-in is compared with


def paper_dataset(dataset: str) -> str:
    return PAPER_TASK.get(dataset) or PAPER_DATASET[dataset]


def published_curves(dataset: str, model: str) -> pd.DataFrame:
    """The paper's curves of a task (its paper dataset), one row per (order, checked_fraction) with
    test_accuracy and flips_found_run0; every point of the authors' grid must be there."""
    task = paper_dataset(dataset)
    values = {r["metric"]: float(r["published"]) for r in published_rows()
              if (r["paper"], r["experiment"], r["dataset"], r["model"]) == ("rps_lje", "debugging_curve", task, model)}
    rows, missing = [], []
    for order in PAPER_ORDERS[model]:
        for fraction in PAPER_FRACTIONS[model]:
            accuracy = values.get(f"test_accuracy_{order}@{fraction:.2f}")
            flips = values.get(f"flips_found_run0_{order}@{fraction:.2f}")
            if accuracy is None:
                missing.append(f"test_accuracy_{order}@{fraction:.2f}")
            if flips is None and fraction <= 0.4:
                missing.append(f"flips_found_run0_{order}@{fraction:.2f}")
            rows.append({"order": order, "checked_fraction": float(fraction), "test_accuracy": accuracy,
                         "flips_found_run0": flips if fraction <= 0.4 else None})
    if missing:
        raise ValueError(f"src/xairepro/published_numbers.csv lacks the paper's {task}/{model} debugging_curve "
                         f"points {', '.join(missing)}")
    return pd.DataFrame(rows)


def curves(debugging: pd.DataFrame) -> pd.DataFrame:
    """Mean/std over runs per order and fraction, and the paired gap of test accuracy to random."""
    data = debugging.copy()
    data["checked_fraction"] = data["checked_fraction"].round(4)
    if "random" in set(data["order"]):
        random = data[data["order"] == "random"].set_index(["run", "checked_fraction"])["test_accuracy"]
        data["gap_vs_random"] = data["test_accuracy"].to_numpy() - random.reindex(
            pd.MultiIndex.from_frame(data[["run", "checked_fraction"]])).to_numpy()
    else:
        data["gap_vs_random"] = np.nan
    stats = data.groupby(["order", "checked_fraction"], sort=False)[
        ["test_accuracy", "gap_vs_random", "flips_found"]].agg(["mean", "std"])
    stats.columns = [f"{a}_{b}" for a, b in stats.columns]
    stats["runs"] = data.groupby(["order", "checked_fraction"], sort=False)["run"].nunique()
    return stats.reset_index().round(6)


def _blank(value):
    return "" if pd.isna(value) else value


def vs_paper(table: pd.DataFrame, paper: pd.DataFrame, dataset: str, model: str) -> list[dict]:
    """Ours next to the paper at every fraction the paper has and we retrained at; orders the paper
    did not run (the loss baseline; RPS-l2 on XGBoost) with empty paper columns."""
    random = paper[paper["order"] == "random"].set_index("checked_fraction")["test_accuracy"]
    paper = paper.rename(columns={"test_accuracy": "test_accuracy_paper"})
    merged = table[table["checked_fraction"].isin(random.index)].merge(
        paper, on=["order", "checked_fraction"], how="left")
    rows = []
    for _, r in merged.iterrows():
        if pd.isna(r["test_accuracy_mean"]):
            continue
        rows.append({"dataset": dataset, "model": model, "setup": STAND_IN.get(dataset, "paper setup"),
                     "paper_task": paper_dataset(dataset), "order": r["order"],
                     "checked_fraction": r["checked_fraction"], "runs": int(r["runs"]),
                     "test_accuracy_mean": r["test_accuracy_mean"], "test_accuracy_std": r["test_accuracy_std"],
                     "paper_test_accuracy": _blank(r["test_accuracy_paper"]),
                     "gap_vs_random_mean": r["gap_vs_random_mean"], "gap_vs_random_std": r["gap_vs_random_std"],
                     "paper_gap_vs_random": _blank(round(r["test_accuracy_paper"] - random[r["checked_fraction"]], 4)),
                     "flips_found_mean": r["flips_found_mean"], "flips_found_std": r["flips_found_std"],
                     "paper_flips_found_run0": _blank(r["flips_found_run0"])})
    return rows


def plot(table: pd.DataFrame, title: str, path: str, labels: dict = LABELS, paper: pd.DataFrame | None = None,
         paper_label: str = "paper") -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {}
    for order, group in table.groupby("order", sort=False):
        for ax, metric in zip(axes, ("test_accuracy", "flips_found")):
            group = group[group[f"{metric}_mean"].notna()]
            x, mean, std = group["checked_fraction"], group[f"{metric}_mean"], group[f"{metric}_std"].fillna(0)
            line, = ax.plot(x, mean, marker=".", label=labels.get(order, order), color=colours.get(order))
            colours[order] = line.get_color()
            ax.fill_between(x, mean - std, mean + std, alpha=0.15, color=colours[order])
    if paper is not None:
        for order, group in paper.groupby("order", sort=False):
            colour = colours.get(order, "grey")
            axes[0].plot(group["checked_fraction"], group["test_accuracy"], linestyle="--", color=colour, alpha=0.8,
                         label=f"{labels.get(order, order)}, {paper_label}")
            run0 = group[group["flips_found_run0"].notna()]
            axes[1].plot(run0["checked_fraction"], run0["flips_found_run0"], linestyle="--", color=colour, alpha=0.8)
    axes[0].set_ylabel("test accuracy after fixing (retrained)")
    axes[1].set_ylabel("fraction of flipped labels found")
    for ax in axes:
        ax.set_xlabel("fraction of training data checked")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if paper is not None:
        axes[1].plot([], [], linestyle="--", color="grey", label=f"dashed: {paper_label} (run 0)")
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def table_40pct(table: pd.DataFrame, dataset: str, model: str) -> list[dict]:
    at40 = table[(table["checked_fraction"] - 0.4).abs() < 1e-9]
    if at40.empty or at40["test_accuracy_mean"].isna().any():
        raise ValueError("the debugging step did not retrain at 40% checked (checked_step must divide 0.4)")
    stand_in = STAND_IN.get(dataset)
    task = dataset if stand_in else PAPER_DATASET[dataset]  # cifar-10 -> its horse-vs-car task
    published = {r["metric"]: r for r in published_rows()
                 if (r["paper"], r["dataset"], r["model"]) == ("rps_lje", task, model)
                 and r["experiment"] in ("debugging_40pct", "debugging_gap_40pct")}
    rows = []
    for metric, column, experiment in (("test_accuracy", "test_accuracy", "debugging_40pct"),
                                       ("flips_found", "flips_found", "debugging_40pct"),
                                       ("test_accuracy_gap", "gap_vs_random", "debugging_gap_40pct")):
        for _, row in at40.iterrows():
            if metric == "test_accuracy_gap" and row["order"] == "random":
                continue
            name = f"{metric}_{row['order']}"
            pub = None if stand_in else published.get(name)
            source = (f"{stand_in}: no published value" if stand_in else pub["source"] if pub else "no published value")
            rows.append({"paper": "rps_lje", "experiment": experiment, "model": model, "dataset": task,
                         "metric": name, "published": pub["published"] if pub else "",
                         "ours": f"{row[f'{column}_mean']:.4f}", "ours_std": f"{row[f'{column}_std']:.4f}",
                         "runs": int(row["runs"]), "source": f"{source}; ours: mean ± std of {int(row['runs'])} runs"})
    return rows


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debugging", nargs="+", required=True, help="debugging.csv of each run")
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--dataset", required=True)
    p.add_argument("--curves", required=True)
    p.add_argument("--vs-paper", required=True)
    p.add_argument("--figure", required=True)
    p.add_argument("--table", required=True)
    args = p.parse_args(argv)
    debugging = pd.concat([pd.read_csv(path) for path in args.debugging], ignore_index=True)
    table = curves(debugging)
    write_csv(args.curves, table.to_dict("records"))
    paper = published_curves(args.dataset, args.model)
    write_csv(args.vs_paper, vs_paper(table, paper, args.dataset, args.model))
    runs = debugging["run"].nunique()
    stand_in = STAND_IN.get(args.dataset)
    title = f"Dataset debugging: {args.model} on {stand_in or args.dataset} ({runs} runs)"
    plot(table, title, args.figure, paper=paper,
         paper_label=f"paper on {paper_dataset(args.dataset)}" + (" (other data)" if stand_in else ""))
    rows = table_40pct(table, args.dataset, args.model)
    write_csv(args.table, rows, COMPARISON_COLUMNS)
    log.info("40%% table: %s", rows)


if __name__ == "__main__":
    main()
