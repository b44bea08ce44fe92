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


def fidelity_table(results: Path, tasks: list[str]) -> list[str]:
    lines = ["| task | steps | EPK relative error (T) | max abs error | final train / test acc. |", "|---|---|---|---|---|"]
    for task in tasks:
        fidelity = json.loads((results / task / "fidelity.json").read_text())
        last = pd.read_csv(results / task / "training_curves.csv").iloc[-1]
        lines.append(f"| {task} | {fidelity['n_steps']} | {fidelity['relative_error']:.2g} "
                     f"(T = {fidelity['integration_steps']}) | {fidelity['max_abs_error']:.2g} | "
                     f"{last['train_acc']:.2f} / {last['test_acc']:.2f} |")
    return lines


def pruning_table(path: Path) -> list[str]:
    table = pd.read_csv(path).pivot(index="fraction", columns="method", values="val_acc")
    lines = [f"Pruning {path.parent.name}, validation accuracy after pruning the fraction of parameters with the "
             "smallest score:", "", "| pruned | EPK component attribution | magnitude |", "|---|---|---|"]
    lines += [f"| {fraction:.0%} | {row['explaind']:.3f} | {row['magnitude']:.3f} |" for fraction, row in table.iterrows()]
    return lines


def swap_table(path: Path) -> list[str]:
    swap = pd.read_csv(path)
    steps = sorted(swap["step"].unique())
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
             "steps to 100% train and test acc. | final test acc. |", "|---|---|---|---|"]
    runs["step_from"] = runs["step_from"].fillna(-1).astype(int)
    for (variant, start), group in runs.groupby(["variant", "step_from"], sort=False):
        group = group.set_index("seed").loc[seeds]
        name = variant if start < 0 else f"{variant} kept from t = {start}"
        cell = lambda col, fmt: " / ".join("–" if pd.isna(v) else fmt.format(v) for v in group[col])  # noqa: E731
        lines.append(f"| {name} | {cell('steps_to_fit', '{:.0f}')} | {cell('steps_to_generalise', '{:.0f}')} | "
                     f"{cell('test_acc', '{:.2f}')} |")
    return lines


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
    parser.add_argument("--tasks", nargs="+", required=True)
    parser.add_argument("--results", type=Path, default=Path("results/explaind"))
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with atomic_path(args.out) as tmp:
        tmp.write_text(markdown(args.results, args.tasks))


if __name__ == "__main__":
    main()
