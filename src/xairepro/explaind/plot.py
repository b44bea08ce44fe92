"""Step explaind_plot: training curves with the phase boundaries, attribution per phase and
component, step attribution over training per component, (image task) pruning curves, and
(modulo) the pipeline experiments: swap (accuracy difference over steps) and retrain (steps to
100% test accuracy against the checkpoint the kept groups come from)."""
from __future__ import annotations

import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xairepro.io import atomic_path, start_step  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--title", required=True)
    ap.add_argument("--curves")
    ap.add_argument("--phases")
    ap.add_argument("--epk")
    ap.add_argument("--out-curves")
    ap.add_argument("--out-phases")
    ap.add_argument("--out-steps")
    ap.add_argument("--pruning")
    ap.add_argument("--out-pruning")
    ap.add_argument("--swap")
    ap.add_argument("--out-swap")
    ap.add_argument("--retrain")
    ap.add_argument("--out-retrain")
    ap.add_argument("--phase-threshold", type=float, default=0.99, help="with --curves and --out-curves only")
    ap.add_argument("--phase-margin", type=float, default=None, help="with --curves and --out-curves only")
    args = ap.parse_args(argv)
    training = (args.curves, args.phases, args.epk, args.out_curves, args.out_phases, args.out_steps)
    pairs = ((args.pruning, args.out_pruning), (args.swap, args.out_swap), (args.retrain, args.out_retrain))
    curves_only = args.curves and args.out_curves and all(a is None for a in training[1:3] + training[4:])
    if any((a is None) != (b is None) for a, b in pairs) or (
            not curves_only and any(a is None for a in training) != all(a is None for a in training)):
        raise ValueError("give --curves/--phases/--epk with their three --out-* files (or --curves with --out-curves "
                         "alone), and/or --pruning, --swap, --retrain each with its --out-* file")
    if curves_only:
        plot_curves(args)
    elif args.curves:
        plot_training(args)
    if args.pruning:
        plot_pruning(args)
    if args.swap:
        plot_swap(args)
    if args.retrain:
        plot_retrain(args)
    log.info("plots written")


