"""Step explaind_report: the default run's ExPLAIND numbers as Markdown for the README (`make
readme-results`), so none of them is typed by hand: kernel fidelity and final accuracies per task, pruning
by EPK component attribution vs magnitude, as mean ± std over the training seeds, and the grokking
pipeline experiments (swap, retrain) of the first seed.

    python -m xairepro.explaind.report --runs results/explaind/modulo/seed0 results/explaind/digits2/seed0 \
        results/explaind/digits2/seed1 ... --out summary.md
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd

from xairepro.io import atomic_path, start_step

VARIANTS = {"pipeline": "pipeline", "decoder": "decoder only", "all_but_attention": "all but attention"}


PAPER_FIDELITY_NOTE = ("Paper (secondary source, addendum 4a of shared/papers/published_numbers.md): EPK accuracy "
                       "1.0 and KL 0.0 at T = 100 on MOD-113 and CIFAR-2; 0.748 and 0.885 at T = 10 on MOD-113.")
METHODS = {"authors": "authors' score", "signed": "signed (ours before)", "magnitude": "magnitude"}


def by_task(runs: list[Path]) -> dict[str, list[Path]]:
    """Seed folders (results/explaind/<task>/seed<s>) grouped by task, in the order given."""
    tasks: dict[str, list[Path]] = {}
    for run in runs:
        tasks.setdefault(run.parent.name, []).append(run)
    return tasks


def run_label(run: Path) -> str:
    """A run folder as text: `modulo, seed 0` for results/explaind/modulo/seed0 (a folder of no seed: its name)."""
    seed = run.name.removeprefix("seed")
    return f"{run.parent.name}, seed {seed}" if seed.isdigit() else run.name


def seed_names(runs: list[Path]) -> str:
    """The seeds of a task's runs as a table cell: `0 (one seed)` or `0, 1, 2`."""
    seeds = [run.name.removeprefix("seed") for run in runs]
    return f"{seeds[0]} (one seed)" if len(seeds) == 1 else ", ".join(seeds)


def spread(values: list[float], fmt: str) -> str:
    """A number over the seeds: mean ± sample std (as scorecard.seeds), or the value alone from one seed."""
    mean = format(statistics.fmean(values), fmt)
    return mean if len(values) == 1 else f"{mean} ± {format(statistics.stdev(values), fmt)}"


def same(values: list) -> str:
    """A setting that should not change with the seed (steps, T, sizes): one value, or each seed's."""
    return " / ".join(dict.fromkeys(map(str, values)))


def fidelity_table(tasks: dict[str, list[Path]]) -> list[str]:
    lines = ["Mean ± std (sample std) over each task's training seeds; a task run with one seed gives its value "
             "alone.", "", "| task | seeds | steps | EPK relative error, label logit (T) | max abs error | final train acc. | "
             "final test acc. |", "|---|---|---|---|---|---|---|"]
    every = []
    for task, runs in tasks.items():
        fidelity = [json.loads((run / "fidelity.json").read_text()) for run in runs]
        last = [pd.read_csv(run / "training_curves.csv").iloc[-1] for run in runs]
        column = lambda key: [f[key] for f in fidelity]  # noqa: E731
        lines.append(f"| {task} | {seed_names(runs)} | {same(column('n_steps'))} | "
                     f"{spread(column('relative_error'), '.2g')} (T = {same(column('integration_steps'))}) | "
                     f"{spread(column('max_abs_error'), '.2g')} | {spread([r['train_acc'] for r in last], '.2f')} | "
                     f"{spread([r['test_acc'] for r in last], '.2f')} |")
        if all("all_logits" in f for f in fidelity):
            every.append((task, runs, [f["all_logits"] for f in fidelity]))
    if every:
        lines += ["", "EPK prediction of every logit (the paper's fidelity measures; EPK accuracy: share of points "
                  "whose argmax of the reconstructed logits is the model's; KL(model ‖ EPK) of the softmax, mean "
                  "over points):", "",
                  "| task | seeds | points × outputs | T | EPK accuracy | KL(model ‖ EPK) | relative error, all logits | "
                  "error ∝ T^−p, p |", "|---|---|---|---|---|---|---|---|"]
        for task, runs, fids in every:
            slopes = [f["error_slope"] for f in fids if f.get("error_slope") is not None]
            slope = spread(slopes, ".2f") if len(slopes) == len(fids) else "–"
            size = same(f"{f['n_points']} × {f['n_outputs']}" for f in fids)
            for T in sorted(fids[0]["by_T"], key=int):
                at_T = [f["by_T"][T] for f in fids]
                lines.append(f"| {task} | {seed_names(runs)} | {size} | {T} | "
                             f"{spread([m['epk_accuracy'] for m in at_T], '.3f')} | "
                             f"{spread([max(m['kl'], 0.0) for m in at_T], '.2g')} | "
                             f"{spread([m['relative_error'] for m in at_T], '.2g')} | {slope} |")
        lines += ["", PAPER_FIDELITY_NOTE]
    return lines


