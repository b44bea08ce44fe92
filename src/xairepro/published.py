"""Published values to compare against: src/xairepro/published_numbers.csv, one row per number with
its source (paper table/figure, or the authors' repository where the paper text was out of reach)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

KEYS = ("paper", "experiment", "dataset", "model", "metric")
# Columns of every method's paper-vs-ours table (the scorecard's input). ours_std and runs (the seed
# spread of a mean over runs) are optional: empty where a number comes from one run.
COMPARISON_COLUMNS = [*KEYS, "published", "ours", "ours_std", "runs", "source"]
TABLE = Path(__file__).with_name("published_numbers.csv")


@lru_cache(maxsize=1)
def rows() -> tuple[dict, ...]:
    with open(TABLE, newline="") as f:
        return tuple(csv.DictReader(f))


def lookup(paper: str, experiment: str, dataset: str, model: str, metric: str) -> dict | None:
    """The published row for these keys (published value, tolerance, source as strings), or None.
    tolerance is a number (|ours − published| allowed), "2se" (within the 95% t interval of our mean over
    runs, about two standard errors with many runs: the paper's value is a mean too), "2sd" (within twice our run-to-run std: the
    paper's value is one run), or empty (a reference point, e.g. of a whole curve, not a verdict)."""
    wanted = (paper, experiment, dataset, model, metric)
    for row in rows():
        if tuple(row[k] for k in KEYS) == wanted:
            return row
    return None
