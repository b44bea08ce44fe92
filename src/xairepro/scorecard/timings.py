"""Measured time and memory of every step of the last pipeline run, from Snakemake's benchmark files
(results/benchmarks/<method>/.../<step>.tsv), as the Markdown the README cites:

    python -m xairepro.scorecard.timings results/benchmarks OUT.md

One row per method and step: jobs, summed and largest wall time, largest peak resident memory. A file
left by a step that no longer exists is counted too: start from a clean results/ for a README run."""
from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from pathlib import Path

from xairepro.io import atomic_path


def _number(value: str) -> float:
    return float(value) if value not in ("", "-", "NA") else float("nan")


def benchmark_rows(path: Path) -> list[dict]:
    """One benchmark file's rows (one per repeat): wall seconds, peak resident MB and CPU seconds."""
    with open(path, newline="") as f:
        return [{"s": float(row["s"]), "max_rss_mb": _number(row["max_rss"]),
                 "cpu_s": _number(row.get("cpu_time", ""))} for row in csv.DictReader(f, delimiter="\t")]


def rows(benchmarks: Path) -> list[dict]:
    steps: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for path in sorted(benchmarks.rglob("*.tsv")):
        for row in benchmark_rows(path):
            step = (path.relative_to(benchmarks).parts[0], re.sub(r"\d+", "N", path.stem))
            steps[step].append((row["s"], row["max_rss_mb"]))
    if not steps:
        raise ValueError(f"no benchmark files under {benchmarks}: run the pipeline first")
    return [{"method": method, "step": step, "jobs": len(runs), "total_s": sum(s for s, _ in runs),
             "max_s": max(s for s, _ in runs), "max_rss_mb": max(r for _, r in runs)}
            for (method, step), runs in sorted(steps.items())]


SEED = re.compile(r"(?<![a-z])(seed|run)(\d+)")


def past_second_seed(benchmarks: Path) -> tuple[int, float, float]:
    """(jobs, wall seconds, CPU seconds) of the benchmark files of a third or later seed or run of the same step:
    the files whose path differs from another's only in a seed<N>/run<N> number, ranked by that number (the
    cost of seeds beyond two, i.e. what a default with two seeds per number would save)."""
    groups: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for path in sorted(benchmarks.rglob("*.tsv")):
        rel = str(path.relative_to(benchmarks))
        numbers = [int(m.group(2)) for m in SEED.finditer(rel)]
        if numbers:
            rows_ = benchmark_rows(path)
            groups[SEED.sub(r"\1N", rel)].append((numbers[-1], sum(r["s"] for r in rows_),
                                                   sum(r["cpu_s"] for r in rows_)))
    extra = [run for runs in groups.values() for run in sorted(runs)[2:]]
    return len(extra), sum(r[1] for r in extra), sum(r[2] for r in extra)


def make_run(benchmarks: Path) -> str:
    """The sentence on the last `make run` (results/benchmarks/make_run.txt: seconds, cores, "i of n steps")."""
    path = benchmarks / "make_run.txt"
    if not path.exists():
        return ""
    seconds, cores, *steps = path.read_text().split()
    done = f" for {' '.join(steps)}" if steps else ""
    # jobs run after it (a changed step rerun alone, a target outside the default run) are in the table
    # below but not in that wall time: say so, so the sentence never passes for the current configuration's
    later = sum(f.stat().st_mtime > path.stat().st_mtime for f in benchmarks.rglob("*.tsv"))
    caveat = (f" Of the jobs below, {later} ran after it (steps rerun alone or run apart), so that wall time is of "
              "the configuration before them. " if later else " ")
    return f"The last `make run` took {int(seconds) // 60} min {int(seconds) % 60:02d} s with {cores} cores{done}.{caveat}"


def markdown(table: list[dict], run: str = "", extra_seeds: tuple[int, float, float] = (0, 0.0, 0.0),
             cores: int | None = None) -> str:
    total = sum(r["total_s"] for r in table)
    lines = [f"{run}Benchmark files of {sum(r['jobs'] for r in table)} jobs: {total / 60:.1f} min of job time in all."]
    if extra_seeds[0]:
        # with every core busy (as in `make run`), removing CPU time c saves about c / cores of wall time
        lines[0] += (f" Of that, the third and later seeds or runs of a step ({extra_seeds[0]} jobs, runs made "
                     f"apart included) took {extra_seeds[1] / 60:.1f} min of job time and {extra_seeds[2] / 60:.1f} "
                     "min of CPU time" + (f": on {cores} busy cores about {extra_seeds[2] / cores / 60:.1f} min of wall "
                                          "time, at most what two seeds per number would save." if cores else "."))
    lines += ["",
             "| method | step | jobs | job time (s), sum | largest job (s) | largest peak memory (MB) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['step']} | {r['jobs']} | {r['total_s']:.0f} | {r['max_s']:.1f} | "
              f"{r['max_rss_mb']:.0f} |" for r in table]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    with atomic_path(args.out) as tmp:
        record = args.benchmarks / "make_run.txt"
        cores = int(record.read_text().split()[1]) if record.exists() else None
        tmp.write_text(markdown(rows(args.benchmarks), make_run(args.benchmarks), past_second_seed(args.benchmarks),
                                cores))


if __name__ == "__main__":
    main()
