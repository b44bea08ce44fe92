"""Step 3: dataset debugging for one run. Rank training points by each explainer's cached
self-importance (and a seeded random order; the mislabel benchmark adds its own scorers' files), "check" the top fraction, fix the flipped labels found
there, retrain, and record test accuracy and the fraction of flips found.

Retraining: the networks' last layer is retrained on the frozen features (l2-regularised logistic
regression solved to convergence by Newton's method); XGBoost is retrained whole. The authors'
debugging scripts fine-tune the trained model with a tiny learning rate (--lr 1e-5), which changes
little beyond the last layer; retraining only the last layer keeps 21 checkpoints x 4 orders x N runs
within the CPU budget and is deterministic.

    python -m xairepro.rps_lje.debug --train .../run0/train.npz --scores lje=.../explain_lje.npz ... \
        --model cnn --run 0 --step 0.05 --out .../run0/debugging.csv
"""
from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from xairepro.io import start_step, write_csv

from .data import fix_labels
from .train import MODELS


def fit_logistic(phi: np.ndarray, y: np.ndarray, l2: float, iterations: int = 100) -> np.ndarray:
    """argmin_Θ mean BCE(Θ·φ_i, y_i) + l2‖Θ‖² by Newton's method from Θ = 0."""
    theta = np.zeros(phi.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-phi @ theta))
        grad = phi.T @ (p - y) / len(y) + 2 * l2 * theta
        if np.linalg.norm(grad) < 1e-10:
            break
        hessian = (phi * (p * (1 - p))[:, None]).T @ phi / len(y) + 2 * l2 * np.eye(len(theta))
        theta -= np.linalg.solve(hessian, grad)
    return theta


def retrain_accuracy(model: str, data, labels: np.ndarray, args) -> float:
    if model == "xgboost":
        from .train import make_xgboost

        clf = make_xgboost(args, args.seed + args.run).fit(data["x_train"], labels)
        return float(np.mean(clf.predict(data["x_test"]) == data["y_test"]))
    theta = fit_logistic(data["x_train"], labels, args.retrain_l2)
    return float(np.mean((data["x_test"] @ theta > 0) == data["y_test"]))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--scores", nargs="+", required=True, metavar="NAME=NPZ",
                   help="an order's name and an .npz whose self_importance ranks the points (highest first)")
    p.add_argument("--no-random", action="store_true", help="leave out the random order")
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--step", type=float, default=0.05, help="checked-fraction step (checkpoints 0, step, ..., 1)")
    p.add_argument("--retrain-l2", type=float, default=1e-3, help="l2 of the last-layer retraining")
    p.add_argument("--n-estimators", type=int, default=50)
    p.add_argument("--max-depth", type=int, default=3)
    p.add_argument("--eta", type=float, default=0.3)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not 0 < args.step <= 1 or abs(round(1 / args.step) * args.step - 1) > 1e-9:
        p.error(f"--step must divide 1 (e.g. 0.05, 0.1), got {args.step}")
    malformed = [item for item in args.scores if "=" not in item]
    if malformed:
        p.error(f"--scores takes NAME=NPZ pairs, got {malformed}")
    args.scores = dict(item.split("=", 1) for item in args.scores)
    return args


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    threadpool_limits(1)  # many small solves: BLAS threads only contend (20x slower on 2 cores)
    data = np.load(args.train)
    noisy, flipped, n = data["y_train"], data["flipped"], len(data["y_train"])
    orders = {name: np.argsort(-np.load(path)["self_importance"], kind="stable") for name, path in args.scores.items()}
    if not args.no_random:
        orders["random"] = np.random.default_rng(args.seed + args.run + 1000).permutation(n)
    checkpoints = np.linspace(0, 1, round(1 / args.step) + 1)
    rows = []
    for name, order in tqdm(orders.items(), desc="orders"):
        for fraction in checkpoints:
            checked = order[: round(fraction * n)]
            labels = fix_labels(noisy, flipped, checked)
            rows.append({"run": args.run, "order": name, "checked_fraction": round(float(fraction), 4),
                         "test_accuracy": round(retrain_accuracy(args.model, data, labels, args), 6),
                         "flips_found": round(float(flipped[checked].sum() / flipped.sum()), 6)})
    log.info("at 40%% checked: %s", [r for r in rows if r["checked_fraction"] == 0.4])
    write_csv(args.out, rows)


if __name__ == "__main__":
    main()
