"""Step 1 of the mislabel benchmark: score the training points of one rps_lje run with one scorer.

    python -m xairepro.mislabel.score --train results/rps_lje/german-credit/xgboost/run0/train.npz \
        --scorer dknn --k 10 --out .../run0/scores_dknn.npz --metrics .../run0/scores_dknn.json

The .npz holds `self_importance` (n_train,), the format rps_lje.debug ranks by. DkNN's layers are
the representations the run saved: the last-layer features φ, plus the raw attributes for XGBoost
(for the networks the debugging step's x_train is φ itself).
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from xairepro.io import atomic_path, start_step, write_json

from .scorers import SCORERS, ExplaindSelfInfluence, NeighbourDisagreement


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="train.npz of rps_lje.train")
    p.add_argument("--scorer", required=True, help=f"one of {', '.join(SCORERS)}")
    p.add_argument("--k", type=int, default=10, help="dknn: neighbours per layer")
    p.add_argument("--epochs", type=int, default=10, help="explaind: epochs of the recorded last-layer run")
    p.add_argument("--batch-size", type=int, default=32, help="explaind: its minibatch size")
    p.add_argument("--lr", type=float, default=0.1, help="explaind: its SGD learning rate")
    p.add_argument("--seed", type=int, default=0, help="explaind: its initialisation and batch order")
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    args = p.parse_args(argv)
    if args.scorer not in SCORERS:
        p.error(f"unknown scorer {args.scorer!r}; choose one of {', '.join(SCORERS)}")
    return args


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    torch.set_num_threads(1)
    data = np.load(args.train)
    labels = data["y_train"]  # the noisy labels the model was trained on
    start = time.perf_counter()
    if args.scorer == "dknn":
        same = data["x_train"].shape == data["phi_train"].shape and np.array_equal(data["x_train"], data["phi_train"])
        layers = [data["phi_train"]] if same else [data["x_train"], data["phi_train"]]
        scorer = NeighbourDisagreement(args.k).fit(layers, labels)
        metrics = {"layers": len(layers), "k": args.k}
    else:
        scorer = ExplaindSelfInfluence(args.epochs, args.batch_size, args.lr, args.seed).fit(
            data["phi_train"], labels, progress=True)
        metrics = {"epk_relative_error": float(f"{scorer.relative_error:.3g}"), "epochs": args.epochs}
    scores = scorer.self_importance()
    log.info("scored %d training points in %.2f s, peak RSS %.0f MB", len(scores), time.perf_counter() - start,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    flipped = data["flipped"]
    top = np.argsort(-scores, kind="stable")[: int(flipped.sum())]
    metrics.update(scorer=args.scorer, n_train=int(len(scores)),
                   precision_at_n_flipped=round(float(flipped[top].mean()), 4))
    log.info("%s", metrics)
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        np.savez(f, self_importance=scores)
    write_json(args.metrics, metrics)


if __name__ == "__main__":
    main()
