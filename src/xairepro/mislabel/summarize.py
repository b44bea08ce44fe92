"""Step 3 of the mislabel benchmark, per task: every order's debugging curves (mean ± std over runs),
one plot, and the task's rows of the summary table.

    python -m xairepro.mislabel.summarize --debugging rps_lje/.../run0/debugging.csv mislabel/.../run0/debugging.csv ... \
        --dataset german-credit --model xgboost --curves curves.csv --figure debugging.png --table summary.csv

Summary per order: area under the flips-found curve (fraction of flips found vs fraction checked,
trapezoid over the checkpoints; random ≈ 0.5, perfect 1 − flip fraction / 2), flips found and test
accuracy after fixing at 20% and 40% checked, each mean and std over runs.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from xairepro.io import start_step, write_csv
from xairepro.rps_lje.summarize import LABELS as RPS_LABELS, curves, plot
from xairepro.rps_lje.train import STAND_IN

LABELS = {**RPS_LABELS, "explaind": "ExPLAIND self-influence", "dknn": "DkNN neighbour disagreement"}
ORDER = ["lje", "rps_l2", "if", "explaind", "dknn", "loss", "random"]
CHECKPOINTS = (0.2, 0.4)  # in every checked_step the schema allows


def rank(order: str) -> int:
    """Position of an order in tables and legends (unknown names last)."""
    return ORDER.index(order) if order in ORDER else len(ORDER)


def area_under_flips_found(run: pd.DataFrame) -> float:
    run = run.sort_values("checked_fraction")
    x, y = run["checked_fraction"].to_numpy(), run["flips_found"].to_numpy()
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def summary(debugging: pd.DataFrame, dataset: str, model: str) -> list[dict]:
    missing = set(CHECKPOINTS) - set(debugging["checked_fraction"].round(4))
    if missing:
        raise ValueError(f"the debugging checkpoints lack {sorted(missing)} (use a checked_step that divides 0.2)")
    rows = []
    for order in sorted(debugging["order"].unique(), key=rank):
        runs = debugging[debugging["order"] == order]
        per_run = {"flips_found_auc": runs.groupby("run").apply(area_under_flips_found, include_groups=False)}
        for c in CHECKPOINTS:
            at = runs[(runs["checked_fraction"] - c).abs() < 1e-9].set_index("run")
            per_run[f"flips_found_{round(c * 100)}pct"] = at["flips_found"]
            per_run[f"test_accuracy_{round(c * 100)}pct"] = at["test_accuracy"]
        row = {"dataset": dataset, "model": model, "setup": STAND_IN.get(dataset, "paper setup"),
               "order": order, "method": LABELS.get(order, order), "runs": int(runs["run"].nunique())}
        for name, values in per_run.items():
            row[f"{name}_mean"] = round(float(values.mean()), 4)
            row[f"{name}_std"] = round(float(values.std(ddof=0)), 4)
        rows.append(row)
    return rows


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debugging", nargs="+", required=True, help="debugging.csv files of every run and order")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--curves", required=True)
    p.add_argument("--figure", required=True)
    p.add_argument("--table", required=True)
    args = p.parse_args(argv)
    debugging = pd.concat([pd.read_csv(path) for path in args.debugging], ignore_index=True)
    duplicated = debugging.duplicated(["run", "order", "checked_fraction"])
    if duplicated.any():
        raise ValueError(f"orders given twice for the same run: {sorted(debugging[duplicated]['order'].unique())}")
    table = curves(debugging).sort_values("order", key=lambda o: o.map(rank), kind="stable")
    write_csv(args.curves, table.to_dict("records"))
    runs = debugging["run"].nunique()
    plot(table, f"Mislabel benchmark: {args.model} on {STAND_IN.get(args.dataset, args.dataset)} ({runs} runs)",
         args.figure, LABELS)
    rows = summary(debugging, args.dataset, args.model)
    write_csv(args.table, rows)
    log.info("summary: %s", rows)


if __name__ == "__main__":
    main()
