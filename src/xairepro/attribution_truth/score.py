"""Step truth_score: one method's scores s_i(t) for every training point and explained test point, on
the model trained on all training points (the plan's seed), with the method's own time.

    python -m xairepro.attribution_truth.score --task digits_cnn --method lje --data-dir data/digits \
        --settings '{...}' --plan '{...}' --out results/attribution_truth/digits_cnn/scores/lje.npz
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from xairepro.attribution_truth.task_io import KG_TASKS, Loaded, add_task_arguments
from xairepro.io import atomic_path, start_step


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_task_arguments(parser)
    parser.add_argument("--method", required=True)
    parser.add_argument("--method-settings", default="{}", help="settings of the methods (JSON)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    task = Loaded(args)
    model = task.train(np.arange(task.n_train), task.seed, for_explaining=True)
    start = time.perf_counter()
    if args.task in KG_TASKS:
        from xairepro.attribution_truth import kg

        scores = kg.scores(args.method, model, task.data, task.data.test[task.plan.test], task.seed)
    else:
        from xairepro.attribution_truth.methods import scores as method_scores

        settings = {**json.loads(args.method_settings), **task.settings}
        scores = method_scores(args.method, model, task.data, settings, task.seed)
    seconds = time.perf_counter() - start
    if scores.shape != (task.n_train, len(task.plan.test)) or not np.isfinite(scores).all():
        raise ValueError(f"{args.method}: scores of shape {scores.shape} with non-finite values "
                         f"{int((~np.isfinite(scores)).sum())}; expected ({task.n_train}, {len(task.plan.test)})")
    with atomic_path(args.out) as tmp:
        with open(tmp, "wb") as f:
            # chance: the output above which a prediction is right (margin 0; KG probability 1 / entities)
            chance = 1 / len(task.data.entities) if args.task in KG_TASKS else 0.0
            np.savez(f, scores=scores, seconds=seconds, n_train=task.n_train, n_test=task.n_test,
                     model_outputs=task.outputs(model), chance=chance)
    log.info("%s on %s: %.3f s for %d x %d scores", args.method, args.task, seconds, *scores.shape)


if __name__ == "__main__":
    main()
