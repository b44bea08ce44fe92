"""Build the reproduction scorecard from the methods' comparison tables.

    python -m xairepro.scorecard.build OUT_CSV OUT_MD TABLE.csv [TABLE.csv ...]

Each TABLE is a method's comparison CSV (columns paper, experiment, dataset, model, metric, published,
ours, and optionally ours_std and runs, source). The scorecard has one row per number in
src/xairepro/published_numbers.csv with a tolerance, for the methods that ran, with our value where a
table has it and a verdict. A fixed tolerance (e.g. 5 points) is compared with our whole seed interval
(the 95% Student-t interval of our mean): "reproduced" when all of it is within the tolerance, "off by X" when none
of it is, "inconclusive" when it straddles the band, and "one run, no verdict: ..." when the number rests on one
seed (one run cannot say reproduced or off; the row says where it fell). "not run" when no table has it. A
tolerance of "2se" or "2sd" is our seed spread (the 95% t interval of our mean: 4.3 standard errors with 3 runs,
2.8 with 5, about 2 with many; or twice the run-to-run std where the paper's value is one run): the verdict says "one run" when there is no
spread, and for a gap (an effect the paper claims, metric `*_gap_*`) "inconclusive" when our interval holds the
paper's effect but is as wide as it. The tolerance leaves out the paper's own standard error (rarely
published), so it leans towards "off". Rows of the tables with no counterpart in published_numbers.csv
follow: with the value a table gives from a secondary source (e.g. ExPLAIND's EPK accuracy) the verdict
"secondary value, no verdict", else "no published value" (stand-in datasets, numbers the papers do not give);
published reference points without a tolerance (whole curves) are not scorecard rows.
"""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from xairepro.io import atomic_path, start_step, write_csv
from xairepro.published import KEYS, rows as published_rows

COLUMNS = [*KEYS, "published", "ours", "ours_std", "runs", "tolerance", "verdict", "source"]
SPREAD_TOLERANCES = ("2se", "2sd")


# 97.5% quantiles of Student's t by degrees of freedom: with 3 seeds, mean ± 2 SE would cover only ~82%.
T975 = {1: 12.71, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        15: 2.131, 20: 2.086, 30: 2.042}


def mean_interval(std: float, n: int) -> float:
    """Half-width of the 95% t interval of a mean of n runs with sample std `std`."""
    df = n - 1
    t = T975[max(k for k in T975 if k <= df)] if df <= 30 else 1.96
    return t * std / math.sqrt(n)


def fixed_tolerance_verdict(off: float, tolerance: float, half: float | None) -> str:
    """Verdict against a fixed tolerance (e.g. ±5 points of a percentage), using our seed spread `half`
    (the 95% t interval of our mean; None for one run): "reproduced" when even the far end of our
    interval is within the tolerance, "off" when even its near end is outside, "inconclusive" between.
    The paper's own run-to-run noise is not in it (rarely published), so "off" leans towards false alarms."""
    if half is None:
        return "one run, no verdict: " + (f"within ±{tolerance:g}" if abs(off) <= tolerance else f"off by {off:+.3g}")
    if abs(off) + half <= tolerance:
        return f"reproduced (±{half:.2g})"
    if abs(off) - half > tolerance:
        return f"off by {off:+.3g} (±{half:.2g})"
    return f"inconclusive: {off:+.3g} ± {half:.2g} straddles the tolerance ±{tolerance:g}"


def verdict(published: str, ours: str, tolerance: str, ours_std: str = "", runs: str = "", metric: str = "") -> str:
    if ours == "":
        return "not run"
    if published == "":
        return "no published value"
    off = float(ours) - float(published)
    n = int(runs) if runs not in ("", None) else 1
    one_run = n < 2 or ours_std in ("", None) or math.isnan(float(ours_std))
    if tolerance not in SPREAD_TOLERANCES:
        return fixed_tolerance_verdict(off, float(tolerance), None if one_run else mean_interval(float(ours_std), n))
    if one_run:
        return f"one run, no verdict: off by {off:+.3g}"
    half = mean_interval(float(ours_std), n) if tolerance == "2se" else 2 * float(ours_std)
    if abs(off) > half:  # our interval excludes the paper's value: a verdict however wide it is
        return f"off by {off:+.3g} (±{half:.2g})"
    if "_gap_" in f"_{metric}" and half >= abs(float(published)):
        return f"inconclusive: our ±{half:.2g} ≥ the paper's effect {float(published):+.3g}"
    return f"reproduced (±{half:.2g})"


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
        if pub["tolerance"] == "":  # a reference point (a whole curve's point): not a scorecard row
            ours.pop(tuple(pub[k] for k in KEYS), None)
            continue
        key = tuple(pub[k] for k in KEYS)
        mine = ours.pop(key, {})
        spread = {"ours_std": mine.get("ours_std", ""), "runs": mine.get("runs", "")}
        out.append({**{k: pub[k] for k in KEYS}, "published": pub["published"], "ours": mine.get("ours", ""),
                    **spread, "tolerance": pub["tolerance"],
                    "verdict": verdict(pub["published"], mine.get("ours", ""), pub["tolerance"], **spread,
                                       metric=pub["metric"]),
                    "source": pub["source"]})
    for key, mine in ours.items():
        secondary = mine.get("published", "") not in ("", None)
        out.append({**dict(zip(KEYS, key)), "published": mine.get("published", "") if secondary else "",
                    "ours": mine["ours"], "ours_std": mine.get("ours_std", ""), "runs": mine.get("runs", ""),
                    "tolerance": "", "verdict": "secondary value, no verdict" if secondary else "no published value",
                    "source": mine.get("source", "")})
    return out


def markdown(rows: list[dict]) -> str:
    head = ["paper", "experiment", "dataset", "model", "metric", "published", "ours", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ours = row["ours"]
        if ours:
            ours = f"{float(ours):.4g}"
            if row.get("ours_std") not in ("", None) and not math.isnan(float(row["ours_std"])):
                ours += f" ± {float(row['ours_std']):.2g} ({row['runs']} runs)"
        lines.append("| " + " | ".join([*(row[k] for k in head[:6]), ours, row["verdict"]]) + " |")
    count = lambda prefix: sum(r["verdict"].startswith(prefix) for r in rows)
    summary = (f"{count('reproduced')} reproduced, {count('off by')} off, {count('inconclusive')} inconclusive "
               f"over seeds; {count('one run')} from one run (no spread), {count('not run')} not run, "
               f"{count('secondary value')} beside a secondary value, {count('no published value')} without a "
               "published value")
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
