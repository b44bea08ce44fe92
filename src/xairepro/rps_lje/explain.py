"""Step 2: one explainer's weights for one trained model (cached for the debugging step).

    python -m xairepro.rps_lje.explain --train results/.../run0/train.npz --explainer lje \
        --out .../run0/explain_lje.npz --metrics .../run0/explain_lje.json --timing .../run0/explain_lje.timing.json

The .npz holds `importance` (n_train, n_test_explained) and `self_importance` (n_train,). The metrics
say how well the explainer's kernel decomposition reproduces the model's pre-activation on the test
points; wall time and peak memory go to the separate timing file (metrics stay byte-identical).
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from xairepro.io import atomic_path, start_step, write_json

from .explainers import EXPLAINERS, make_explainer


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="train.npz of the train step")
    p.add_argument("--explainer", required=True, help=f"one of {', '.join(EXPLAINERS)}")
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--timing", required=True)
    p.add_argument("--gamma", type=float, default=1e-5, help="LJE ascent step γ")
    p.add_argument("--lmbda", type=float, default=0.003, help="RPS-l2 λ")
    p.add_argument("--epochs", type=int, default=3000, help="RPS-l2 most gradient-descent epochs")
    p.add_argument("--rps-l2-solver", choices=("authors", "newton"), default="authors",
                   help="RPS-l2: the authors' line search and stopping rule, or Newton (benchmark reference)")
    p.add_argument("--damping", type=float, default=1e-3, help="relative Hessian damping (LJE, IF): damping x mean diagonal is added to the diagonal")
    p.add_argument("--test-points", type=int, default=0, help="explain the first N test points (0 = all)")
    args = p.parse_args(argv)
    if args.explainer not in EXPLAINERS:
        p.error(f"unknown explainer {args.explainer!r}; choose one of {', '.join(EXPLAINERS)}")
    if args.test_points < 0:
        p.error("--test-points must be >= 0")
    return args


def decomposition_metrics(explainer, importance: np.ndarray, phi_test: np.ndarray) -> dict:
    """For the representer explainers: how far Σ_i importance[i, t] is from the pre-activation it
    decomposes (Θ† or Θ_λ), and from the trained model's (Θ*). Influence functions decompose nothing."""
    if explainer.name == "if":
        return {}
    summed = importance.sum(0)
    metrics = {"max_abs_gap_to_model_preactivation": float(np.abs(summed - phi_test @ explainer.theta_star.numpy()).max())}
    if explainer.name == "lje":
        metrics["max_abs_gap_to_theta_dagger"] = float(np.abs(summed - phi_test @ explainer.theta_dagger.numpy()).max())
    if explainer.name == "rps_l2":
        metrics["max_abs_gap_to_theta_lambda"] = float(np.abs(summed - phi_test @ explainer.theta_lambda.numpy()).max())
        metrics.update(epochs_run=explainer.epochs_run, final_gradient_norm=explainer.grad_norm)
    return {k: float(f"{v:.6g}") for k, v in metrics.items()}


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    torch.set_num_threads(1)
    data = np.load(args.train)
    phi_test = data["phi_test"][: args.test_points or None]
    explainer = make_explainer(args.explainer, gamma=args.gamma, lmbda=args.lmbda, epochs=args.epochs,
                               damping=args.damping, solver=args.rps_l2_solver)
    start = time.perf_counter()
    explainer.fit(data["phi_train"], data["y_train"], data["weights"])
    importance = explainer.importance(phi_test)
    self_importance = explainer.self_importance()
    seconds = time.perf_counter() - start
    metrics = {"explainer": args.explainer, "n_train": int(len(self_importance)), "n_test_explained": int(len(phi_test)),
               **decomposition_metrics(explainer, importance, phi_test)}
    log.info("%s: %s (%.2f s)", args.explainer, metrics, seconds)
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        np.savez(f, importance=importance, self_importance=self_importance)
    write_json(args.metrics, metrics)
    write_json(args.timing, {"explainer": args.explainer, "seconds": round(seconds, 4),
                             "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


if __name__ == "__main__":
    main()
