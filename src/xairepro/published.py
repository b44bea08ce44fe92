"""Published values to compare against: src/xairepro/published_numbers.csv, one row per number with
its source (paper table/figure, or the authors' repository where the paper text was out of reach)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

KEYS = ("paper", "experiment", "dataset", "model", "metric")
# Columns of every method's paper-vs-ours table (the scorecard's input).
COMPARISON_COLUMNS = [*KEYS, "published", "ours", "source"]
TABLE = Path(__file__).with_name("published_numbers.csv")


@lru_cache(maxsize=1)
def rows() -> tuple[dict, ...]:
    with open(TABLE, newline="") as f:
        return tuple(csv.DictReader(f))


def lookup(paper: str, experiment: str, dataset: str, model: str, metric: str) -> dict | None:
    """The published row for these keys (published value, tolerance, source as strings), or None."""
    wanted = (paper, experiment, dataset, model, metric)
    for row in rows():
        if tuple(row[k] for k in KEYS) == wanted:
            return row
    return None
