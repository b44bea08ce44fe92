"""Step truth_retrain: one shard of a task's retrainings (full data per seed, leave-one-out, LDS subsets),
writing f(x_t) of the explained test points for each. Logs "retraining i of N" and keeps finished
retrainings in <out>.partial.jsonl, so a killed job resumes with the next one.

    python -m xairepro.attribution_truth.retrain --task digits_cnn --data-dir data/digits --settings '{...}' \
        --plan '{...}' --shard 0 --shards 2 --out results/attribution_truth/digits_cnn/retrain/shard0-of2.npz
"""
from __future__ import annotations

import argparse

import numpy as np

from xairepro.attribution_truth.plan import retrainings, shard
from xairepro.attribution_truth.task_io import Loaded, add_task_arguments
from xairepro.io import Resumable, atomic_path, start_step


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_task_arguments(parser)
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    task = Loaded(args)
    items = shard(retrainings(task.plan, task.n_train), args.shard, args.shards)
    done = Resumable(args.out, vars(args), inputs=[args.data_dir], log=log)
    outputs = []
    for i, (name, keep, seed) in enumerate(items, 1):
        row = done.get(name)
        if row is None:
            row = done.add(name, task.outputs(task.train(keep, seed)).tolist())
            log.info("%s shard %d: retraining %d of %d (%s)", args.task, args.shard, i, len(items), name)
        outputs.append(row)
    with atomic_path(args.out) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, names=np.array([name for name, _, _ in items]), outputs=np.array(outputs, dtype=np.float64))
    done.finish()


if __name__ == "__main__":
    main()
