"""Step explaind_attribute: tables from the streamed EPK attributions (epk.npz).

- phases.csv: training phases found from the curves (memorisation: until train accuracy reaches the
  threshold; circuit formation: until test accuracy does; cleanup: the rest — the grokking phases),
  and per phase and component the mean (over explained test points) of Σ_s ḡ_s[k]·Δθ_s[k].
- components.csv: per component (parameter group) its total attribution and mean |attribution|.
- top_examples.csv: per explained test point the strongest proponents and opponents (data attribution).
- comparison.csv: EPK fidelity and final accuracies next to the published values (the paper gives
  none of these numbers, see shared/papers/published_numbers.md, so `published` stays empty).
"""
from __future__ import annotations

import argparse
import csv
import json

import numpy as np

from xairepro import published
from xairepro.io import start_step, write_csv

PHASES = ("memorisation", "circuit formation", "cleanup")


def phase_bounds(curves: list[dict], n_steps: int, threshold: float) -> list[tuple[str, int, int]]:
    """[(phase, first step, end step)], from the first evaluated step where train (then test)
    accuracy reaches `threshold`; a boundary never reached is n_steps (the later phases are empty)."""
    def first(key):
        hits = [int(r["step"]) for r in curves if float(r[key]) >= threshold]
        return min(hits[0], n_steps) if hits else n_steps
    t_mem = first("train_acc")
    t_gen = max(t_mem, first("test_acc"))
    return [(PHASES[0], 0, t_mem), (PHASES[1], t_mem, t_gen), (PHASES[2], t_gen, n_steps)]


def comparison_rows(task: str, model: str, fidelity: dict, curves: list[dict]) -> list[dict]:
    ours = {("epk_fidelity", "relative_error"): fidelity["relative_error"],
            ("epk_fidelity", "max_abs_error"): fidelity["max_abs_error"],
            ("training", "train_acc"): curves[-1]["train_acc"], ("training", "test_acc"): curves[-1]["test_acc"]}
    setting = (f"ours: {fidelity['dataset']}, {fidelity['n_steps']} steps, T={fidelity['integration_steps']}, "
               f"{fidelity['n_explained']} explained test points")
    rows = []
    for (experiment, metric), value in ours.items():
        row = published.lookup("explaind", experiment, task, model, metric)
        rows.append({"paper": "explaind", "experiment": experiment, "dataset": task, "model": model, "metric": metric,
                     "published": row["published"] if row else "", "ours": value,
                     "source": f"{row['source']}; {setting}" if row else f"no published value in reach; {setting}"})
    return rows


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epk", required=True)
    ap.add_argument("--curves", required=True)
    ap.add_argument("--phase-threshold", type=float, default=0.99)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--phases", required=True)
    ap.add_argument("--components", required=True)
    ap.add_argument("--top-examples", required=True)
    ap.add_argument("--fidelity", required=True, help="fidelity.json of explaind_epk")
    ap.add_argument("--task", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--comparison", required=True)
    args = ap.parse_args(argv)
    if not 0 < args.phase_threshold <= 1 or args.top_k < 1:
        raise ValueError("--phase-threshold must be in (0, 1] and --top-k >= 1")
    epk = np.load(args.epk)
    with open(args.curves, newline="") as f:
        curves = list(csv.DictReader(f))
    sc, groups = epk["step_component"], [str(g) for g in epk["groups"]]
    n_steps = sc.shape[1]
    rows = []
    for phase, start, end in phase_bounds(curves, n_steps, args.phase_threshold):
        per_group = sc[:, start:end].sum(1).mean(0)          # mean over explained points, (groups,)
        for g, value in zip(groups, per_group):
            rows.append({"phase": phase, "start": start, "end": end, "component": g, "attribution": f"{value:.6g}"})
        rows.append({"phase": phase, "start": start, "end": end, "component": "total",
                     "attribution": f"{per_group.sum():.6g}"})
    write_csv(args.phases, rows)
    total = sc.sum(1)                                           # (n, groups)
    write_csv(args.components, [{"component": g, "attribution": f"{total[:, k].mean():.6g}",
                                 "mean_abs_attribution": f"{np.abs(total[:, k]).mean():.6g}"}
                                for k, g in enumerate(groups)])
    top = []
    for j, row in enumerate(epk["data"]):
        order = np.argsort(row, kind="stable")
        for kind, picks in (("proponent", order[::-1][:args.top_k]), ("opponent", order[:args.top_k])):
            for rank, i in enumerate(picks, 1):
                top.append({"test_index": int(epk["explained"][j]), "kind": kind, "rank": rank,
                            "train_index": int(i), "attribution": f"{row[i]:.6g}"})
    write_csv(args.top_examples, top)
    fidelity = json.loads(open(args.fidelity).read())
    write_csv(args.comparison, comparison_rows(args.task, args.model, fidelity, curves))
    log.info("phases: %s", [(p, s, e) for p, s, e in phase_bounds(curves, n_steps, args.phase_threshold)])


if __name__ == "__main__":
    main()
