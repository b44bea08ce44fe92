"""Cost of Gradient Rollback's influence tracking and of its evaluation, at the paper's settings, one core:

    .venvs/tf/bin/python benchmarks/gradient_rollback_training.py --data-root data \
        --out results/benchmarks/gradient_rollback/training.json

- Nations/DistMult: training with the influence map γ vs plain training (same compiled model, data,
  seed), for both credits (touched, hrt), best of --repeats runs each, interleaved: the ratio is the
  overhead (goal <= 1.5). One retraining (what each evaluation job does per deletion set) and a
  process's fixed start-up cost (TensorFlow import + compile), extrapolated to the paper's evaluation of
  all 201 Nations test triples x 6 settings (GR/NH x k = 1, 10, all) as a SLURM array of 67 jobs.
- FB15k-237 and Movielens-100k (if present under --data-root; dim 100, 500 negatives, credit hrt): the
  same ratio on the first --slice training triples, and the per-step time extrapolated to one full
  retraining and to the paper's evaluation (100 test triples x 6 settings) as a SLURM array of 100 jobs.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

from xairepro.gradient_rollback import data
from xairepro.gradient_rollback.model import Settings, Trainer, configure_threads
from xairepro.io import start_step, write_json

PAPER_EVAL = {"nations": (201 * 6, 67), "fb15k-237": (100 * 6, 100), "movielens-100k": (100 * 6, 100)}


def tracked_vs_plain(settings: Settings, graph: data.Graph, train, repeats: int) -> dict:
    """Best-of-`repeats` seconds of tracked and plain training on `train`, interleaved."""
    trainer = Trainer(settings, len(graph.entities), len(graph.relations))
    trainer.train(train, track=True)
    trainer.train(train, track=False)  # both loops compiled before timing
    times = {"tracked": [], "plain": []}
    for _ in range(repeats):
        for track, key in ((True, "tracked"), (False, "plain")):
            start = time.perf_counter()
            trainer.train(train, track=track)
            times[key].append(time.perf_counter() - start)
    tracked, plain = min(times["tracked"]), min(times["plain"])
    return {"train_tracked_s": round(tracked, 4), "train_plain_s": round(plain, 4),
            "overhead_ratio": round(tracked / plain, 3)}


def process_startup(data_dir: Path, plain_s: float) -> float:
    """A fresh process: import TensorFlow, load, compile and run one retraining, minus the retraining."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from xairepro.gradient_rollback import data, model as m; "
                    "m.configure_threads(1); g = data.load('nations', '%s'); "
                    "m.Trainer(m.Settings(), len(g.entities), len(g.relations)).train(g.train, track=False)"
                    % data_dir], check=True, capture_output=True)
    return max(time.perf_counter() - start - plain_s, 0.0)


def extrapolate(dataset: str, retraining_s: float, startup_s: float) -> dict:
    retrainings, jobs = PAPER_EVAL[dataset]
    return {"paper_eval_retrainings": retrainings, "paper_eval_one_core_h": round(retrainings * retraining_s / 3600, 3),
            "slurm_array_jobs": jobs, "slurm_array_wall_s_per_job": round(startup_s + retrainings / jobs * retraining_s, 1)}


def main(argv=None) -> None:
    log = start_step("gradient_rollback_training")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=Path("data"))
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--slice", type=int, default=5000, help="training triples timed on FB15k-237/Movielens")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    configure_threads(1)
    nations = data.load("nations", a.data_root / "nations")
    result = {"nations": {"settings": "DistMult, dim 10, 10 epochs, batch 1, 13 negatives, float64, 1 thread"}}
    for credit in ("touched", "hrt"):
        result["nations"][credit] = tracked_vs_plain(Settings(credit=credit), nations, nations.train, a.repeats)
        log.info("nations %s: %s", credit, result["nations"][credit])
    plain = result["nations"]["touched"]["train_plain_s"]
    startup = process_startup(a.data_root / "nations", plain)
    result["nations"].update({"retraining_s": plain, "process_startup_s": round(startup, 3),
                              **extrapolate("nations", plain, startup)})
    for dataset in ("fb15k-237", "movielens-100k"):
        if not (a.data_root / dataset).is_dir():
            log.info("%s: not under %s, skipped", dataset, a.data_root)
            continue
        graph = data.load(dataset, a.data_root / dataset)
        settings = Settings(dim=100, epochs=1, negatives=500, credit="hrt")
        timing = tracked_vs_plain(settings, graph, graph.train[:a.slice], max(1, a.repeats // 10))
        retraining = timing["train_plain_s"] / a.slice * len(graph.train)
        result[dataset] = {"settings": f"DistMult, dim 100, 1 epoch, 500 negatives, credit hrt; first {a.slice} "
                           f"of {len(graph.train)} triples timed", **timing,
                           "step_ms": round(timing["train_plain_s"] / a.slice * 1e3, 3),
                           "retraining_s": round(retraining, 1), **extrapolate(dataset, retraining, startup)}
        log.info("%s: %s", dataset, result[dataset])
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    write_json(a.out, result)
    log.info("%s", result)


if __name__ == "__main__":
    main()
