"""Combine one comparison table per seed into the table the scorecard reads: for every number, the mean
over the seeds, its sample std and the number of seeds (columns ours, ours_std, runs).

    python -m xairepro.scorecard.seeds OUT.csv SEED0.csv SEED1.csv ...

Every input must hold the same numbers (the same keys): a seed that is missing one is an error, not a
mean over fewer seeds. With one input, ours_std stays empty and runs is 1, so the scorecard says the
number rests on one run."""
from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

from xairepro.io import start_step, write_csv
from xairepro.published import COMPARISON_COLUMNS, KEYS


def combine(tables: list[list[dict]], names: list[str] | None = None) -> list[dict]:
    names = names or [f"table {i}" for i in range(len(tables))]
    if not tables:
        raise ValueError("no per-seed tables to combine")
    keyed = [{tuple(r[k] for k in KEYS): r for r in table} for table in tables]
    first = keyed[0]
    for name, table in zip(names[1:], keyed[1:]):
        if set(table) != set(first):
            missing = sorted(set(first) ^ set(table))
            raise ValueError(f"{name} does not hold the same numbers as {names[0]}: {missing[:3]}")
    out = []
    for key, row in first.items():
        values = [float(table[key]["ours"]) for table in keyed]
        out.append({**{k: row[k] for k in KEYS}, "published": row["published"],
                    "ours": f"{statistics.fmean(values):.6g}",
                    "ours_std": f"{statistics.stdev(values):.6g}" if len(values) > 1 else "",
                    "runs": str(len(values)), "source": row["source"]})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("tables", type=Path, nargs="+")
    args = parser.parse_args(argv)
    log = start_step("xairepro.scorecard.seeds")
    tables = []
    for path in args.tables:
        with open(path, newline="") as f:
            tables.append(list(csv.DictReader(f)))
    rows = combine(tables, [str(p) for p in args.tables])
    write_csv(args.out, rows, COMPARISON_COLUMNS)
    log.info("%d numbers, mean over %d seeds", len(rows), len(tables))


if __name__ == "__main__":
    main()
