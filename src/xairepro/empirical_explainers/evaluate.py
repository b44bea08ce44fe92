"""Step 5: evaluate. MSE between the EE's and the target explainer's attributions on the test split
(mean ± std over the EE's training seeds), next to three trivial baselines: all zeros; a lookup table of
the mean training attribution of each (token, predicted class) (from the target explanations the EE was
trained on); and that lookup shifted so that each map sums to f(x) − f(x′) for the explained class (what
LIG's completeness says the map sums to; two forward passes of f, about the EE's cost). For every baseline
and every rerun budget: a paired bootstrap interval over test sentences of its MSE minus the EE's, so a
margin is called only when resampling the test sentences keeps it; weighted F1 of the
downstream predictions on the test split; the convergence curve:
the target explainer rerun with smaller budgets (1, 2, 5, ... steps/samples) against its full-budget
maps, with the EE's MSE as the line to beat (paper, Sec. "convergence"). Writes metrics.json,
convergence.csv, convergence.png, the comparison table with the paper (comparison.csv) and the README's
summary (summary.md).
"""
from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from sklearn.metrics import f1_score
from tqdm import tqdm

from xairepro.device import resolve
from xairepro.io import atomic_path, start_step, write_csv, write_json
from xairepro.published import COMPARISON_COLUMNS, lookup
from xairepro.empirical_explainers.data import read_jsonl, size_arg
from xairepro.empirical_explainers.explainers import make_target_explainer, parse_explainer


def instance_errors(predicted: list[list[float]], target: list[list[float]]) -> np.ndarray:
    """The per-instance MSE over its tokens."""
    if len(predicted) != len(target):
        raise ValueError(f"{len(predicted)} explanations against {len(target)} targets: the files do not match")
    errors = []
    for p, t in zip(predicted, target):
        if len(p) != len(t):
            raise ValueError("an explanation and its target have different lengths: were they made from the same inputs?")
        errors.append(np.mean((np.asarray(p) - np.asarray(t)) ** 2))
    return np.asarray(errors)


def mean_squared_error(predicted: list[list[float]], target: list[list[float]]) -> float:
    """Mean over instances of the per-instance MSE over its tokens (every instance weighs the same)."""
    return float(np.mean(instance_errors(predicted, target)))


BOOTSTRAP_RESAMPLES = 10_000


def paired_bootstrap(baseline: np.ndarray, ours: np.ndarray, seed: int) -> tuple[float, float]:
    """95% percentile interval of mean(baseline − ours) when the test instances are resampled with
    replacement (paired: both errors of an instance go together). Above 0: ours is better on this kind of
    test set, not only on this draw of it."""
    if baseline.shape != ours.shape:
        raise ValueError("paired bootstrap needs one error per test instance from each side")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(ours), size=(BOOTSTRAP_RESAMPLES, len(ours)))
    margins = (baseline - ours)[picks].mean(axis=1)
    low, high = np.percentile(margins, [2.5, 97.5])
    return float(low), float(high)


def lookup_table(rows) -> tuple[dict, dict]:
    """Mean target attribution per (token id, predicted class), and per predicted class (for unseen tokens)."""
    sums, counts, class_sums, class_counts = {}, {}, {}, {}
    for r in rows:
        for token, value in zip(r["input_ids"], r["attributions"]):
            key = (token, r["prediction"])
            sums[key] = sums.get(key, 0.0) + value
            counts[key] = counts.get(key, 0) + 1
            class_sums[r["prediction"]] = class_sums.get(r["prediction"], 0.0) + value
            class_counts[r["prediction"]] = class_counts.get(r["prediction"], 0) + 1
    return ({k: sums[k] / counts[k] for k in sums}, {c: class_sums[c] / class_counts[c] for c in class_sums})


def lookup_baseline(table: tuple[dict, dict], rows) -> list[list[float]]:
    """The lookup table's attributions for `rows` (the prediction is known: it is what is explained)."""
    per_token, per_class = table
    return [[per_token.get((t, r["prediction"]), per_class.get(r["prediction"], 0.0)) for t in r["input_ids"]]
            for r in rows]


def convergence_maps(spec: str, model, tokenizer, rows, budget: int, seed: int) -> list[list[float]]:
    """The target explainer rerun on `rows` with `budget` steps/samples: a run of its own, not derived
    from the full-budget maps in `rows` (a fresh explainer with n = budget; SVS draws other
    permutations than the full run, seeded apart from target_explain's seeds, so a small budget is
    not a prefix of it)."""
    explainer = make_target_explainer(spec, model, tokenizer, budget=budget)
    maps = []
    for r in tqdm(rows, desc=f"{spec} with budget {budget}"):
        ids = torch.tensor(r["input_ids"])
        if explainer.name == "svs":
            e = explainer.attribute(ids, target=r["prediction"], seed=(seed + 1) * 1_000_003 + r["index"])
        else:
            e = explainer.attribute(ids, target=r["prediction"])
        maps.append(e.attributions.tolist())
    return maps


