"""Step explaind_epk: EPK prediction and attribution of the explained test points by streaming over
the recorded training steps (explainer.ExPLAIND), plus the fidelity check against the trained model.

Writes epk.npz (arrays of explainer.EPKResult, group names, explained test indices; without `data` under
--no-data-attribution; with --prune-validation also the pruning scores of the authors) and fidelity.json: the label logit's relative
error at T = --integration-steps, and, per T of --fidelity-steps, the paper's "EPK accuracy" (share of
points whose argmax of the EPK-reconstructed logits is the model's argmax) and KL(model ‖ EPK prediction)
of the softmax distributions, from the reconstruction of every logit (ExPLAIND.path_logits).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from xairepro.io import atomic_path, start_step, write_json

from .explainer import ExPLAIND, all_outputs
from .history import History
from .prune import authors_score
from .task import add_task_arguments, task_from_args


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def epk_agreement(model_logits: np.ndarray, epk_logits: np.ndarray) -> dict:
    """The paper's fidelity measures over n points (logits n × C): EPK accuracy = share of points with
    argmax(EPK) == argmax(model); KL = mean over points of KL(model ‖ EPK) = Σ_c p_c (log p_c − log q_c),
    p = softmax(model logits), q = softmax(EPK logits); relative_error = ‖EPK − model‖ / ‖model‖ over all
    logits."""
    model_logits, epk_logits = np.asarray(model_logits, np.float64), np.asarray(epk_logits, np.float64)
    log_p, log_q = log_softmax(model_logits), log_softmax(epk_logits)
    return {"epk_accuracy": float((epk_logits.argmax(1) == model_logits.argmax(1)).mean()),
            "kl": float((np.exp(log_p) * (log_p - log_q)).sum(1).mean()),
            "relative_error": float(np.linalg.norm(epk_logits - model_logits) / np.linalg.norm(model_logits))}


def error_slope(errors: dict) -> float | None:
    """The order p of error ∝ T^−p from the smallest and largest T (None with one T or a zero error)."""
    Ts = sorted(errors)
    lo, hi = Ts[0], Ts[-1]
    if lo == hi or errors[lo] <= 0 or errors[hi] <= 0:
        return None
    return float(np.log(errors[lo] / errors[hi]) / np.log(hi / lo))


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    add_task_arguments(ap)
    ap.add_argument("--history", required=True)
    ap.add_argument("--integration-steps", type=int, default=100, help="T of the midpoint rule (paper: 100)")
    ap.add_argument("--n-explain", type=int, default=32, help="explained test points (the first of the test split)")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--fidelity-steps", type=int, nargs="*", default=[],
                    help="T values for EPK accuracy / KL on every logit (paper: 100, and 10 on MOD-113)")
    ap.add_argument("--fidelity-points", type=int, default=0,
                    help="test points (the first of the test split) for EPK accuracy / KL; 0 = all")
    ap.add_argument("--prune-validation", type=int, default=0,
                    help="the first N test points: validation set of the authors' pruning score (0 = none)")
    ap.add_argument("--no-data-attribution", action="store_true",
                    help="skip the per-example split A(x, i) (one batch gradient per step instead of one per "
                         "training example): the step, component and weight-decay terms only")
    ap.add_argument("--out", required=True, help="epk.npz")
    ap.add_argument("--fidelity", required=True, help="fidelity.json")
    args = ap.parse_args(argv)
    if args.n_explain < 1:
        raise ValueError(f"--n-explain must be >= 1 (got {args.n_explain})")
    if args.no_data_attribution and args.prune_validation:
        raise ValueError("--prune-validation needs the per-example kernel: drop --no-data-attribution")
    task = task_from_args(args)
    history = History(args.history, task.identity, args.device)  # checks model/config/data and completeness first
    d = task.data
    x, y = d.x_test[:args.n_explain], d.y_test[:args.n_explain]
    explainer = ExPLAIND(task.model, task.optimizer, history, d.x_train, d.y_train, args.integration_steps, args.chunk)
    t0 = time.perf_counter()
    res = explainer.attribute(x, y, data_attribution=not args.no_data_attribution)
    seconds = {"label_logit_attribution": time.perf_counter() - t0}
    extra = {}
    if args.prune_validation:
        if args.prune_validation >= len(d.x_test):
            raise ValueError(f"--prune-validation {args.prune_validation} leaves no held-out test point "
                             f"(the test split has {len(d.x_test)})")
        t0 = time.perf_counter()
        xv = d.x_test[:args.prune_validation]
        n_classes = task.model.logits(history.final_params(), xv[:1]).shape[1]
        # the authors' score: |per-point, per-output kernel| per parameter, summed over the validation set. The
        # sum is over points, so it runs in passes of n_explain outputs: the memory of the explained points' pass
        per_pass = max(1, args.n_explain // n_classes)
        score = 0
        for i in range(0, len(xv), per_pass):
            pairs = explainer.attribute(*all_outputs(xv[i:i + per_pass], n_classes), point_weight=True,
                                        progress=False)
            score = score + authors_score(pairs.point_weight)
        extra = {"authors_score": score, "validation": np.arange(len(xv))}
        seconds["pruning_score"] = time.perf_counter() - t0
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        if res.data is not None:
            extra["data"] = res.data
        np.savez(f, initial=res.initial, final=res.final, data_total=res.data_total, decay=res.decay,
                 step_component=res.step_component, step_decay=res.step_decay, weight=res.weight,
                 groups=np.array(task.model.names), explained=np.arange(len(x)), **extra)
    err = res.reconstruction - res.final
    fidelity = {"dataset": d.description, "integration_steps": args.integration_steps, "n_steps": history.n_steps,
                "n_explained": len(x), "n_train": len(d.x_train), "n_params": task.model.n_params,
                "relative_error": float(f"{res.relative_error():.6g}"),
                "max_abs_error": float(f"{np.abs(err).max():.6g}"),
                "mean_abs_output": float(f"{np.abs(res.final).mean():.6g}"),
                "data_share_of_change": float(f"{np.abs(res.data_total).sum() / np.abs(res.final - res.initial).sum():.6g}")}
    if args.fidelity_steps:
        n_points = args.fidelity_points or len(d.x_test)
        t0 = time.perf_counter()
        logits = explainer.path_logits(d.x_test[:n_points], args.fidelity_steps)
        seconds["all_logits_fidelity"] = time.perf_counter() - t0
        per_T = {T: epk_agreement(logits["final"], logits[T]) for T in sorted(set(args.fidelity_steps))}
        by_T = {str(T): {k: float(f"{v:.6g}") for k, v in m.items()} for T, m in per_T.items()}
        fidelity["all_logits"] = {"n_points": int(len(logits["final"])), "n_outputs": int(logits["final"].shape[1]),
                                  "by_T": by_T}
        slope = error_slope({T: m["relative_error"] for T, m in per_T.items()})
        fidelity["all_logits"]["error_slope"] = None if slope is None else float(f"{slope:.3g}")
    write_json(args.fidelity, fidelity)  # no timings in it: a rerun must give the same bytes
    log.info("fidelity %s", fidelity)
    log.info("seconds per part: %s", {k: round(v, 2) for k, v in seconds.items()})


if __name__ == "__main__":
    main()
