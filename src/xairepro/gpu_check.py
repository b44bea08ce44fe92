"""The verdict of scripts/gpu_check.sh on its two runs (OUT/cuda and OUT/cpu, each with Snakemake's
--summary in summary.tsv): every job of a GPU rule in the cuda run logged a GPU peak memory above 0
(xairepro.device writes it when a step that took the GPU ends), and each step's time, CPU vs GPU.

    python -m xairepro.gpu_check OUT RULE [RULE ...]
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from xairepro.scorecard import timings

PEAK = re.compile(r"GPU peak memory: ([\d.]+) MiB")


def gpu_failures(run: Path, gpu_rules: set[str]) -> tuple[list[str], list[str], int]:
    """(problems, warnings, number of GPU-rule job logs checked) of the cuda run in `run`. A job that took a
    device must show GPU work; a job that never took one (XGBoost's jobs in the RPS rules) is a warning:
    its rule books a GPU that this job leaves idle."""
    with open(run / "summary.tsv", newline="") as f:
        logs = sorted({(r["rule"], r["log-file(s)"]) for r in csv.DictReader(f, delimiter="\t")
                       if r["rule"] in gpu_rules and r["log-file(s)"] not in ("", "-")})
    problems, warnings = [], []
    for rule, log in logs:
        text = (run / log).read_text() if (run / log).exists() else ""
        peak = PEAK.findall(text)
        if peak and float(peak[-1]) > 0:
            continue
        if "device" not in text:
            warnings.append(f"{rule}: {log} took no torch device (its rule books a GPU this job leaves idle)")
        else:
            problems.append(f"{rule}: {log} shows no GPU peak memory above 0 (the step did not use the GPU)")
    if not logs:
        problems.append(f"no job of the GPU rules {sorted(gpu_rules)} ran in {run}")
    return problems, warnings, len(logs)


def step_seconds(run: Path) -> dict[str, float]:
    """Summed wall seconds per method/step of the run (the README's timings table, job numbers folded)."""
    return {f"{r['method']}/{r['step']}": r["total_s"] for r in timings.rows(run / "results" / "benchmarks")}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out, gpu_rules = Path(argv[0]), set(argv[1:])
    problems, warnings, checked = gpu_failures(out / "cuda", gpu_rules)
    cpu, cuda = step_seconds(out / "cpu"), step_seconds(out / "cuda")
    print(f"{'method/step':45s} {'cpu s':>8s} {'cuda s':>8s} {'speed-up':>9s}")
    for step in sorted(set(cpu) & set(cuda)):
        print(f"{step:45s} {cpu[step]:8.1f} {cuda[step]:8.1f} {cpu[step] / max(cuda[step], 1e-9):8.1f}x")
    print(f"{checked} GPU-rule job logs checked")
    print("\n".join(f"warning: {w}" for w in warnings))
    print("\n".join(problems) or "every GPU-rule job ran on the GPU (GPU peak memory > 0 in its log)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