def plot_training(args):
    curves, phases = read(args.curves), read(args.phases)
    bounds = sorted({(r["phase"], int(r["start"]), int(r["end"])) for r in phases}, key=lambda b: b[1])

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    steps = [max(int(r["step"]), 1) for r in curves]
    for key in ("train_acc", "test_acc"):
        ax[0].plot(steps, [float(r[key]) for r in curves], label=key)
    for key in ("train_loss", "test_loss"):
        ax[1].plot(steps, [float(r[key]) for r in curves], label=key)
    for a in ax:
        a.set_xscale("log")
        a.set_xlabel("training step")
        for _, start, _ in bounds[1:]:
            a.axvline(max(start, 1), color="grey", ls=":")
        a.legend()
    ax[1].set_yscale("log")
    fig.suptitle(f"{args.title}: training curves (dotted: phase boundaries)")
    save(fig, args.out_curves)

    groups = [r["component"] for r in phases if r["phase"] == bounds[0][0] and r["component"] != "total"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(bounds)
    for j, (phase, start, end) in enumerate(bounds):
        values = [float(r["attribution"]) for r in phases if r["phase"] == phase and r["component"] != "total"]
        ax.bar(np.arange(len(groups)) + j * width, values, width, label=f"{phase} [{start}, {end})")
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, rotation=45, ha="right")
    ax.set_ylabel("mean Σ_s ḡ_s[k]·Δθ_s[k]")
    ax.legend()
    ax.set_title(f"{args.title}: EPK component attribution per training phase")
    save(fig, args.out_phases)

    epk = np.load(args.epk)
    sc = np.abs(epk["step_component"]).mean(0)              # (S, groups)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for k, g in enumerate(epk["groups"]):
        ax.plot(np.arange(sc.shape[0]), sc[:, k], label=str(g), lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("mean |ḡ_s[k]·Δθ_s[k]|")
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(f"{args.title}: step attribution per component")
    save(fig, args.out_steps)


def plot_curves(args):
    """Training curves on a linear step axis with the grokking phases shaded (attribute.phase_bounds from the
    curves alone, so it needs no EPK) and the step where test accuracy reaches the threshold."""
    from .attribute import PHASE_MARGIN, generalised_step, phase_bounds
    curves = read(args.curves)
    n_steps = int(curves[-1]["step"])
    margin = PHASE_MARGIN if args.phase_margin is None else args.phase_margin
    bounds = phase_bounds(curves, n_steps, args.phase_threshold, margin)
    generalised = generalised_step(curves, n_steps, args.phase_threshold)
    steps = [int(r["step"]) for r in curves]
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    for key in ("train_acc", "test_acc"):
        ax[0].plot(steps, [float(r[key]) for r in curves], label=key)
    for key in ("train_loss", "test_loss"):
        ax[1].plot(steps, [float(r[key]) for r in curves], label=key)
    colours = ("tab:blue", "tab:orange", "tab:green")
    for a in ax:
        for (name, start, end), colour in zip(bounds, colours):
            if end > start:
                a.axvspan(start, end, color=colour, alpha=0.08, label=f"{name} [{start}, {end})")
        if generalised < n_steps:
            a.axvline(generalised, color="k", ls=":", lw=0.8, label=f"test acc. ≥ {args.phase_threshold} ({generalised})")
        a.set_xlabel("training step (full batch)")
    ax[0].set_ylabel("accuracy")
    ax[1].set_yscale("log")
    ax[1].set_ylabel("cross-entropy")
    ax[0].legend(fontsize=7)
    fig.suptitle(f"{args.title}: training curves and grokking phases (margin {margin})")
    save(fig, args.out_curves)


def plot_pruning(args):
    rows = read(args.pruning)
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
    for method in sorted({r["method"] for r in rows}):
        sel = [r for r in rows if r["method"] == method]
        for a, key in zip(ax, ("val_acc", "model_acc", "kl_div")):
            a.plot([float(r["fraction"]) for r in sel], [float(r[key]) for r in sel], "o-", label=method)
            a.set_xlabel("fraction pruned")
            a.set_title(key)
    ax[0].legend()
    fig.suptitle(f"{args.title}: pruning by EPK component attribution vs magnitude")
    save(fig, args.out_pruning)


def plot_swap(args):
    rows = read(args.swap)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
    for variant in dict.fromkeys(r["variant"] for r in rows):
        sel = [r for r in rows if r["variant"] == variant]
        steps = [int(r["step"]) for r in sel]
        ax[0].plot(steps, [float(r["accuracy"]) - float(r["step_model_accuracy"]) for r in sel], label=variant)
        ax[1].plot(steps, [float(r["kl_to_final"]) for r in sel], label=variant)
    step_model = [r for r in rows if r["variant"] == rows[0]["variant"]]
    ax[1].plot([int(r["step"]) for r in step_model], [float(r["step_model_kl_to_final"]) for r in step_model],
               "k--", label="step model")
    ax[0].axhline(0, color="grey", lw=0.8)
    ax[0].set_ylabel("test acc. (swapped − step model)")
    ax[1].set_ylabel("KL(model ‖ final model)")
    ax[1].set_yscale("symlog", linthresh=1e-3)
    for a in ax:
        a.set_xlabel("training step s")
        a.legend(fontsize=7)
    fig.suptitle(f"{args.title}: groups swapped in from the final model into θ_s")
    save(fig, args.out_swap)


def plot_retrain(args):
    rows = read(args.retrain)
    budget = max(int(r["max_steps"]) for r in rows)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
    for a, key, title in zip(ax, ("steps_to_generalise", "steps_to_fit"), ("train and test acc. 1.0", "train acc. 1.0")):
        for variant in dict.fromkeys(r["variant"] for r in rows):
            sel = [r for r in rows if r["variant"] == variant]
            # not reached counts as the budget: the mean is then a lower bound
            by_t = {}
            for r in sel:
                by_t.setdefault(r["step_from"], []).append(float(r[key]) if r[key] else float(r["max_steps"]))
            if variant == "scratch":  # no checkpoint: a band over the whole axis
                mean, std = np.mean(by_t[""]), np.std(by_t[""])
                a.axhline(mean, color="k", ls="--", label=f"{variant} (mean ± std)")
                a.axhspan(mean - std, mean + std, color="k", alpha=0.1)
                continue
            ts = sorted(by_t, key=int)
            a.errorbar([int(t) for t in ts], [np.mean(by_t[t]) for t in ts], [np.std(by_t[t]) for t in ts],
                       marker="o", capsize=3, label=variant)
        a.axhline(budget, color="grey", ls=":", label="budget (not reached)")
        a.set_xlabel("checkpoint t of the kept groups")
        a.set_ylabel("steps")
        a.set_ylim(0, budget * 1.05)
        a.set_title(f"steps to {title}")
        a.legend(fontsize=7)
    fig.suptitle(f"{args.title}: retraining with groups kept from step t (mean ± std over seeds)", y=1.03)
    save(fig, args.out_retrain)


if __name__ == "__main__":
    main()
