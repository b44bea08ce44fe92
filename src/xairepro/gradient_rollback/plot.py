"""Figures (torch env, matplotlib): PD/TC of GR vs NH per k with the paper's values beside ours, and
GR's predicted Δ vs the Δ seen after retraining (python -m xairepro.gradient_rollback.plot)."""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xairepro.io import atomic_path, start_step  # noqa: E402


def bars(comparison: list[dict], out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    settings = sorted({r["experiment"].removeprefix("table1_") for r in comparison},
                      key=lambda s: (s[:2] != "NH", s))
    for ax, metric in zip(axes, ("PD", "TC")):
        rows = {r["experiment"].removeprefix("table1_"): r for r in comparison if r["metric"] == metric}
        xs = range(len(settings))
        ax.bar([x - 0.2 for x in xs], [float(rows[s]["ours"]) for s in settings], 0.4, label="ours")
        ax.bar([x + 0.2 for x in xs], [float(rows[s]["published"] or "nan") for s in settings], 0.4,
               label="paper (Table 1)", alpha=0.6)
        ax.set_xticks(list(xs), settings)
        ax.set_ylim(0, 105)
        ax.set_title(f"{metric} (% of explained predictions)")
    axes[0].legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def scatter(fidelity: list[dict], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.2, 4))
    gr = [float(r["gr_delta"]) for r in fidelity]
    actual = [float(r["retrained_delta"]) for r in fidelity]
    ax.scatter(gr, actual, s=14)
    top = max(gr + actual + [1e-6])
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="y = x")
    ax.set_xlabel("GR's Δ of the top-1 explanation")
    ax.set_ylabel("Δ after retraining without it")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comparison", type=Path, required=True)
    parser.add_argument("--fidelity", type=Path, required=True)
    parser.add_argument("--bars", type=Path, required=True)
    parser.add_argument("--scatter", type=Path, required=True)
    args = parser.parse_args(argv)
    read = lambda path: list(csv.DictReader(open(path)))  # noqa: E731
    bars(read(args.comparison), args.bars)
    scatter(read(args.fidelity), args.scatter)
    log.info("wrote %s and %s", args.bars, args.scatter)


if __name__ == "__main__":
    main()
