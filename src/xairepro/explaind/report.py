"""Step explaind_report: the default run's ExPLAIND numbers as Markdown for the README (`make
readme-results`), so none of them is typed by hand: kernel fidelity and final accuracies per task, pruning
by EPK component attribution vs magnitude, and the grokking pipeline experiments (swap, retrain).

    python -m xairepro.explaind.report --tasks modulo digits2 --results results/explaind --out summary.md
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from xairepro.io import atomic_path, start_step

VARIANTS = {"pipeline": "pipeline", "decoder": "decoder only", "all_but_attention": "all but attention"}


PAPER_FIDELITY_NOTE = ("Paper (secondary source, addendum 4a of shared/papers/published_numbers.md): EPK accuracy "
                       "1.0 and KL 0.0 at T = 100 on MOD-113 and CIFAR-2; 0.748 and 0.885 at T = 10 on MOD-113.")
METHODS = {"authors": "authors' score", "signed": "signed (ours before)", "magnitude": "magnitude"}


def fidelity_table(results: Path, tasks: list[str]) -> list[str]:
    lines = ["| task | steps | EPK relative error, label logit (T) | max abs error | final train / test acc. |",
             "|---|---|---|---|---|"]
    every = []
    for task in tasks:
        fidelity = json.loads((results / task / "fidelity.json").read_text())
        last = pd.read_csv(results / task / "training_curves.csv").iloc[-1]
        lines.append(f"| {task} | {fidelity['n_steps']} | {fidelity['relative_error']:.2g} "
                     f"(T = {fidelity['integration_steps']}) | {fidelity['max_abs_error']:.2g} | "
                     f"{last['train_acc']:.2f} / {last['test_acc']:.2f} |")
        if "all_logits" in fidelity:
            every.append((task, fidelity["all_logits"]))
    if every:
        lines += ["", "EPK prediction of every logit (the paper's fidelity measures; EPK accuracy: share of points "
                  "whose argmax of the reconstructed logits is the model's; KL(model ‖ EPK) of the softmax, mean "
                  "over points):", "",
                  "| task | points × outputs | T | EPK accuracy | KL(model ‖ EPK) | relative error, all logits | "
                  "error ∝ T^−p, p |", "|---|---|---|---|---|---|---|"]
        for task, fid in every:
            slope = "–" if fid.get("error_slope") is None else f"{fid['error_slope']:.2f}"
            for T, m in sorted(fid["by_T"].items(), key=lambda kv: int(kv[0])):
                lines.append(f"| {task} | {fid['n_points']} × {fid['n_outputs']} | {T} | {m['epk_accuracy']:.3f} | "
                             f"{max(m['kl'], 0.0):.2g} | {m['relative_error']:.2g} | {slope} |")
        lines += ["", PAPER_FIDELITY_NOTE]
    return lines


def pruning_table(path: Path) -> list[str]:
    runs = pd.read_csv(path)
    methods = [m for m in METHODS if m in set(runs["method"])]
    cell = lambda r: f"{r['val_acc']:.3f} / {r['model_acc']:.3f} / {r['kl_div']:.2g}"  # noqa: E731
    lines = [f"Pruning {path.parent.name} without retraining (output layer kept; fraction of the other parameters, "
             "lowest score first, one ranking over all layers), on held-out test points: accuracy / agreement with the "
             "unpruned model / KL(unpruned ‖ pruned):", "",
             "| pruned | of all params | " + " | ".join(METHODS[m] for m in methods) + " |",
             "|---|---|" + "---|" * len(methods)]
    for fraction, group in runs.groupby("fraction", sort=True):
        rows = group.set_index("method")
        lines.append(f"| {fraction:.1%} | {rows['pruned'].iloc[0]:.1%} | "
                     + " | ".join(cell(rows.loc[m]) for m in methods) + " |")
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
        phases = pd.read_csv(run / "phases.csv").pivot_table(index="component", columns="phase", values="attribution",
                                                             sort=False)
        names = [b[0] for b in bounds if b[0] in phases.columns]
        parts.append(["EPK component attribution per phase (mean over explained points of Σ_s ḡ_s[k]·Δθ_s[k]):", "",
                      "| component | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)] +
                     [f"| {c} | " + " | ".join(f"{row[n]:.3g}" for n in names) + " |" for c, row in phases.iterrows()])
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
        probe_lines = ["| EPK probe (the run's first steps, process start included) | steps | T | explained points | "
                       "train: wall / CPU s per step | EPK: wall / CPU s per step |", "|---|---|---|---|---|---|"]
        nan = pd.Series({"s": float("nan"), "cpu_time": float("nan")})
        bench = {name: (pd.read_csv(probe_benchmarks / f"{name}.tsv", sep="\t").iloc[0][["s", "cpu_time"]].astype(float)
                        if (probe_benchmarks / f"{name}.tsv").exists() else nan) / fidelity["n_steps"]
                 for name in ("train", "epk")}
        probe_lines.append(f"| {probe.name} | {fidelity['n_steps']} | {fidelity['integration_steps']} | "
                           f"{fidelity['n_explained']} | {bench['train']['s']:.2f} / {bench['train']['cpu_time']:.2f} | "
                           f"{bench['epk']['s']:.2f} / {bench['epk']['cpu_time']:.2f} |")
        probe_lines.append(f"| EPK of all {n_steps} steps at that rate | | | | | "
                           f"{bench['epk']['s'] * n_steps / 3600:.1f} h / {bench['epk']['cpu_time'] * n_steps / 3600:.1f} h |")
        parts.append(probe_lines)
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def markdown(results: Path, tasks: list[str]) -> str:
    parts = [fidelity_table(results, tasks)]
    for task in tasks:
        if (results / task / "pruning.csv").exists():
            parts.append(pruning_table(results / task / "pruning.csv"))
        if (results / task / "swap.csv").exists():
            parts.append([f"Grokking pipeline experiments on {task}:", "", *swap_table(results / task / "swap.csv"), "",
                          *retrain_table(results / task / "retrain_pipeline.csv")])
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def main(argv=None) -> None:
    start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+")
    parser.add_argument("--grokking", type=Path, help="instead: the grokking run's results/explaind/<task> folder")
    parser.add_argument("--benchmarks", type=Path, help="with --grokking: its results/benchmarks/explaind/<task>")
    parser.add_argument("--probe", type=Path, help="with --grokking: results/explaind/<probe task> (EPK cost probe)")
    parser.add_argument("--probe-benchmarks", type=Path, help="with --probe: its results/benchmarks/explaind/<task>")
    parser.add_argument("--results", type=Path, default=Path("results/explaind"))
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if (args.grokking is None) == (args.tasks is None):
        parser.error("give --tasks or --grokking")
    text = (grokking_markdown(args.grokking, args.benchmarks, probe=args.probe, probe_benchmarks=args.probe_benchmarks)
            if args.grokking else markdown(args.results, args.tasks))
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
