"""Step 5: the combined 40%-checked table and whole-curve comparison of all models, and the
explanation time of each explainer (median and range over runs, from the explain step's timing
files; timings stay out of metrics files), and the README block of all of it (--markdown).

    python -m xairepro.rps_lje.report --tables cnn/debugging_40pct.csv ... --vs-paper cnn/curves_vs_paper.csv ... \
        --timings run0/explain_lje.timing.json ... --table results/rps_lje/debugging_40pct.csv \
        --times results/rps_lje/explain_times.csv --curves-vs-paper results/rps_lje/curves_vs_paper.csv
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from xairepro.io import atomic_path, start_step, write_csv
from xairepro.published import COMPARISON_COLUMNS

from .summarize import LABELS


def _pm(mean, std) -> str:
    return f"{float(mean):.3f} ± {float(std):.3f}" if str(std) not in ("", "nan") else f"{float(mean):.3f}"


def debug_times(paths: list[str]) -> pd.DataFrame:
    rows = [{"task": f"{Path(p).parents[2].name}/{Path(p).parents[1].name}",
             "seconds": float(pd.read_csv(p, sep="\t")["s"].iloc[-1])} for p in paths]
    return (pd.DataFrame(rows, columns=["task", "seconds"]).groupby("task", sort=False)["seconds"]
            .agg(["size", "median", "min", "max"]).reset_index())


def markdown(curves: pd.DataFrame, times: pd.DataFrame, debugging: pd.DataFrame) -> str:
    """The README's RPS-LJE results: the 40% table with the effect (gap to random), the whole curves
    next to the paper's, and the explanation times; every number from this run's files."""
    out = ["At 40% checked, mean ± std over runs; gap = accuracy minus the random order's in the same run. "
           "Paper: the authors' saved results (10 runs; IMDB 5; flips found of run 0 only).", "",
           "| task | order | accuracy | paper | gap vs random | paper gap | flips found | paper (run 0) |",
           "|---|---|---|---|---|---|---|---|"]
    at40 = curves[curves["checked_fraction"].astype(float).round(4) == 0.4]
    for _, r in at40.iterrows():
        task = f"{r['dataset']}/{r['model']} ({r['runs']} runs{'' if r['setup'] == 'paper setup' else ', stand-in'})"
        gap = "" if r["order"] == "random" else _pm(r["gap_vs_random_mean"], r["gap_vs_random_std"])
        paper_gap = "" if r["order"] == "random" or r["paper_gap_vs_random"] == "" else f"{float(r['paper_gap_vs_random']):+.3f}"
        paper = "" if r["paper_test_accuracy"] == "" else f"{float(r['paper_test_accuracy']):.3f}"
        out.append(f"| {task} | {LABELS.get(r['order'], r['order'])} | "
                   f"{_pm(r['test_accuracy_mean'], r['test_accuracy_std'])} | {paper} | "
                   f"{gap} | {paper_gap} | {_pm(r['flips_found_mean'], r['flips_found_std'])} | "
                   f"{r['paper_flips_found_run0']} |")
    out += ["", "Whole curves: test accuracy after fixing and retraining, ours (paper) at each checked fraction "
            "both have; stand-ins are set beside the curves of the task they stand in for.", ""]
    for (dataset, model), task in curves.groupby(["dataset", "model"], sort=False):
        fractions = sorted(task["checked_fraction"].astype(float).unique())
        out += [f"{dataset}/{model} (paper: {task['paper_task'].iloc[0]}):", "",
                "| order | " + " | ".join(f"{f:.0%}" for f in fractions) + " |", "|---|" + "---|" * len(fractions)]
        for order, rows in task.groupby("order", sort=False):
            cells = {float(r["checked_fraction"]): f"{float(r['test_accuracy_mean']):.3f}"
                     + ("" if r["paper_test_accuracy"] == "" else f" ({float(r['paper_test_accuracy']):.3f})")
                     for _, r in rows.iterrows()}
            out.append(f"| {LABELS.get(order, order)} | " + " | ".join(cells.get(f, "") for f in fractions) + " |")
        out.append("")
    out += ["Explanation time of all training points for all test points, seconds, median (min–max) over runs; "
            "peak RSS of the process:", "", "| task | explainer | seconds | peak RSS MB |", "|---|---|---|---|"]
    for _, r in times.iterrows():
        out.append(f"| {r['dataset']}/{r['model']} | {LABELS.get(r['explainer'], r['explainer'])} | "
                   f"{r['seconds_median']:.4f} ({r['seconds_min']:.4f}–{r['seconds_max']:.4f}) | {r['peak_rss_mb_max']:.0f} |")
    out += ["", "Wall time of one debugging job (rank, fix, retrain at every checkpoint; Snakemake benchmark files):",
            "", "| task | runs | seconds, median (min–max) |", "|---|---|---|"]
    for _, r in debugging.iterrows():
        out.append(f"| {r['task']} | {r['size']} | {r['median']:.0f} ({r['min']:.0f}–{r['max']:.0f}) |")
    return "\n".join(out) + "\n"


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", required=True)
    p.add_argument("--vs-paper", nargs="+", required=True, help="each task's curves_vs_paper.csv")
    p.add_argument("--curves-vs-paper", required=True)
    p.add_argument("--markdown", required=True, help="the README's RPS-LJE results block")
    p.add_argument("--debug-benchmarks", nargs="+", default=[],
                   help="Snakemake benchmark files of the rps_debug jobs (results/benchmarks/rps_lje/{dataset}/{model}/run*/debug.tsv)")
    p.add_argument("--timings", nargs="+", required=True, help=".../{dataset}/{model}/run*/explain_*.timing.json")
    p.add_argument("--table", required=True)
    p.add_argument("--times", required=True)
    args = p.parse_args(argv)
    rows = pd.concat([pd.read_csv(t, dtype=str, keep_default_na=False) for t in args.tables]).to_dict("records")
    write_csv(args.table, rows, COMPARISON_COLUMNS)
    curves = pd.concat([pd.read_csv(t, dtype=str, keep_default_na=False) for t in args.vs_paper])
    write_csv(args.curves_vs_paper, curves.to_dict("records"))
    timings = []
    for path in args.timings:
        run_dir = Path(path).parent
        timings.append({"dataset": run_dir.parents[1].name, "model": run_dir.parent.name,
                        **json.loads(Path(path).read_text())})
    times = (pd.DataFrame(timings).groupby(["dataset", "model", "explainer"], sort=False)
             .agg(seconds_median=("seconds", "median"), seconds_min=("seconds", "min"), seconds_max=("seconds", "max"),
                  peak_rss_mb_max=("peak_rss_mb", "max"), runs=("seconds", "size"))
             .reset_index().round(4))
    write_csv(args.times, times.to_dict("records"))
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(markdown(curves, times, debug_times(args.debug_benchmarks)))
    log.info("explain times:\n%s", times.to_string())


if __name__ == "__main__":
    main()