def convergence_errors(spec: str, model, tokenizer, rows, budgets, seed: int) -> dict[int, np.ndarray]:
    """Per-instance MSE of the target explainer with each smaller budget against the full-budget maps in
    `rows` (their mean is the convergence curve)."""
    return {budget: instance_errors(convergence_maps(spec, model, tokenizer, rows, budget, seed),
                                    [r["attributions"] for r in rows])
            for budget in budgets}


def completeness_gaps(reference, rows) -> list[float]:
    """f(x) − f(x′) of the explained class for each row, x′ the baseline input of the target explainer
    `reference` (LIG's maps sum to this, up to their integration error)."""
    gaps = []
    with torch.no_grad():
        for r in rows:
            ids = torch.tensor([r["input_ids"]], device=reference.device)
            mask = torch.ones(2, ids.shape[1], dtype=torch.long, device=reference.device)
            logits = reference.model(input_ids=torch.cat([ids, reference.baseline(ids)]), attention_mask=mask).logits
            gaps.append(float(logits[0, r["prediction"]] - logits[1, r["prediction"]]))
    return gaps


def completeness_shift(maps: list[list[float]], rows, gaps: list[float], special_ids: set[int]) -> list[list[float]]:
    """Each map shifted by one constant on its content tokens so that it sums to its gap. Special tokens
    stay: they are kept in the baseline input, so their target attribution is 0."""
    shifted = []
    for values, r, gap in zip(maps, rows, gaps):
        content = [t not in special_ids for t in r["input_ids"]]
        n = sum(content)
        step = (gap - sum(values)) / n if n else 0.0
        shifted.append([v + step if c else v for v, c in zip(values, content)])
    return shifted


def plot(path, curve: dict[int, float], ee_mse: float, title: str, baselines: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(list(curve), list(curve.values()), "o-", label="target explainer, fewer steps/samples")
    ax.axhline(ee_mse, color="tab:red", linestyle="--", label="Empirical Explainer (one forward pass)")
    for (name, mse), colour in zip(baselines.items(), ("tab:grey", "tab:olive")):
        ax.axhline(mse, color=colour, linestyle=":", label=f"baseline: {name}")
    ax.set_xlabel("steps / samples")
    ax.set_ylabel("MSE vs full-budget target")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)


def named(ours: str, paper: str) -> str:
    """A table cell that names the substitution when the default config differs from the paper."""
    return ours if ours == paper else f"{ours} (paper: {paper})"


def comparison(dataset, model, paper_dataset, paper_model, spec, ee_mses: list[float], f1,
               baselines: dict[str, float], curve: dict[int, float] | None = None,
               curve_note: str = "ours: test split") -> list[dict]:
    """The comparison rows: the EE's MSE (mean, sample std and number of EE seeds), the trivial
    baselines, the target explainer with fewer steps/samples (`curve`, metric mse_baseline_<name>-<budget>)
    and the downstream F1. Baselines and F1 are one computation on the fixed target maps (no seed spread);
    the margins with their intervals are in metrics.json and summary.md."""
    name = parse_explainer(spec)[0]
    seeds = len(ee_mses)
    spread = {"ours_std": round(float(np.std(ee_mses, ddof=1)), 6) if seeds > 1 else "", "runs": seeds}
    rows = []
    for experiment, metric, ours, extra, note in (
            (f"ee_mse_test_{spec}", "mse", float(np.mean(ee_mses)), spread,
             f"ours: test split, {seeds} EE training seed(s) on the same target maps"),
            *((f"ee_mse_test_{spec}", f"mse_baseline_{baseline}", mse, {}, "ours: test split, trivial baseline")
              for baseline, mse in baselines.items()),
            *((f"ee_mse_test_{spec}", f"mse_baseline_{name}-{budget}", mse, {},
               f"{curve_note}, the target explainer rerun with {budget} steps/samples")
              for budget, mse in (curve or {}).items()),
            ("downstream_f1_test", "weighted_f1", f1, {}, "ours: test split (the repo's published F1 is validation)")):
        published = lookup("empirical_explainers", experiment, paper_dataset, paper_model, metric)
        rows.append({"paper": "empirical_explainers", "experiment": experiment, "dataset": named(dataset, paper_dataset),
                     "model": named(model, paper_model), "metric": metric,
                     "published": published["published"] if published else "", "ours": round(ours, 6), **extra,
                     "source": f"{published['source']}; {note}" if published else
                     f"{note}; no published value (the paper's table could not be read; "
                     "shared/papers/published_numbers.md 3d)"})
    return rows


