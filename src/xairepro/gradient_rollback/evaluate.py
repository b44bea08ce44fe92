"""Step 3: delete each explanation set, retrain with the same seed, and record the prediction's new
probability and top-1 (python -m xairepro.gradient_rollback.evaluate). One shard of the (prediction,
set) pairs per job, so the retrainings fan out over cores or SLURM nodes. Logs "retraining i of N" and keeps
finished retrainings in <out>.partial.jsonl, so a killed shard resumes with the next one."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from xairepro.gradient_rollback import data, run
from xairepro.gradient_rollback.model import Trainer, configure_threads, known_tails, tail_probabilities, top1
from xairepro.io import Resumable, start_step, write_json


def shard_jobs(sets: dict, shard: int, shards: int) -> list[tuple[int, str, list[int]]]:
    """Round-robin share `shard` (0-based) of all (test_index, setting, deleted triples) jobs."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be in [0, {shards}), got {shard}")
    jobs = [(p["test_index"], name, ids) for p in sets["predictions"] for name, ids in p["sets"].items()]
    return jobs[shard::shards]


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=data.DATASETS, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--explanations", type=Path, required=True)
    parser.add_argument("--sets", type=Path, required=True)
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--schedule", choices=("fixed", "redrawn"), default="fixed",
                        help="order of a retraining's steps: the full run's (fixed) or drawn anew for the kept triples")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    graph = data.load(args.dataset, args.data_dir)
    settings, _, _, _ = run.load(args.run_dir)
    if settings.authors and args.schedule != "fixed":
        raise ValueError("mode 'authors' retrains by skipping the deleted triples' steps: use --schedule fixed")
    predictions = {r["test_index"]: r for r in json.loads(args.explanations.read_text())["explained"]}
    jobs = shard_jobs(json.loads(args.sets.read_text()), args.shard, args.shards)
    trainer = Trainer(settings, len(graph.entities), len(graph.relations))
    # Authors mode: the top-1 after retraining skips the known (train, validation) tails, as at explanation.
    known = known_tails(np.concatenate([graph.train, graph.valid])) if settings.authors else {}
    done = Resumable(args.out, vars(args), inputs=[args.run_dir, args.explanations, args.sets], log=log)
    records = []
    for i, (test_index, name, removed) in enumerate(jobs, 1):
        key = f"{test_index}/{name}"
        record = done.get(key)
        if record is None:
            h, r, _ = predictions[test_index]["triple"]
            # Authors mode: all epochs, the last one kept (their step 3 never validates a retraining).
            retrained = trainer.train(graph.train, removed=removed, track=False, redraw=args.schedule == "redrawn")
            p = tail_probabilities(settings.model, retrained.E, retrained.R, h, r)
            record = done.add(key, {"test_index": test_index, "setting": name, "deleted": len(removed),
                                    "probability_after": float(p[predictions[test_index]["prediction"]]),
                                    "top1_after": top1(p, known.get((h, r), ()))})
        log.info("shard %d: retraining %d of %d (test triple %d, %s)", args.shard, i, len(jobs), test_index, name)
        records.append(record)
    write_json(args.out, {"shard": args.shard, "shards": args.shards, "retrained": records})
    done.finish()
    log.info("shard %d/%d: %d retrainings", args.shard, args.shards, len(records))


if __name__ == "__main__":
    main()
