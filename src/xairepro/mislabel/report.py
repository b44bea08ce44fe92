"""Step 4 of the mislabel benchmark: the tasks' summaries in one table (CSV and Markdown), and the
area-under-curve rows for the scorecard (no paper has these numbers: verdict "no published value").

    python -m xairepro.mislabel.report --tables german-credit/xgboost/summary.csv ... \
        --summary results/mislabel/summary.csv --markdown results/mislabel/summary.md \
        --comparison results/mislabel/comparison.csv
"""
from __future__ import annotations

import argparse

import pandas as pd

from xairepro.io import atomic_path, start_step, write_csv
from xairepro.published import COMPARISON_COLUMNS


def markdown(summary: pd.DataFrame) -> str:
    head = ["task", "method", "flips found AUC", "flips found at 20%", "flips found at 40%", "accuracy at 40%"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cell = lambda row, name: f"{row[f'{name}_mean']:.3f} ± {row[f'{name}_std']:.3f}"
    for _, row in summary.iterrows():
        task = f"{row['dataset']} / {row['model']} ({row['runs']} runs)"
        lines.append(f"| {task} | {row['method']} | {cell(row, 'flips_found_auc')} | {cell(row, 'flips_found_20pct')} "
                     f"| {cell(row, 'flips_found_40pct')} | {cell(row, 'test_accuracy_40pct')} |")
    return "\n".join(lines) + "\n"


def comparison(summary: pd.DataFrame) -> list[dict]:
    return [{"paper": "mislabel", "experiment": "cross_method_debugging", "dataset": row["dataset"],
             "model": row["model"], "metric": f"flips_found_auc_{row['order']}", "published": "",
             "ours": f"{row['flips_found_auc_mean']:.3f}", "ours_std": f"{row['flips_found_auc_std']:.3f}",
             "runs": int(row["runs"]),
             "source": f"ours, no paper has this comparison ({row['setup']}); mean of {row['runs']} runs"}
            for _, row in summary.iterrows()]


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", required=True, help="each task's summary.csv")
    p.add_argument("--summary", required=True)
    p.add_argument("--markdown", required=True)
    p.add_argument("--comparison", required=True)
    args = p.parse_args(argv)
    summary = pd.concat([pd.read_csv(t) for t in args.tables], ignore_index=True)
    write_csv(args.summary, summary.to_dict("records"))
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(markdown(summary))
    write_csv(args.comparison, comparison(summary), COMPARISON_COLUMNS)
    log.info("summary:\n%s", markdown(summary))


if __name__ == "__main__":
    main()
