"""Reliability diagrams of the softmax, temperature-scaled softmax, DkNN credibility and DkNN vote
fraction (paper section 4), from eval.py's reliability.json. Runs in the torch environment (matplotlib).

    python -m xairepro.dknn.plot --reliability reliability.json --title "sst2 / cnn" --out reliability.png
"""
from __future__ import annotations

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xairepro.io import atomic_path, start_step  # noqa: E402

PANELS = (("softmax", "softmax confidence"), ("temperature", "temperature-scaled softmax"),
          ("dknn_credibility", "DkNN credibility (a p-value)"), ("dknn_vote_fraction", "DkNN vote fraction"))


def main(argv=None) -> None:
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reliability", required=True)
    p.add_argument("--title", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    bins = json.loads(open(a.reliability).read())
    missing = [k for k, _ in PANELS if k not in bins]
    if missing:
        raise ValueError(f"{a.reliability} lacks {', '.join(missing)}: make it with xairepro.dknn.eval")
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 4), sharey=True)
    for ax, (key, name) in zip(axes, PANELS):
        b = bins[key]
        edges, width = b["edges"], b["edges"][1] - b["edges"][0]
        filled = [c > 0 for c in b["count"]]
        left = [e for e, f in zip(edges[:-1], filled) if f]
        ax.bar(left, [v for v, f in zip(b["accuracy"], filled) if f], width=width, align="edge",
               edgecolor="black", color="tab:blue", label="accuracy")
        ax.bar(left, [c for c, f in zip(b["confidence"], filled) if f], width=width, align="edge",
               fill=False, edgecolor="tab:red", lw=1.5, label="mean confidence")
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set(title=f"{name}\nECE {100 * b['ece']:.2f}%", xlabel="confidence", xlim=(0, 1), ylim=(0, 1))
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left")
    fig.suptitle(f"Reliability diagrams (15 bins) {a.title}")
    fig.tight_layout()
    with atomic_path(a.out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    log.info("wrote %s", a.out)


if __name__ == "__main__":
    main()
