"""Build the reproduction scorecard from the methods' comparison tables.

    python -m xairepro.scorecard.build OUT_CSV OUT_MD TABLE.csv [TABLE.csv ...]

Each TABLE is a method's comparison CSV (columns paper, experiment, dataset, model, metric, published,
ours, source). The scorecard has one row per number in src/xairepro/published_numbers.csv for the
methods that ran, with our value where a table has it and a verdict: "reproduced" when
|ours - published| <= tolerance, "off by X" otherwise, "not run" when no table has it. Rows of the
tables with no published counterpart (stand-in datasets, numbers the papers do not give) follow with
the verdict "no published value".
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from xairepro.io import atomic_path, start_step, write_csv
from xairepro.published import KEYS, rows as published_rows

COLUMNS = [*KEYS, "published", "ours", "tolerance", "verdict", "source"]


def verdict(published: str, ours: str, tolerance: str) -> str:
    if ours == "":
        return "not run"
    if published == "":
        return "no published value"
    off = float(ours) - float(published)
    return "reproduced" if abs(off) <= float(tolerance) else f"off by {off:+.3g}"


def build(tables: list[Path]) -> list[dict]:
    ours: dict[tuple, dict] = {}
    for table in tables:
        with open(table, newline="") as f:
            for row in csv.DictReader(f):
                ours[tuple(row[k] for k in KEYS)] = row
    papers = {key[0] for key in ours}
    out = []
    for pub in published_rows():
        if pub["paper"] not in papers:
            continue
        key = tuple(pub[k] for k in KEYS)
        mine = ours.pop(key, {})
        out.append({**{k: pub[k] for k in KEYS}, "published": pub["published"], "ours": mine.get("ours", ""),
                    "tolerance": pub["tolerance"],
                    "verdict": verdict(pub["published"], mine.get("ours", ""), pub["tolerance"]),
                    "source": pub["source"]})
    for key, mine in ours.items():
        out.append({**dict(zip(KEYS, key)), "published": "", "ours": mine["ours"], "tolerance": "",
                    "verdict": "no published value", "source": mine.get("source", "")})
    return out


def markdown(rows: list[dict]) -> str:
    head = ["paper", "experiment", "dataset", "model", "metric", "published", "ours", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ours = row["ours"]
        if ours:
            ours = f"{float(ours):.4g}"
        lines.append("| " + " | ".join([*(row[k] for k in head[:6]), ours, row["verdict"]]) + " |")
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("reproduced", "not run", "no published value")}
    off = sum(r["verdict"].startswith("off by") for r in rows)
    summary = (f"{counts['reproduced']} reproduced, {off} off, {counts['not run']} not run, "
               f"{counts['no published value']} without a published value")
    return summary + "\n\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_csv", type=Path)
    parser.add_argument("out_md", type=Path)
    parser.add_argument("tables", type=Path, nargs="*")
    args = parser.parse_args(argv)
    log = start_step("xairepro.scorecard.build")
    rows = build(args.tables)
    write_csv(args.out_csv, rows, COLUMNS)
    with atomic_path(args.out_md) as tmp:
        tmp.write_text(markdown(rows))
    log.info("scorecard: %d rows from %d tables", len(rows), len(args.tables))


if __name__ == "__main__":
    main()
