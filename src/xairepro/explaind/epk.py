"""Step explaind_epk: EPK prediction and attribution of the explained test points by streaming over
the recorded training steps (explainer.ExPLAIND), plus the fidelity check against the trained model.

Writes epk.npz (arrays of explainer.EPKResult, group names, explained test indices) and fidelity.json.
"""
from __future__ import annotations

import argparse

import numpy as np

from xairepro.io import atomic_path, start_step, write_json

from .explainer import ExPLAIND
from .history import History
from .task import add_task_arguments, task_from_args


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    add_task_arguments(ap)
    ap.add_argument("--history", required=True)
    ap.add_argument("--integration-steps", type=int, default=100, help="T of the midpoint rule (paper: 100)")
    ap.add_argument("--n-explain", type=int, default=32, help="explained test points (the first of the test split)")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--out", required=True, help="epk.npz")
    ap.add_argument("--fidelity", required=True, help="fidelity.json")
    args = ap.parse_args(argv)
    if args.n_explain < 1:
        raise ValueError(f"--n-explain must be >= 1 (got {args.n_explain})")
    task = task_from_args(args)
    history = History(args.history, task.identity, args.device)  # checks model/config/data and completeness first
    d = task.data
    x, y = d.x_test[:args.n_explain], d.y_test[:args.n_explain]
    explainer = ExPLAIND(task.model, task.optimizer, history, d.x_train, d.y_train, args.integration_steps, args.chunk)
    res = explainer.attribute(x, y)
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        np.savez(f, initial=res.initial, final=res.final, data=res.data, decay=res.decay,
                 step_component=res.step_component, weight=res.weight, groups=np.array(task.model.names),
                 explained=np.arange(len(x)))
    err = res.reconstruction - res.final
    fidelity = {"dataset": d.description, "integration_steps": args.integration_steps, "n_steps": history.n_steps,
                "n_explained": len(x), "n_train": len(d.x_train), "n_params": task.model.n_params,
                "relative_error": float(f"{res.relative_error():.6g}"),
                "max_abs_error": float(f"{np.abs(err).max():.6g}"),
                "mean_abs_output": float(f"{np.abs(res.final).mean():.6g}"),
                "data_share_of_change": float(f"{np.abs(res.data.sum(1)).sum() / np.abs(res.final - res.initial).sum():.6g}")}
    write_json(args.fidelity, fidelity)
    log.info("fidelity %s", fidelity)


if __name__ == "__main__":
    main()
