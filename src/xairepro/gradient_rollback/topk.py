"""Step 2b: the sets to delete - GR-k (top-k explanations) and NH-k (k random neighbours) - per
explained prediction, and with --controls the control sets random-k and none (python -m
xairepro.gradient_rollback.topk)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from xairepro.io import start_step, write_json

NONE = "none"  # the control that deletes nothing: one retraining per prediction, whatever k


def parse_ks(values: list[str]) -> list[int | str]:
    """k values: integers >= 1 or 'all'."""
    ks = []
    for v in values:
        if v == "all":
            ks.append(v)
        elif not v.lstrip("-").isdigit() or int(v) < 1:
            raise ValueError(f"k must be an integer >= 1 or 'all', got {v!r}")
        else:
            ks.append(int(v))
    return ks


def deletion_sets(record: dict, ks: list[int | str], seed: int, mode: str = "ours",
                  n_train: int | None = None) -> dict[str, list[int]]:
    """GR-k: the k explanations with the largest Δ (all with Δ ≥ 0 for 'all'). NH-k: as many triples as
    GR-k drawn at random from the neighbourhood (h, r or t̂ shared), seeded per test triple. Mode
    "authors": NH-k deletes k neighbours (the whole neighbourhood when smaller) whatever GR-k's size, and
    NH-all as many as GR-all, as the authors' NH deleter.
    Controls when n_train is given: random-k deletes as many triples as NH-k, drawn uniformly from all
    n_train training triples; none deletes nothing."""
    ranked = [x for x, _ in record["explanations"]]
    rng = np.random.default_rng([seed, record["test_index"]])
    sets = {}
    for k in ks:
        gr = ranked if k == "all" else ranked[:k]
        size = k if mode == "authors" and k != "all" else len(gr)
        nh = rng.choice(record["neighbourhood"], size=min(size, len(record["neighbourhood"])), replace=False)
        sets[f"GR-{k}"], sets[f"NH-{k}"] = gr, sorted(int(x) for x in nh)
    if n_train is not None:
        pick = np.random.default_rng([seed, record["test_index"], 1])  # own stream: NH's draws stay as they were
        for k in ks:
            size = len(sets[f"NH-{k}"])
            sets[f"random-{k}"] = sorted(int(x) for x in pick.choice(n_train, size=size, replace=False))
        sets[NONE] = []
    return sets


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--explanations", type=Path, required=True)
    parser.add_argument("--ks", nargs="+", default=["1", "10", "all"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mode", choices=("ours", "authors"), default="ours", help="NH-k sizes (see deletion_sets)")
    parser.add_argument("--controls", type=int, metavar="N_TRAIN",
                        help="add the control sets random-k (from the N_TRAIN training triples) and none")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    ks = parse_ks(args.ks)
    explained = json.loads(args.explanations.read_text())
    sets = [{"test_index": rec["test_index"], "sets": deletion_sets(rec, ks, args.seed, args.mode, args.controls)}
            for rec in explained["explained"]]
    write_json(args.out, {"ks": ks, "seed": args.seed, "predictions": sets})
    log.info("deletion sets for %d predictions, k in %s", len(sets), ks)


if __name__ == "__main__":
    main()