BASELINE_NAMES = {"zeros": "zeros", "token_class_lookup": "lookup: mean training attribution per (token, predicted class)",
                  "completeness_lookup": "lookup shifted so each map sums to f(x) − f(x′) (two forward passes of f)"}


def verdict(low: float, high: float) -> str:
    """What a bootstrap interval of (other − EE) MSE says."""
    return "EE better" if low > 0 else "EE worse" if high < 0 else "tie (interval contains 0)"


def row_order(key: str) -> tuple[int, int]:
    """Baselines first (in BASELINE_NAMES order), then the rerun budgets, smallest first: the same rows in the
    same order whether the metrics come from memory or from metrics.json (written with sorted keys)."""
    names = list(BASELINE_NAMES)
    return (0, names.index(key)) if key in names else (1, int(key.rsplit("-", 1)[1]))


def summary(metrics: dict) -> str:
    """The README's Markdown for one setup: the EE's MSE over seeds beside every baseline and rerun
    budget, each with the paired bootstrap interval of its MSE minus the EE's."""
    spec, n = metrics["explainer"], metrics["test_instances"]
    per_seed = metrics["mse_ee_vs_target_per_seed"]
    # at least three significant digits of the EE's MSE (long texts spread attributions thin: IMDB's is ~1e-3)
    d = max(4, 2 - math.floor(math.log10(np.mean(per_seed)))) if np.mean(per_seed) > 0 else 4
    spread = f" ± {np.std(per_seed, ddof=1):.{d}f}" if len(per_seed) > 1 else " (one seed)"
    name = spec.split("-")[0].upper()

    def label(key: str) -> str:
        if key in BASELINE_NAMES:
            return BASELINE_NAMES[key]
        budget = key.rsplit("-", 1)[1]
        return f"{name}-{budget} (the target explainer rerun with {budget} step(s)/sample(s))"

    rows = [f"| {label(key)} | {m['mse']:.{d}f} | {m['minus_ee']:+.{d}f} [{m['bootstrap_95'][0]:+.{d}f}, "
            f"{m['bootstrap_95'][1]:+.{d}f}] | {verdict(*m['bootstrap_95'])} |"
            + ("" if m["instances"] == n else f" (first {m['instances']} test sentences)")
            for key, m in sorted(metrics["minus_ee"].items(), key=lambda item: row_order(item[0]))]
    return "\n".join([
        f"Test MSE against {spec} on {n} {metrics['dataset']} test sentences (model {metrics['model']}, stand-in for "
        f"{metrics['paper_setup']['model']} on {metrics['paper_setup']['dataset']}); downstream test weighted F1 "
        f"{metrics['weighted_f1']:.3f}. Each row's difference is its MSE minus the EE's (seed mean), with a paired "
        "bootstrap 95% interval over the test sentences (10,000 resamples).",
        "", "| explainer | test MSE | − EE [95% interval] | verdict |", "|---|---|---|---|",
        f"| EE, {len(per_seed)} training seed(s){', mean ± std' if len(per_seed) > 1 else ''} | "
        f"{np.mean(per_seed):.{d}f}{spread} | per seed: {', '.join(f'{m:.{d}f}' for m in per_seed)} | |",
        *rows]) + "\n"


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", nargs="+", required=True, help="target explanation shards of the test split, in order")
    p.add_argument("--train-target", nargs="+", required=True,
                   help="target explanation shards of the training split (the lookup baseline's table)")
    p.add_argument("--ee", nargs="+", required=True, help="EE explanations of the test split, one file per EE seed")
    p.add_argument("--downstream", required=True, help="downstream model folder (reruns the target explainer)")
    p.add_argument("--explainer", required=True, help="the target explainer, e.g. lig-25")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model", required=True, help="name of the downstream model, for the tables")
    p.add_argument("--paper-dataset", required=True, help="the paper's dataset this setup stands for")
    p.add_argument("--paper-model", required=True)
    p.add_argument("--budgets", type=int, nargs="+", default=[1, 2, 5, 10, 15, 20])
    p.add_argument("--convergence-instances", type=size_arg, default=None, help="test instances for the curve (default: all)")
    p.add_argument("--outdir", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (the convergence curve's target explainer)")
    a = p.parse_args(argv)
    _, full = parse_explainer(a.explainer)
    budgets = sorted(b for b in set(a.budgets) if 1 <= b < full)
    if not budgets:
        raise ValueError(f"no convergence budget below the full budget {full} of {a.explainer}: give --budgets smaller ones")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(a.threads)
    target = read_jsonl(*a.target)
    ees = [read_jsonl(path) for path in a.ee]
    for path, ee in zip(a.ee, ees):
        if [r["input_ids"] for r in target] != [r["input_ids"] for r in ee]:
            raise ValueError(f"{path} does not explain the inputs of the target files, in their order: rerun ee_explain")
    truth_maps = [r["attributions"] for r in target]
    ee_mses = [mean_squared_error([r["attributions"] for r in ee], truth_maps) for ee in ees]
    ee_errors = np.mean([instance_errors([r["attributions"] for r in ee], truth_maps) for ee in ees], axis=0)
    truth, predictions = [r["label"] for r in target], [r["prediction"] for r in target]
    f1 = float(f1_score(truth, predictions, average="weighted"))
    model = AutoModelForSequenceClassification.from_pretrained(a.downstream).eval().to(resolve(a.device, log))
    tokenizer = AutoTokenizer.from_pretrained(a.downstream)

    looked_up = lookup_baseline(lookup_table(read_jsonl(*a.train_target)), target)
    reference = make_target_explainer(a.explainer, model, tokenizer)  # its baseline input x′ and special tokens
    baseline_maps = {"zeros": [[0.0] * len(m) for m in truth_maps], "token_class_lookup": looked_up,
                     "completeness_lookup": completeness_shift(looked_up, target, completeness_gaps(reference, target),
                                                               set(reference.special_ids.tolist()))}
    # every comparator's per-instance errors, on the instances it was run on (the budgets: `subset`)
    errors = {name: instance_errors(maps, truth_maps) for name, maps in baseline_maps.items()}
    subset = target[:a.convergence_instances]
    budget_errors = convergence_errors(a.explainer, model, tokenizer, subset, budgets, a.seed)
    errors.update({f"{parse_explainer(a.explainer)[0]}-{b}": e for b, e in budget_errors.items()})
    margins = {name: {"mse": float(np.mean(e)), "instances": len(e),
                      "minus_ee": float(np.mean(e - ee_errors[:len(e)])),
                      "bootstrap_95": list(paired_bootstrap(e, ee_errors[:len(e)], a.seed))}
               for name, e in errors.items()}
    baselines = {name: margins[name]["mse"] for name in baseline_maps}
    curve = {b: float(np.mean(e)) for b, e in budget_errors.items()}
    ee_on_subset = float(np.mean(ee_errors[:len(subset)]))
    metrics = {"dataset": a.dataset, "model": a.model, "explainer": a.explainer,
               "paper_setup": {"dataset": a.paper_dataset, "model": a.paper_model},
               "test_instances": len(target), "explainer_seeds": len(ees), "mse_ee_vs_target": round(float(np.mean(ee_mses)), 8),
               "mse_ee_vs_target_per_seed": [round(m, 8) for m in ee_mses],
               **{f"mse_baseline_{name}": round(mse, 8) for name, mse in baselines.items()},
               "weighted_f1": round(f1, 6), "accuracy": round(float(np.mean(np.array(truth) == predictions)), 6),
               "convergence_instances": len(subset), "mse_ee_on_convergence_instances": round(ee_on_subset, 8),
               "convergence_mse": {str(b): round(m, 8) for b, m in curve.items()},
               "minus_ee": {name: {"mse": round(m["mse"], 8), "instances": m["instances"],
                                   "minus_ee": round(m["minus_ee"], 8),
                                   "bootstrap_95": [round(x, 8) for x in m["bootstrap_95"]]}
                            for name, m in margins.items()}}
    log.info("%s", metrics)
    write_json(f"{a.outdir}/metrics.json", metrics)
    write_csv(f"{a.outdir}/convergence.csv",
              [{"budget": b, "mse_target_vs_full": round(m, 8), "mse_ee": round(ee_on_subset, 8)} for b, m in curve.items()])
    curve_note = ("ours: test split" if len(subset) == len(target) else
                  f"ours: first {len(subset)} of {len(target)} test instances (the EE's MSE there: {ee_on_subset:.6f})")
    write_csv(f"{a.outdir}/comparison.csv",
              comparison(a.dataset, a.model, a.paper_dataset, a.paper_model, a.explainer, ee_mses, f1, baselines,
                         curve, curve_note),
              COMPARISON_COLUMNS)
    with atomic_path(f"{a.outdir}/summary.md") as tmp:
        tmp.write_text(summary(metrics))
    subset_maps = [r["attributions"] for r in subset]
    subset_baselines = {"zeros": mean_squared_error([[0.0] * len(m) for m in subset_maps], subset_maps),
                        "token-class lookup": mean_squared_error(looked_up[:len(subset)], subset_maps)}
    plot(f"{a.outdir}/convergence.png", curve, ee_on_subset,
         f"{named(a.dataset, a.paper_dataset)}, {a.explainer}: {len(subset)} test instances", subset_baselines)

if __name__ == "__main__":
    main()
