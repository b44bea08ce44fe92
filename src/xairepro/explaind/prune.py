"""Step explaind_prune: prune the trained image model by ExPLAIND's per-parameter component
attribution |Σ_x Σ_s ḡ_s(x) ⊙ Δθ_s| (weights that contributed least to the explained outputs go
first) against magnitude pruning |θ_S|, at each fraction; report the paper's three measures on the
held-out test points (not the explained ones): accuracy ("val. acc."), agreement with the unpruned
model ("model acc.") and KL(unpruned ‖ pruned) of the predicted distributions ("KL div.")."""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from xairepro.io import start_step, write_csv

from .history import History
from .task import add_task_arguments, task_from_args


def prune(theta: torch.Tensor, scores: torch.Tensor, fraction: float) -> torch.Tensor:
    """θ with the `fraction` of coordinates of lowest score set to 0 (ties broken by index)."""
    k = int(round(fraction * len(theta)))
    order = torch.from_numpy(np.argsort(scores.cpu().numpy(), kind="stable")).to(theta.device)
    pruned = theta.clone()
    pruned[order[:k]] = 0
    return pruned


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    add_task_arguments(ap)
    ap.add_argument("--history", required=True)
    ap.add_argument("--epk", required=True)
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
    held_out = slice(len(epk["explained"]), None)
    x, y = task.data.x_test[held_out], task.data.y_test[held_out]
    if len(x) == 0:
        raise ValueError("no held-out test points left for pruning: lower n_explain")
    m = task.model
    with torch.no_grad():
        base = m.logits(theta, x).log_softmax(1)
        scores = {"explaind": torch.from_numpy(np.abs(epk["weight"])), "magnitude": theta.abs().cpu()}
        rows = []
        for method, score in scores.items():
            for fraction in fractions:
                logp = m.logits(prune(theta, score, fraction), x).log_softmax(1)
                rows.append({"method": method, "fraction": fraction,
                             "val_acc": f"{(logp.argmax(1) == y).double().mean():.6g}",
                             "model_acc": f"{(logp.argmax(1) == base.argmax(1)).double().mean():.6g}",
                             "kl_div": f"{(base.exp() * (base - logp)).sum(1).mean():.6g}"})
    write_csv(args.out, rows)
    log.info("pruning on %d held-out points: %s", len(x), rows)


if __name__ == "__main__":
    main()
