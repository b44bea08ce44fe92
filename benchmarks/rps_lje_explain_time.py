"""Explain-all-test-points time of RPS-LJE vs RPS-l2 vs last-layer IF, like with like, over all runs.

For every trained model given (each run's train.npz), in one process and on the same features:
- RPS-LJE (one ascent step, one Hessian solve);
- RPS-l2 as the authors run it (line-search gradient descent, stop at mean|∇| < initial/200);
- RPS-l2's same objective solved by Newton's method to ‖∇‖ < 1e-10 (what an exact solve costs);
- the last-layer influence function.
Each time is the best of 3 repeats of fit + importance (all test points) + self-importance; the table
gives the median and the range over runs, and the RPS-l2 epochs. Ratios are within this one run.

    .venvs/torch/bin/python benchmarks/rps_lje_explain_time.py results/rps_lje/*/*/run*/train.npz \
        --markdown results/benchmarks/rps_lje_explain_time.md

--markdown also writes the table as a Markdown code block, which `make readme-results` puts in the README.
"""
import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from xairepro.io import atomic_path
from xairepro.rps_lje.explainers import RPSL2, RPSLJE, InfluenceFunction

METHODS = {
    "RPS-LJE": lambda: RPSLJE(gamma=1e-5, damping=1e-3),
    "RPS-l2 (authors' stop)": lambda: RPSL2(lmbda=0.003, epochs=3000),
    "RPS-l2 (Newton)": lambda: RPSL2(lmbda=0.003, solver="newton"),
    "IF": lambda: InfluenceFunction(damping=1e-3),
}


def write_code_block(path, lines):
    with atomic_path(path) as tmp:
        tmp.write_text("```\n" + "\n".join(lines) + "\n```\n")


def best_time(make, data, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        explainer = make().fit(data["phi_train"], data["y_train"], data["weights"])
        explainer.importance(data["phi_test"])
        explainer.self_importance()
        best = min(best, time.perf_counter() - start)
    return best, getattr(explainer, "epochs_run", "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("train", nargs="+", help="train.npz files of the rps_train step (one per run)")
    p.add_argument("--markdown", help="also write the table here, for the README")
    args = p.parse_args()
    torch.set_num_threads(1)
    by_task = defaultdict(list)
    for path in args.train:
        by_task[Path(path).parents[1].relative_to(Path(path).parents[3]).as_posix()].append(path)
    lines = [f"{'task':<24}{'method':<24}{'runs':>5}{'median s':>11}{'min s':>10}{'max s':>10}{'epochs':>14}"
             f"{'x LJE':>8}"]
    for task, paths in by_task.items():
        times, epochs = defaultdict(list), defaultdict(list)
        for path in paths:
            data = dict(np.load(path))
            for name, make in METHODS.items():
                seconds, run_epochs = best_time(make, data)
                times[name].append(seconds)
                epochs[name].append(run_epochs)
        lje = np.median(times["RPS-LJE"])
        for name in METHODS:
            t = np.array(times[name])
            e = [x for x in epochs[name] if x != ""]
            span = f"{min(e)}-{max(e)}" if e else ""
            lines.append(f"{task:<24}{name:<24}{len(t):>5}{np.median(t):>11.4f}{t.min():>10.4f}{t.max():>10.4f}"
                         f"{span:>14}{np.median(t) / lje:>8.1f}")
    print("\n".join(lines))
    if args.markdown:
        write_code_block(args.markdown, lines)


if __name__ == "__main__":
    main()
