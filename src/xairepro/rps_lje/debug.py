"""Step 3: dataset debugging for one run. Rank training points by each explainer's cached
self-importance and by two baselines (a seeded random order, and the flipped model's own training loss
on each label, highest first: the trivial detector every explainer should beat; the mislabel
benchmark adds its own scorers' files), "check" the top fraction, fix the flipped labels found there,
retrain, and record test accuracy and the fraction of flips found.

Flips found are recorded at every checkpoint 0, step, ..., 1. Retraining (src/xairepro/rps_lje/retrain.py,
the whole model as the authors do by default) runs at the checkpoints up to --retrain-max and at 1
(every flip fixed: the clean-label reference); elsewhere test_accuracy is left empty. The authors
retrain at 5%..40% for the networks and 5%..100% for XGBoost. A retraining is cached by the labels it
trains on, so orders that fixed the same flips (0% and 100% checked, always) share it.

    python -m xairepro.rps_lje.debug --train .../run0/train.npz --model-file .../run0/model.pt \
        --scores lje=.../explain_lje.npz ... --run 0 --step 0.05 --retrain-max 0.4 --retrain-start base \
        --out .../run0/debugging.csv
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from xairepro.io import start_step, write_csv

from .data import fix_labels
from .models import use_device
from .retrain import STARTS, Retrain, retrain_accuracy


def training_loss(data) -> np.ndarray:
    """Binary cross-entropy of the flipped model (its own logit) on each training point's noisy label."""
    margin = data["logit_train"]
    return np.logaddexp(0, margin) - data["y_train"] * margin


def checkpoints(step: float) -> np.ndarray:
    return np.round(np.linspace(0, 1, round(1 / step) + 1), 6)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="train.npz of the train step")
    p.add_argument("--model-file", required=True, help="model.pt of the train step (what to retrain)")
    p.add_argument("--scores", nargs="+", required=True, metavar="NAME=NPZ",
                   help="an order's name and an .npz whose self_importance ranks the points (highest first)")
    p.add_argument("--no-baselines", action="store_true", help="leave out the random and loss orders")
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--seed", type=int, default=0, help="base seed of the random order")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (networks; XGBoost runs on the CPU)")
    p.add_argument("--step", type=float, default=0.05, help="checked-fraction step (checkpoints 0, step, ..., 1)")
    p.add_argument("--retrain-max", type=float, default=1.0,
                   help="retrain at checkpoints up to this fraction (and at 1); authors: 0.4 networks, 1 XGBoost")
    p.add_argument("--retrain-start", choices=STARTS, default="base", help="see xairepro.rps_lje.retrain")
    p.add_argument("--retrain-epochs", type=int, default=0, help="0: the flipped model's epochs")
    p.add_argument("--retrain-lr", type=float, default=0.0, help="0: the flipped model's learning rate")
    p.add_argument("--retrain-repeats", type=int, default=1, help="trainings averaged per checkpoint")
    p.add_argument("--retrain-l2", type=float, default=1e-3, help="l2 of the last_layer refit")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not 0 < args.step <= 1 or abs(round(1 / args.step) * args.step - 1) > 1e-9:
        p.error(f"--step must divide 1 (e.g. 0.05, 0.1), got {args.step}")
    if not 0 <= args.retrain_max <= 1:
        p.error(f"--retrain-max must be in [0, 1], got {args.retrain_max}")
    malformed = [item for item in args.scores if "=" not in item]
    if malformed:
        p.error(f"--scores takes NAME=NPZ pairs, got {malformed}")
    args.scores = dict(item.split("=", 1) for item in args.scores)
    try:
        args.retrain = Retrain(args.retrain_start, args.retrain_epochs, args.retrain_lr, args.retrain_repeats,
                               args.retrain_l2)
    except ValueError as error:
        p.error(str(error))
    return args


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    use_device(args.device, log)
    threadpool_limits(1)  # many small trainings: BLAS threads only contend on 2 cores
    torch.set_num_threads(1)
    data = dict(np.load(args.train))  # read once: an NpzFile rereads its zip member on every access
    spec = torch.load(args.model_file, weights_only=False)
    noisy, flipped, n = data["y_train"], data["flipped"], len(data["y_train"])
    orders = {name: np.argsort(-np.load(path)["self_importance"], kind="stable") for name, path in args.scores.items()}
    if not args.no_baselines:
        orders["loss"] = np.argsort(-training_loss(data), kind="stable")
        orders["random"] = np.random.default_rng(args.seed + args.run + 1000).permutation(n)
    fractions = checkpoints(args.step)
    retrained = fractions[(fractions <= args.retrain_max + 1e-9) | (fractions == 1)]
    cache: dict[bytes, float] = {}
    rows, total, done = [], len(orders) * len(retrained), 0
    for name, order in orders.items():
        for fraction in fractions:
            checked = order[: round(fraction * n)]
            labels = fix_labels(noisy, flipped, checked)
            accuracy = ""
            if fraction in retrained:
                key = labels.tobytes()
                if key not in cache:
                    cache[key] = retrain_accuracy(spec, data, labels, args.retrain)
                accuracy = round(cache[key], 6)
                done += 1
                log.info("%d of %d: %s at %.2f checked -> test accuracy %s (%d distinct retrainings)",
                         done, total, name, fraction, accuracy, len(cache))
            rows.append({"run": args.run, "order": name, "checked_fraction": round(float(fraction), 4),
                         "test_accuracy": accuracy,
                         "flips_found": round(float(flipped[checked].sum() / flipped.sum()), 6)})
    log.info("at 40%% checked: %s", [r for r in rows if r["checked_fraction"] == 0.4])
    write_csv(args.out, rows)


if __name__ == "__main__":
    main()
