"""The paper's Table 1 (PD/TC of GR-k and NH-k) over seeds and modes, with two controls: random-k (as many
triples as NH-k, drawn from the whole training set) and none (delete nothing, retrain)
(python -m xairepro.gradient_rollback.table1).

    table1 run --mode authors --seed 43 ...   one (mode, seed): the steps train, explain, topk, evaluate
                                              (one shard) and table in this process, into --out-dir
    table1 summary --runs A/run.json ...      mean ± std over seeds per mode, against the paper: .md, .csv

Each run folder holds the same files as the default pipeline's run (settings.json, explanations.json,
sets.json, metrics.json, ...); run.json adds the mode, seed and run time."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from xairepro.gradient_rollback import data, evaluate, explain, table, topk
from xairepro.gradient_rollback import train as train_step
from xairepro.gradient_rollback.model import MODES
from xairepro.gradient_rollback.topk import NONE
from xairepro.scorecard.build import fixed_tolerance_verdict, mean_interval
from xairepro.io import atomic_path, start_step, write_csv, write_json
from xairepro.published import lookup

WITHIN = 5.0  # points: the "reproduced" band for a PD/TC cell
METHODS = ("NH", "GR", "random", NONE)  # table rows; the last two are controls, without paper values


def run(args: argparse.Namespace, training_flags: list[str]) -> dict:
    out = args.out_dir
    started = time.time()
    common = ["--dataset", args.dataset, "--data-dir", str(args.data_dir)]
    train_step.main([*common, "--model", args.model, "--mode", args.mode, "--seed", str(args.seed),
                     "--out-dir", str(out), *training_flags])
    explain.main([*common, "--run-dir", str(out), "--n-explain", str(args.n_explain), "--seed", str(args.seed),
                  "--out", str(out / "explanations.json")])
    n_train = json.loads((out / "train_metrics.json").read_text())["train_triples"]
    topk.main(["--explanations", str(out / "explanations.json"), "--ks", *args.ks, "--seed", str(args.seed),
               "--mode", args.mode, "--controls", str(n_train), "--out", str(out / "sets.json")])
    schedule = "fixed" if args.mode == "authors" else args.schedule
    evaluate.main([*common, "--run-dir", str(out), "--explanations", str(out / "explanations.json"),
                   "--sets", str(out / "sets.json"), "--shard", "0", "--shards", "1", "--schedule", schedule,
                   "--out", str(out / "eval" / "shard0-of1.json")])
    table.main(["--explanations", str(out / "explanations.json"), "--shards", str(out / "eval" / "shard0-of1.json"),
                "--metrics", str(out / "metrics.json"), "--comparison", str(out / "comparison.csv"),
                "--fidelity", str(out / "fidelity.csv")])
    metrics = json.loads((out / "metrics.json").read_text())
    trained = json.loads((out / "train_metrics.json").read_text())
    return {"mode": args.mode, "seed": args.seed, "schedule": schedule, "seconds": round(time.time() - started, 1),
            "best_epoch": trained.get("best_epoch"), "test_mrr": trained["test"]["mrr"],
            "uncredited_change_share": trained["uncredited_change_share"], **metrics}


def _cell(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def distinct_query_scores(run_dir: Path) -> tuple[dict, int]:
    """PD/TC over the distinct (h, r) queries only (the first test triple of each), the authors' unit:
    their explanation file is keyed by the predicted triple (h, r, t̂), so test triples sharing (h, r)
    count once."""
    explained = json.loads((run_dir / "explanations.json").read_text())["explained"]
    retrained = [r for p in sorted((run_dir / "eval").glob("shard*.json")) for r in json.loads(p.read_text())["retrained"]]
    first = {}
    for record in explained:
        first.setdefault(tuple(record["triple"][:2]), record["test_index"])
    keep = set(first.values())
    return (table.scores([r for r in explained if r["test_index"] in keep],
                         [r for r in retrained if r["test_index"] in keep]), len(keep))


def summarize(runs: list[dict], unit: str = "scores") -> tuple[list[dict], str]:
    """Rows (unit, mode, setting, metric, mean, std, seeds, published, within) and the Markdown summary
    of one unit: "scores" (every explained test triple) or "distinct" (distinct (h, r) queries)."""
    rows = []
    modes = [m for m in MODES if any(r["mode"] == m for r in runs)]
    dataset, model = runs[0]["dataset"], runs[0]["model"]
    order = lambda s: (METHODS.index(_split(s)[0]), _k_order(_split(s)[1]))  # noqa: E731
    settings = sorted({s for r in runs for s in r[unit]}, key=order)
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode]
        for setting in settings:
            for metric in ("PD", "TC"):
                mean, std = _cell([r[unit][setting][metric] for r in mine])
                published = lookup(table.PAPER, f"table1_{setting}", dataset, model, metric)
                value = float(published["published"]) if published else None
                half = mean_interval(std, len(mine)) if len(mine) > 1 else None
                rows.append({"unit": unit, "mode": mode, "setting": setting, "metric": metric, "mean": round(mean, 2),
                             "std": round(std, 2), "seeds": len(mine), "published": value,
                             "within_5": None if value is None else abs(mean - value) <= WITHIN,
                             "verdict": None if value is None else fixed_tolerance_verdict(mean - value, WITHIN, half)})
    return rows, _markdown(rows, runs, modes, settings, unit)


def _split(setting: str) -> tuple[str, str | None]:
    """"GR-10" -> ("GR", "10"); "none" -> ("none", None)."""
    method, _, k = setting.partition("-")
    return method, k or None


def _k_order(k: str | None):
    return (-1, 0) if k is None else (1, 0) if k == "all" else (0, int(k))


def _markdown(rows: list[dict], runs: list[dict], modes: list[str], settings: list[str], unit: str) -> str:
    ks = sorted({_split(s)[1] for s in settings} - {None}, key=_k_order)
    controls = any(_split(s)[0] in ("random", NONE) for s in settings)
    by = {(r["mode"], r["setting"], r["metric"]): r for r in rows}
    what = (f"{runs[0]['explained']} explained test triples" if unit == "scores" else
            f"{runs[0]['distinct_queries']} distinct (h, r) queries among them (the authors' unit)")
    lines = [f"{runs[0]['dataset'].capitalize()} {runs[0]['model']}, PD and TC in % of the {what}: mean ± std "
             f"over seeds (paper). Against ±{WITHIN:g} points of the paper, with the 95% t interval of our mean "
             "(the scorecard's rule): ✔ reproduced, ✗ off, ? inconclusive (the interval straddles the band); a cell "
             "from one seed has no mark. A "
             "cell at 100 ± 0 passes whatever the method."
             + (" Controls, with no paper value and no mark: random deletes as many training triples as NH, "
                "drawn uniformly from the whole training set; none deletes nothing and retrains once per "
                "prediction, its result repeated under every k (the retraining noise floor)." if controls else ""),
             ""]
    head = " | ".join(f"{m} k={k}" for k in ks for m in ("PD", "TC"))
    lines += [f"| mode | method | {head} |", "|---|---|" + "---|" * (2 * len(ks))]
    for mode in modes:
        for method in METHODS:
            if not any(_split(s)[0] == method for s in settings):
                continue
            cells = []
            for k in ks:
                for metric in ("PD", "TC"):
                    r = by.get((mode, method if method == NONE else f"{method}-{k}", metric))
                    if r is None:
                        cells.append("")
                        continue
                    paper = "" if r["published"] is None else f" ({r['published']:g})"
                    v = r["verdict"] or ""   # one seed: no verdict, so no mark
                    mark = "" if not v or v.startswith("one run") else " " + (
                        "✔" if v.startswith("reproduced") else "✗" if v.startswith("off") else "?")
                    cells.append(f"{r['mean']:.1f} ± {r['std']:.1f}{paper}{mark}")
            lines.append(f"| {mode} | {method} | {' | '.join(cells)} |")
    lines.append("")
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode]
        cells = [r for r in rows if r["mode"] == mode and r["within_5"] is not None]
        count = (f"{sum(c['within_5'] for c in cells)} of {len(cells)} cell means within ±{WITHIN:g}; with the seed "
                 f"interval {sum(c['verdict'].startswith('reproduced') for c in cells)} reproduced, "
                 f"{sum(c['verdict'].startswith('inconclusive') for c in cells)} inconclusive, "
                 f"{sum(c['verdict'].startswith('off') for c in cells)} off")
        # the count per seed: whether it rests on one seed (e.g. one whose retrainings differ from its model)
        paper = {(c["setting"], c["metric"]): c["published"] for c in cells}
        count += "; cells within ±{:g} per seed: {}".format(WITHIN, ", ".join(
            f"{r['seed']}: {sum(abs(r[unit][s][m] - v) <= WITHIN for (s, m), v in paper.items())}" for r in mine))
        if unit != "scores":
            lines.append(f"- {mode}: {count}.")
            continue
        fidelity = [r["fidelity_pearson_gr1"] for r in mine if r.get("fidelity_pearson_gr1") is not None]
        best = [r["best_epoch"] for r in mine if r.get("best_epoch") is not None]
        floor = ", ".join("{PD:.1f}/{TC:.1f}".format(**r["scores"][NONE]) for r in mine if NONE in r["scores"])
        lines.append(
            f"- {mode}: {count}; seeds "
            f"{', '.join(str(r['seed']) for r in mine)}; test MRR (raw) {np.mean([r['test_mrr'] for r in mine]):.3f}; "
            f"GR-1 fidelity Pearson {np.mean(fidelity):.2f}; uncredited share of θ's change "
            f"{np.mean([r['uncredited_change_share'] for r in mine]):.2f}"
            + (f"; best validation epoch {', '.join(map(str, best))}" if best else "")
            + (f"; none PD/TC per seed {floor}" if floor else "")
            + f"; {sum(r['seconds'] for r in mine) / len(mine):.0f} s per seed (one core).")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="one (mode, seed)")
    one.add_argument("--dataset", choices=data.DATASETS, required=True)
    one.add_argument("--data-dir", type=Path, required=True)
    one.add_argument("--model", required=True)
    one.add_argument("--mode", choices=MODES, required=True)
    one.add_argument("--seed", type=int, required=True)
    one.add_argument("--n-explain", type=int, default=0)
    one.add_argument("--ks", nargs="+", default=["1", "10", "all"])
    one.add_argument("--schedule", choices=("fixed", "redrawn"), default="fixed", help="mode ours only")
    one.add_argument("--out-dir", type=Path, required=True)
    one.add_argument("--out", type=Path, required=True, help="run.json")
    summary = sub.add_parser("summary", help="mean ± std over the runs")
    summary.add_argument("--runs", type=Path, nargs="+", required=True)
    summary.add_argument("--csv", type=Path, required=True)
    summary.add_argument("--md", type=Path, required=True)
    args, training_flags = parser.parse_known_args(argv)
    if args.command == "run":
        result = run(args, training_flags)
        write_json(args.out, result)
        log.info("%s seed %d: %s in %.0f s", args.mode, args.seed, result["scores"], result["seconds"])
        return
    if training_flags:
        parser.error(f"unrecognized arguments: {' '.join(training_flags)}")
    runs = []
    for path in args.runs:
        record = json.loads(path.read_text())
        record["distinct"], record["distinct_queries"] = distinct_query_scores(path.parent)
        runs.append(record)
    rows, markdown = summarize(runs)
    distinct_rows, distinct_markdown = summarize(runs, "distinct")
    rows += distinct_rows
    markdown += "\n" + distinct_markdown
    write_csv(args.csv, rows, ["unit", "mode", "setting", "metric", "mean", "std", "seeds", "published", "within_5", "verdict"])
    with atomic_path(args.md) as tmp:
        tmp.write_text(markdown)
    log.info("\n%s", markdown)


if __name__ == "__main__":
    main()
