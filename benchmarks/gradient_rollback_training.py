"""Cost of Gradient Rollback's influence tracking and of its evaluation, on Nations/DistMult at the
paper's settings, one core:

    .venvs/tf/bin/python benchmarks/gradient_rollback_training.py --data-dir data/nations \
        --out results/benchmarks/gradient_rollback/training.json

- training with the influence map γ vs plain training (same compiled model, data, seed), best of
  --repeats runs each, interleaved: the ratio is the overhead (goal <= 1.5);
- one retraining (what each evaluation job does per deletion set) and a process's fixed start-up cost
  (TensorFlow import + graph compile), extrapolated to the paper's evaluation of all 201 Nations test
  triples x 6 settings (GR/NH x k = 1, 10, all) as a SLURM array of --shards jobs.
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


def main(argv=None) -> None:
    log = start_step("gradient_rollback_training")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("data/nations"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--shards", type=int, default=67)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    configure_threads(1)
    graph = data.load("nations", a.data_dir)
    settings = Settings()
    trainer = Trainer(settings, len(graph.entities), len(graph.relations))
    start = time.perf_counter()
    trainer.train(graph.train, track=True)
    trainer.train(graph.train, track=False)
    first_calls = time.perf_counter() - start  # includes tracing both compiled loops
    times = {"tracked": [], "plain": []}
    for _ in range(a.repeats):
        for track, key in ((True, "tracked"), (False, "plain")):
            start = time.perf_counter()
            trainer.train(graph.train, track=track)
            times[key].append(time.perf_counter() - start)
    tracked, plain = min(times["tracked"]), min(times["plain"])
    # A fresh process: import TensorFlow, load, compile and run one retraining.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from xairepro.gradient_rollback import data, model as m; "
                    "m.configure_threads(1); g = data.load('nations', '%s'); "
                    "m.Trainer(m.Settings(), len(g.entities), len(g.relations)).train(g.train, track=False)"
                    % a.data_dir], check=True, capture_output=True)
    process = time.perf_counter() - start
    startup = max(process - plain, 0.0)
    retrainings = 201 * 6
    per_job = startup + retrainings / a.shards * plain
    result = {"settings": "Nations, DistMult, dim 10, 10 epochs, batch 1, 13 negatives, float64, 1 thread",
              "train_tracked_s": round(tracked, 3), "train_plain_s": round(plain, 3),
              "overhead_ratio": round(tracked / plain, 3), "first_calls_with_tracing_s": round(first_calls, 3),
              "retraining_s": round(plain, 3), "process_startup_s": round(startup, 3),
              "paper_eval_retrainings": retrainings, "paper_eval_one_core_s": round(startup + retrainings * plain, 1),
              "slurm_array_jobs": a.shards, "slurm_array_wall_s_per_job": round(per_job, 1),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    write_json(a.out, result)
    log.info("%s", result)


if __name__ == "__main__":
    main()
