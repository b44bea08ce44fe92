"""Step explaind_prune: prune the trained image model by an ExPLAIND score against magnitude pruning |θ_S|
at each fraction, without retraining, and report the paper's three measures on held-out test points:
accuracy ("val. acc."), agreement with the unpruned model ("model acc.") and KL(unpruned ‖ pruned) of
the predicted distributions ("KL div."), plus the share of all parameters actually zeroed.

Scores (config `explaind.prune_scores`, all in pruning.csv as `method`):
- authors (default ExPLAIND score, as mainlp/explaind experiments/cifar_pruning/model_pruning.py):
  Σ_{x ∈ validation} Σ_{outputs o} |Σ_s ḡ_{s,o}(x) ⊙ Δθ_s^data| per parameter: the absolute per-point,
  per-output kernel (data share of the update), summed over a validation set of test points
  (explaind_epk --prune-validation) that is disjoint from the held-out points pruning is evaluated on.
- signed: |Σ_x Σ_s ḡ_s(x) ⊙ Δθ_s| over the explained points, label logit only (our earlier score).
- magnitude: |θ_S|.
As the authors' reported ("across") variant, parameters are ranked globally, over all layers, and the
output layer (`explaind.prune_keep`) is never zeroed. `fraction` is the share of the other (prunable)
parameters pruned; column `pruned` is the share of all parameters zeroed (the authors' x-axis).
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from xairepro.io import start_step, write_csv

from .history import History
from .task import add_task_arguments, task_from_args

SCORES = ("authors", "signed", "magnitude")


def authors_score(point_weight: np.ndarray) -> np.ndarray:
    """The authors' pruning score from the per-output per-parameter kernel (rows: (validation point, output)
    pairs, columns: parameters): Σ over rows of |kernel|, so contributions of opposite sign do not cancel."""
    return np.abs(point_weight).sum(0)


def signed_score(weight: np.ndarray) -> np.ndarray:
    """Our earlier score from Σ_x Σ_s ḡ_s(x) ⊙ Δθ_s (already summed over points): |sum|."""
    return np.abs(weight)


def prune(theta: torch.Tensor, scores: torch.Tensor, fraction: float, keep: torch.Tensor | None = None) -> torch.Tensor:
    """θ with the `fraction` of its prunable coordinates (those where the boolean mask `keep` is False; all
    without `keep`) of lowest score set to 0: one ranking over all layers, ties broken by index. The kept
    coordinates (the output layer) are never zeroed and do not count."""
    prunable = torch.ones(len(theta), dtype=torch.bool) if keep is None else ~keep.cpu()
    candidates = torch.nonzero(prunable)[:, 0].numpy()
    k = int(round(fraction * len(candidates)))
    order = candidates[np.argsort(scores.cpu().numpy()[candidates], kind="stable")]
    pruned = theta.clone()
    pruned[torch.from_numpy(order[:k]).to(theta.device)] = 0
    return pruned


def keep_mask(model, prefixes: list[str]) -> torch.Tensor:
    """Coordinates of the parameter groups whose name starts with one of `prefixes` (e.g. `head`: the
    output layer); a prefix that matches no group is an error."""
    unknown = [p for p in prefixes if not any(n.startswith(p) for n in model.names)]
    if unknown:
        raise ValueError(f"prune_keep {unknown} matches no parameter group of the model ({', '.join(model.names)})")
    return model.group_mask([n for n in model.names if any(n.startswith(p) for p in prefixes)])


def measures(base_logp: torch.Tensor, logp: torch.Tensor, y: torch.Tensor) -> dict:
    """val_acc, model_acc, and KL(base ‖ pruned) per point summed over classes, averaged over points."""
    return {"val_acc": f"{(logp.argmax(1) == y).double().mean():.6g}",
            "model_acc": f"{(logp.argmax(1) == base_logp.argmax(1)).double().mean():.6g}",
            "kl_div": f"{(base_logp.exp() * (base_logp - logp)).sum(1).mean():.6g}"}


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_task_arguments(ap)
    ap.add_argument("--history", required=True)
    ap.add_argument("--epk", required=True)
    ap.add_argument("--scores", nargs="+", default=list(SCORES), choices=SCORES)
    ap.add_argument("--keep", nargs="*", default=["head"], help="parameter-group prefixes never pruned (output layer)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    settings = json.loads(args.settings)
    fractions = settings["prune_fractions"]
    if not fractions or not all(0 <= f < 1 for f in fractions):
        raise ValueError(f"prune_fractions must be a non-empty list of values in [0, 1) (got {fractions})")
    task = task_from_args(args)
    theta = History(args.history, task.identity, args.device).final_params()
    epk = np.load(args.epk)
    if len(epk["weight"]) != len(theta):
        raise ValueError(f"{args.epk} has {len(epk['weight'])} parameter attributions, the model {len(theta)}: "
                         "recompute explaind_epk for this history")
    if "authors" in args.scores and "authors_score" not in epk:
        raise ValueError(f"{args.epk} has no authors' pruning score: run explaind_epk with --prune-validation "
                         "(config explaind.prune_validation > 0)")
    # held out: every test point used by no score (neither explained nor in the validation set)
    start = max(len(epk["explained"]), len(epk["validation"]) if "validation" in epk else 0)
    x, y = task.data.x_test[start:], task.data.y_test[start:]
    if len(x) == 0:
        raise ValueError("no held-out test points left for pruning: lower n_explain or prune_validation")
    m = task.model
    keep = keep_mask(m, args.keep) if args.keep else None
    available = {"authors": lambda: torch.from_numpy(epk["authors_score"]),
                 "signed": lambda: torch.from_numpy(signed_score(epk["weight"])),
                 "magnitude": lambda: theta.abs().cpu()}
    rows = []
    with torch.no_grad():
        base = m.logits(theta, x).log_softmax(1)
        for method in args.scores:
            score = available[method]()
            for fraction in fractions:
                pruned = prune(theta, score, fraction, keep)
                logp = m.logits(pruned, x).log_softmax(1)
                rows.append({"method": method, "fraction": fraction,
                             "pruned": f"{(pruned == 0).double().mean() - (theta == 0).double().mean():.6g}",
                             **measures(base, logp, y)})
    write_csv(args.out, rows)
    log.info("pruning on %d held-out test points (%d on): %s", len(x), start, rows)


if __name__ == "__main__":
    main()
