"""Step explaind_attribute: tables from the streamed EPK attributions (epk.npz).

- phases.csv: training phases found from the curves, after Nanda et al. (ICLR 2023, "Progress measures
  for grokking"): memorisation until train accuracy reaches the threshold; circuit formation until test
  accuracy first leaves its memorisation plateau (the test accuracy where memorisation ended) by
  `--phase-margin`; cleanup the rest, so the test-accuracy jump (grokking) lies inside cleanup, as in
  Nanda et al.; `generalised` marks where test accuracy reaches the threshold. Per phase and component
  the mean and std (over explained test points) of Σ_s ḡ_s[k]·Δθ_s[k] (`attribution`, `attribution_std`); the
  component's share of Σ |Σ_{s in a window} ḡ_s[k]·Δθ_s[k]| over windows of `--share-window` steps
  (`abs_share`: what moved the output, cancellations across windows aside); and its share of the mean
  |phase sum| per point (`net_abs_share`: what moved each point's output over the whole phase). Beside
  them weight decay's part of the attribution (`decay`, `decay_std`: Σ_s of the step_decay terms) and the
  training data's (`data`, `data_std`: the rest), so each phase shows how much of the movement is
  regularisation; `decay_to_data_l1` is Σ_s Σ_x |decay term| / Σ_s Σ_x |data term| of single steps, the
  reduction of the authors' grokking plot (their "Regularization" curve is the per-step L1 norm of the
  weight-decay term beside the kernel's), free of the signs that cancel in the phase sums. With decoupled decay (AdamW) the split is exact per step; with SGD's coupled decay a
  step's decay reaches the update through the momentum (explainer.EPKResult.step_decay).
- components.csv: per component (parameter group) its total attribution and mean |attribution|.
- top_examples.csv: per explained test point the strongest proponents and opponents (data attribution;
  only the header when explaind_epk skipped the per-example split).
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


PHASE_MARGIN = 0.1  # test accuracy above its memorisation plateau that ends circuit formation


def phase_bounds(curves: list[dict], n_steps: int, threshold: float,
                 margin: float = PHASE_MARGIN) -> list[tuple[str, int, int]]:
    """[(phase, first step, end step)] of the grokking phases (Nanda et al. 2023):

    - memorisation [0, t_mem): t_mem = first evaluated step with train accuracy >= `threshold`;
    - circuit formation [t_mem, t_clean): t_clean = first evaluated step >= t_mem whose test accuracy is at
      least min(plateau + `margin`, threshold), plateau = test accuracy at t_mem (the memorisation plateau);
    - cleanup [t_clean, n_steps): test accuracy leaves the plateau and jumps (weight decay removes the
      memorising components), so the jump to `threshold` lies inside cleanup.

    A boundary never reached is n_steps (the later phases are empty)."""
    def first(key, level, after=0):
        hits = [int(r["step"]) for r in curves if int(r["step"]) >= after and float(r[key]) >= level]
        return min(hits[0], n_steps) if hits else n_steps
    t_mem = first("train_acc", threshold)
    at_mem = [float(r["test_acc"]) for r in curves if int(r["step"]) == t_mem]
    plateau = at_mem[0] if at_mem else 1.0
    t_clean = first("test_acc", min(plateau + margin, threshold), t_mem) if t_mem < n_steps else n_steps
    return [(PHASES[0], 0, t_mem), (PHASES[1], t_mem, t_clean), (PHASES[2], t_clean, n_steps)]


def generalised_step(curves: list[dict], n_steps: int, threshold: float) -> int:
    """First evaluated step with test accuracy >= `threshold` (n_steps if never): the end of the jump."""
    hits = [int(r["step"]) for r in curves if float(r["test_acc"]) >= threshold]
    return min(hits[0], n_steps) if hits else n_steps


# The paper's EPK fidelity ("EPK Acc.", KL(model ‖ EPK)) by setup and T: secondary source (Paper-Notes-en note on
# the ICML 2026 version; shared/papers/published_numbers.md addendum 4a). Not in published_numbers.csv, so
# these rows get no scorecard verdict; they stand next to ours in comparison.csv only.
PAPER_FIDELITY = {("MOD-113", 100): {"epk_accuracy": 1.0, "kl": 0.0},
                  ("MOD-113", 10): {"epk_accuracy": 0.748, "kl": 0.885},
                  ("CIFAR-2", 100): {"epk_accuracy": 1.0, "kl": 0.0}}
PAPER_FIDELITY_SOURCE = ("secondary: Paper-Notes-en note on the ICML 2026 version, "
                         "'Exactness of the EPK Representation' table ({setup}); not in published_numbers.csv")


def comparison_rows(task: str, model: str, fidelity: dict, curves: list[dict]) -> list[dict]:
    ours = {("epk_fidelity", "relative_error"): fidelity["relative_error"],
            ("epk_fidelity", "max_abs_error"): fidelity["max_abs_error"],
            ("training", "train_acc"): curves[-1]["train_acc"], ("training", "test_acc"): curves[-1]["test_acc"]}
    setup = "MOD-113" if fidelity["dataset"].startswith("modulo") else "CIFAR-2"
    paper = {}
    all_logits = fidelity.get("all_logits")
    if all_logits:
        for T, measured in all_logits["by_T"].items():
            for metric in ("epk_accuracy", "kl", "relative_error"):
                ours[("epk_fidelity", f"{metric}_all_logits_T{T}")] = measured[metric]
                if metric in PAPER_FIDELITY.get((setup, int(T)), {}):
                    paper[f"{metric}_all_logits_T{T}"] = PAPER_FIDELITY[(setup, int(T))][metric]
        if all_logits.get("error_slope") is not None:
            ours[("epk_fidelity", "relative_error_order_in_T")] = all_logits["error_slope"]
    setting = (f"ours: {fidelity['dataset']}, {fidelity['n_steps']} steps, T={fidelity['integration_steps']}, "
               f"{fidelity['n_explained']} explained test points")
    if all_logits:
        setting += (f"; all-logit fidelity on {all_logits['n_points']} test points x {all_logits['n_outputs']} "
                    "outputs, KL(model || EPK) mean over points")
    rows = []
    for (experiment, metric), value in ours.items():
        row = published.lookup("explaind", experiment, task, model, metric)
        if row:
            pub, source = row["published"], f"{row['source']}; {setting}"
        elif metric in paper:
            pub, source = paper[metric], f"{PAPER_FIDELITY_SOURCE.format(setup=setup)}; paper setup {setup}; {setting}"
        else:
            pub, source = "", f"no published value in reach; {setting}"
        rows.append({"paper": "explaind", "experiment": experiment, "dataset": task, "model": model, "metric": metric,
                     "published": pub, "ours": value, "source": source})
    return rows


def shares(terms: np.ndarray, window: int) -> np.ndarray:
    """Each component's share of Σ |term summed over `window` consecutive steps|, mean over points.

    terms: (points, steps, groups). Per-step terms can swing sign every step (a period-2 oscillation of
    full-batch training), so |·| of single steps counts every zig and zag; summing a window first, as the
    authors store their kernel every 50 steps, leaves what the component moved over that window."""
    n, steps, k = terms.shape
    pad = (-steps) % window
    blocks = np.concatenate([terms, np.zeros((n, pad, k), terms.dtype)], 1).reshape(n, -1, window, k).sum(2)
    moved = np.abs(blocks).sum(1).mean(0)
    return moved / moved.sum() if moved.sum() > 0 else np.zeros(k)


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epk", required=True)
    ap.add_argument("--curves", required=True)
    ap.add_argument("--phase-threshold", type=float, default=0.99)
    ap.add_argument("--phase-margin", type=float, default=PHASE_MARGIN,
                    help="test-accuracy rise above the memorisation plateau that starts cleanup")
    ap.add_argument("--share-window", type=int, default=50,
                    help="steps summed before |·| in the phase shares (authors: kernels stored every 50 steps)")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--phases", required=True)
    ap.add_argument("--components", required=True)
    ap.add_argument("--top-examples", required=True)
    ap.add_argument("--fidelity", required=True, help="fidelity.json of explaind_epk")
    ap.add_argument("--task", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--comparison", required=True)
    args = ap.parse_args(argv)
    if not 0 < args.phase_threshold <= 1 or not 0 < args.phase_margin <= 1 or args.top_k < 1 or args.share_window < 1:
        raise ValueError("--phase-threshold and --phase-margin must be in (0, 1], --top-k and --share-window >= 1")
    epk = np.load(args.epk)
    if "step_decay" not in epk:
        raise ValueError(f"{args.epk} has no step_decay: it was written by an older explaind_epk; rerun that step "
                         "(snakemake --forcerun explaind_epk)")
    with open(args.curves, newline="") as f:
        curves = list(csv.DictReader(f))
    sc, sd_decay, groups = epk["step_component"], epk["step_decay"], [str(g) for g in epk["groups"]]
    n_steps = sc.shape[1]
    sd = lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0  # noqa: E731  over the explained points
    rows = []
    bounds = phase_bounds(curves, n_steps, args.phase_threshold, args.phase_margin)
    generalised = generalised_step(curves, n_steps, args.phase_threshold)
    for phase, start, end in bounds:
        net = sc[:, start:end].sum(1)                        # (points, groups)
        decay = sd_decay[:, start:end].sum(1)
        moved, net_moved = shares(sc[:, start:end], args.share_window), shares(net[:, None], 1)
        # per component, then the total row over the summed components
        step_decay, step_data = sd_decay[:, start:end], sc[:, start:end] - sd_decay[:, start:end]
        l1 = lambda d, r: float(np.abs(d).sum() / np.abs(r).sum()) if np.abs(r).sum() > 0 else float("nan")  # noqa: E731
        per_row = [(g, net[:, k], decay[:, k], moved[k], net_moved[k], l1(step_decay[..., k], step_data[..., k]))
                   for k, g in enumerate(groups)]
        per_row.append(("total", net.sum(1), decay.sum(1), moved.sum(), net_moved.sum(),
                        l1(step_decay.sum(2), step_data.sum(2))))
        for g, a, d, part, net_part, ratio in per_row:
            rows.append({"phase": phase, "start": start, "end": end, "generalised": generalised, "component": g,
                         "attribution": f"{a.mean():.6g}", "attribution_std": f"{sd(a):.6g}",
                         "abs_share": f"{part:.6g}", "net_abs_share": f"{net_part:.6g}",
                         "share_window": args.share_window, "data": f"{(a - d).mean():.6g}",
                         "data_std": f"{sd(a - d):.6g}", "decay": f"{d.mean():.6g}", "decay_std": f"{sd(d):.6g}",
                         "decay_to_data_l1": f"{ratio:.6g}"})
    write_csv(args.phases, rows)
    total = sc.sum(1)                                           # (n, groups)
    write_csv(args.components, [{"component": g, "attribution": f"{total[:, k].mean():.6g}",
                                 "mean_abs_attribution": f"{np.abs(total[:, k]).mean():.6g}"}
                                for k, g in enumerate(groups)])
    top = []
    for j, row in enumerate(epk["data"] if "data" in epk else []):
        order = np.argsort(row, kind="stable")
        for kind, picks in (("proponent", order[::-1][:args.top_k]), ("opponent", order[:args.top_k])):
            for rank, i in enumerate(picks, 1):
                top.append({"test_index": int(epk["explained"][j]), "kind": kind, "rank": rank,
                            "train_index": int(i), "attribution": f"{row[i]:.6g}"})
    write_csv(args.top_examples, top, ["test_index", "kind", "rank", "train_index", "attribution"])
    fidelity = json.loads(open(args.fidelity).read())
    write_csv(args.comparison, comparison_rows(args.task, args.model, fidelity, curves))
    log.info("phases: %s; test accuracy >= %g at step %d", bounds, args.phase_threshold, generalised)


if __name__ == "__main__":
    main()