def pruning_table(runs: list[Path]) -> list[str]:
    """Each fraction and score: accuracy / agreement / KL, each as mean ± std over the task's seeds."""
    tables = [pd.read_csv(run / "pruning.csv") for run in runs]
    methods = [m for m in METHODS if m in set(tables[0]["method"])]
    lines = [f"Pruning {runs[0].parent.name} without retraining (output layer kept; fraction of the other parameters, "
             "lowest score first, one ranking over all layers), on held-out test points: accuracy / agreement with the "
             f"unpruned model / KL(unpruned ‖ pruned); seeds {seed_names(runs)}:", "",
             "| pruned | of all params | " + " | ".join(METHODS[m] for m in methods) + " |",
             "|---|---|" + "---|" * len(methods)]
    indexed = [t.set_index(["fraction", "method"]) for t in tables]

    def cell(fraction, method):
        rows = [t.loc[(fraction, method)] for t in indexed]
        return " / ".join(spread([float(r[k]) for r in rows], fmt)
                          for k, fmt in (("val_acc", ".3f"), ("model_acc", ".3f"), ("kl_div", ".2g")))

    for fraction in sorted(tables[0]["fraction"].unique()):
        pruned = same(f"{t.loc[t['fraction'] == fraction, 'pruned'].iloc[0]:.1%}" for t in tables)
        lines.append(f"| {fraction:.1%} | {pruned} | " + " | ".join(cell(fraction, m) for m in methods) + " |")
    return lines


def swap_table(path: Path, max_columns: int = 12) -> list[str]:
    """Accuracy difference swapped − step model per variant; a long run shows every k-th checkpoint (and the
    last), at most `max_columns` of them."""
    swap = pd.read_csv(path)
    steps = sorted(swap["step"].unique())
    if len(steps) > max_columns:
        stride = -(-(len(steps) - 1) // (max_columns - 1))
        steps = sorted(set(steps[::stride]) | {steps[-1]})
    lines = ["| swap: test acc. of the swapped model − the step model's | " + " | ".join(f"s = {s}" for s in steps) + " |",
             "|---|" + "---|" * len(steps)]
    for variant, name in VARIANTS.items():
        rows = swap[swap["variant"] == variant].set_index("step")
        if len(rows):
            lines.append(f"| {name} | " + " | ".join(
                f"{rows.loc[s, 'accuracy'] - rows.loc[s, 'step_model_accuracy']:+.3f}" for s in steps) + " |")
    own = swap.drop_duplicates("step").set_index("step")["step_model_accuracy"]
    lines.append("| (the step model's own test acc.) | " + " | ".join(f"{own[s]:.2f}" for s in steps) + " |")
    return lines


def retrain_table(path: Path) -> list[str]:
    runs = pd.read_csv(path)
    budget = int(runs["max_steps"].iloc[0])
    seeds = sorted(runs["seed"].unique())
    lines = [f"| retrain ({budget}-step budget) | steps to 100% train acc., seed {' / '.join(map(str, seeds))} | "
             "steps to generalisation (train acc. 1.0, test acc. at the stop level) | mean ± std over seeds "
             "(not reached = budget) | final test acc. |", "|---|---|---|---|---|"]
    runs["step_from"] = runs["step_from"].fillna(-1).astype(int)
    for (variant, start), group in runs.groupby(["variant", "step_from"], sort=False):
        group = group.set_index("seed").loc[seeds]
        name = variant if start < 0 else f"{variant} kept from t = {start}"
        cell = lambda col, fmt: " / ".join("–" if pd.isna(v) else fmt.format(v) for v in group[col])  # noqa: E731
        lines.append(f"| {name} | {cell('steps_to_fit', '{:.0f}')} | {cell('steps_to_generalise', '{:.0f}')} | "
                     f"{mean_std(group['steps_to_generalise'], budget)} | {cell('test_acc', '{:.2f}')} |")
    return lines


def mean_std(steps: pd.Series, budget: int) -> str:
    """Mean ± std (population) of steps over seeds, a run that never got there counted as the budget (the mean
    is then a lower bound, marked ≥)."""
    reached = steps.notna()
    values = steps.fillna(budget).astype(float)
    bound = "" if reached.all() else "≥ "
    return f"{bound}{values.mean():.0f} ± {values.std(ddof=0):.0f} ({int(reached.sum())}/{len(values)} reached)"


def first_step(curves: pd.DataFrame, key: str, level: float) -> str:
    hits = curves.loc[curves[key] >= level, "step"]
    return str(int(hits.iloc[0])) if len(hits) else "not reached"


def by_component(phases: pd.DataFrame, column: str) -> pd.DataFrame:
    """One column of phases.csv as component × phase (file order; NaN cells, e.g. of an empty phase, kept)."""
    return phases.pivot_table(index="component", columns="phase", values=column, sort=False, dropna=False)


def phase_table(phases: pd.DataFrame, order: list[str]) -> list[str]:
    """Per component and phase (attribute.py's phases.csv): the signed attribution ± std over points and its
    shares of what moved the output (`abs_share` over windows of steps, `net_abs_share` per point)."""
    pivot = lambda column: by_component(phases, column)  # noqa: E731
    signed = pivot("attribution")
    names = [n for n in order if n in signed.columns]
    head = ["| component | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    std, window, net = pivot("attribution_std"), pivot("abs_share"), pivot("net_abs_share")
    w = int(phases["share_window"].iloc[0])
    return [f"EPK component attribution per phase, label logit of the explained points: Σ_s ḡ_s[k]·Δθ_s[k], mean ± "
            f"std over points / share of Σ |sum over {w} steps| (what moved the logit, oscillation within "
            f"{w} steps cancelled) / share of the mean |phase sum| per point:", "", *head] + \
           [f"| {c} | " + " | ".join(f"{row[n]:.3g} ± {std.loc[c, n]:.2g} / {window.loc[c, n]:.0%} / "
                                     f"{net.loc[c, n]:.0%}" for n in names) + " |" for c, row in signed.iterrows()]


def regularisation_table(phases: pd.DataFrame, order: list[str]) -> list[str]:
    """Per component and phase: the training data's part and weight decay's part of the signed attribution
    (phases.csv `data`, `decay`; mean over points), and in brackets Σ|decay| / Σ|data| over single steps and
    points (`decay_to_data_l1`, the authors' per-step L1 reduction); then the totals per step of the phase."""
    data, decay, ratio = (by_component(phases, c) for c in ("data", "decay", "decay_to_data_l1"))
    bracket = lambda v: "(–)" if pd.isna(v) else f"({v:.2f})"  # noqa: E731  an empty phase has no ratio
    names = [n for n in order if n in data.columns]
    steps = phases.groupby("phase").first().eval("end - start")
    return ["The same attribution split into the training data's terms / weight decay's terms (mean over points; "
            "exact per step for decoupled decay (AdamW), for SGD's coupled decay each step's decay is its source, "
            "which reaches the update through the momentum), in brackets Σ \\|weight decay\\| / Σ \\|data\\| "
            "over single steps and points (the authors' per-step L1 reduction), then the totals per step:", "",
            "| component | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)] + \
           [f"| {c} | " + " | ".join(f"{row[n]:.3g} / {decay.loc[c, n]:.3g} {bracket(ratio.loc[c, n])}" for n in names)
            + " |" for c, row in data.iterrows()] + \
           ["| total per step | " + " | ".join(f"{data.loc['total', n] / steps[n]:.3g} / "
                                                f"{decay.loc['total', n] / steps[n]:.3g}" if steps[n] else "–"
                                                for n in names) + " |"]


def mean_sd(values: np.ndarray, digits: int) -> str:
    """mean ± std over points (sample std; one point has none, so only its value)."""
    values = np.asarray(values, float)
    return f"{values.mean():.{digits}f}" + (f" ± {values.std(ddof=1):.{digits}f}" if len(values) > 1 else "")


def epk_summary(fidelity: dict, epk_path: Path) -> list[str]:
    """The full run's EPK: reconstruction error, and the label logit's change split into the training data's
    terms and weight decay's (the regularisation influence the paper's grokking account speaks of)."""
    epk = np.load(epk_path)
    change = epk["final"] - epk["initial"]
    return ["| EPK of the whole run (label logit) | value |", "|---|---|",
            f"| steps / T / explained test points | {fidelity['n_steps']} / {fidelity['integration_steps']} / "
            f"{fidelity['n_explained']} |",
            f"| relative error / max abs error of the reconstruction | {fidelity['relative_error']:.2g} / "
            f"{fidelity['max_abs_error']:.2g} |",
            f"| logit change f(θ_T) − f(θ_0), mean ± std over points | {mean_sd(change, 1)} |",
            f"| of which training-data terms / weight-decay terms | {mean_sd(epk['data_total'], 0)} / "
            f"{mean_sd(epk['decay'], 0)} |"]


def grokking_markdown(run: Path, benchmarks: Path | None = None, threshold: float = 0.99,
                      margin: float | None = None, probe: Path | None = None, probe_benchmarks: Path | None = None) -> str:
    """The paper-scale grokking run (README ExPLAIND): training-curve summary, phase boundaries (attribute.phase_bounds),
    component attribution per phase where the EPK ran (phases.csv), swap and retrain tables, and the measured
    cost of each step (Snakemake benchmark files)."""
    from .attribute import PHASE_MARGIN, generalised_step, phase_bounds
    margin = PHASE_MARGIN if margin is None else margin
    curves = pd.read_csv(run / "training_curves.csv")
    n_steps = int(curves["step"].iloc[-1])
    rows = curves.astype(str).to_dict("records")
    last = curves.iloc[-1]
    parts = [["| training | value |", "|---|---|",
              f"| steps (full batch) | {n_steps} |",
              f"| first step with train acc. ≥ {threshold} / = 1.0 | {first_step(curves, 'train_acc', threshold)} / "
              f"{first_step(curves, 'train_acc', 1.0)} |",
              f"| first step with test acc. ≥ 0.5 / ≥ {threshold} / = 1.0 | {first_step(curves, 'test_acc', 0.5)} / "
              f"{first_step(curves, 'test_acc', threshold)} / {first_step(curves, 'test_acc', 1.0)} |",
              f"| final train / test acc. | {last['train_acc']:.4f} / {last['test_acc']:.4f} |",
              f"| final train / test loss | {last['train_loss']:.3g} / {last['test_loss']:.3g} |"]]
    marks = sorted(set(int(s) for s in curves["step"].iloc[::max(1, len(curves) // 12)]) | {n_steps})
    at = curves.set_index("step")
    parts.append(["| step | " + " | ".join(map(str, marks)) + " |", "|---|" + "---|" * len(marks),
                  "| train acc. | " + " | ".join(f"{at.loc[m, 'train_acc']:.2f}" for m in marks) + " |",
                  "| test acc. | " + " | ".join(f"{at.loc[m, 'test_acc']:.2f}" for m in marks) + " |",
                  "| test loss | " + " | ".join(f"{at.loc[m, 'test_loss']:.3g}" for m in marks) + " |"])
    bounds = phase_bounds(rows, n_steps, threshold, margin)
    generalised = generalised_step(rows, n_steps, threshold)
    parts.append([f"Phases (threshold {threshold}, margin {margin}; test acc. ≥ {threshold} at step {generalised}):", "",
                  "| phase | steps | test acc. at start → end |", "|---|---|---|"] +
                 [f"| {name} | [{start}, {end}) | " + (
                     f"{at['test_acc'].asof(start):.2f} → {at['test_acc'].asof(end):.2f} |" if end > start else "– |")
                  for name, start, end in bounds])
    if (run / "phases.csv").exists():
        phases = pd.read_csv(run / "phases.csv")
        parts.append(phase_table(phases, [b[0] for b in bounds]))
        parts.append(regularisation_table(phases, [b[0] for b in bounds]))
    if (run / "fidelity.json").exists() and (run / "epk.npz").exists():
        parts.append(epk_summary(json.loads((run / "fidelity.json").read_text()), run / "epk.npz"))
    if (run / "swap.csv").exists():
        parts.append(swap_table(run / "swap.csv"))
    if (run / "retrain_pipeline.csv").exists():
        parts.append(retrain_table(run / "retrain_pipeline.csv"))
    if benchmarks is not None and benchmarks.exists():
        costs = []
        for tsv in sorted(benchmarks.glob("*.tsv")):
            b = pd.read_csv(tsv, sep="\t").iloc[0]
            costs.append(f"| {tsv.stem} | {b['s']:.0f} | {b['cpu_time']:.0f} | {b['max_rss']:.0f} |")
        if costs:
            parts.append(["| step (Snakemake benchmark, 1 thread) | wall s | CPU s | max RSS MB |", "|---|---|---|---|",
                          *costs])
    if probe is not None and (probe / "fidelity.json").exists() and probe_benchmarks is not None:
        fidelity = json.loads((probe / "fidelity.json").read_text())
        split = "with" if (probe / "epk.npz").exists() and "data" in np.load(probe / "epk.npz") else "without"
        probe_lines = [f"| EPK probe {split} the per-example data split (the run's first steps, process start "
                       "included) | steps | T | explained points | "
                       "train: wall / CPU s per step | EPK: wall / CPU s per step |", "|---|---|---|---|---|---|"]
        nan = pd.Series({"s": float("nan"), "cpu_time": float("nan")})
        bench = {name: (pd.read_csv(probe_benchmarks / f"{name}.tsv", sep="\t").iloc[0][["s", "cpu_time"]].astype(float)
                        if (probe_benchmarks / f"{name}.tsv").exists() else nan) / fidelity["n_steps"]
                 for name in ("train", "epk")}
        probe_lines.append(f"| {run_label(probe)} | {fidelity['n_steps']} | {fidelity['integration_steps']} | "
                           f"{fidelity['n_explained']} | {bench['train']['s']:.2f} / {bench['train']['cpu_time']:.2f} | "
                           f"{bench['epk']['s']:.2f} / {bench['epk']['cpu_time']:.2f} |")
        probe_lines.append(f"| EPK of all {n_steps} steps at that rate | | | | | "
                           f"{bench['epk']['s'] * n_steps / 3600:.1f} h / {bench['epk']['cpu_time'] * n_steps / 3600:.1f} h |")
        parts.append(probe_lines)
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def markdown(runs: list[Path]) -> str:
    """The README block: fidelity and pruning over every task's seeds, the pipeline experiments of its first seed."""
    tasks = by_task(runs)
    parts = [fidelity_table(tasks)]
    for task, task_runs in tasks.items():
        if (task_runs[0] / "pruning.csv").exists():
            parts.append(pruning_table(task_runs))
        first = task_runs[0]
        if (first / "swap.csv").exists():
            others = (f"; the other seeds' tables are in {first.parent}/seed<s>/" if len(task_runs) > 1 else "")
            parts.append([f"Grokking pipeline experiments on {run_label(first)}{others}:", "",
                          *swap_table(first / "swap.csv"), "",
                          *retrain_table(first / "retrain_pipeline.csv")])
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def main(argv=None) -> None:
    start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path,
                        help="every seed folder to summarise, results/explaind/<task>/seed<s>, tasks in table order")
    parser.add_argument("--grokking", type=Path,
                        help="instead: the grokking run's folder, results/explaind/<task>/seed<s>")
    parser.add_argument("--benchmarks", type=Path, help="with --grokking: its results/benchmarks/explaind/<task>/seed<s>")
    parser.add_argument("--probe", type=Path,
                        help="with --grokking: results/explaind/<probe task>/seed<s> (EPK cost probe)")
    parser.add_argument("--probe-benchmarks", type=Path,
                        help="with --probe: its results/benchmarks/explaind/<task>/seed<s>")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if (args.grokking is None) == (args.runs is None):
        parser.error("give --runs or --grokking")
    text = (grokking_markdown(args.grokking, args.benchmarks, probe=args.probe, probe_benchmarks=args.probe_benchmarks)
            if args.grokking else markdown(args.runs))
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
