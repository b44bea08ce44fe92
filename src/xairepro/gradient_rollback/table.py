"""PD and TC per setting from all evaluation shards, the comparison with the paper's Table 1, and GR's
fidelity (predicted vs retrained Δ of the top explanation) (python -m xairepro.gradient_rollback.table)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from xairepro.gradient_rollback.topk import NONE
from xairepro.io import start_step, write_csv, write_json
from xairepro.published import COMPARISON_COLUMNS, lookup

PAPER = "gradient_rollback"


def scores(explained: list[dict], retrained: list[dict]) -> dict[str, dict]:
    """PD: % of predictions whose probability dropped after retraining without the set; TC: % whose
    top-1 tail changed. Predictions with an empty set count as neither (nothing was deleted), except in
    the control "none", whose set is empty by design: there any change is retraining noise."""
    before = {r["test_index"]: r for r in explained}
    out = {}
    for setting in sorted({r["setting"] for r in retrained}):
        rows = [r for r in retrained if r["setting"] == setting]
        counted = [r["deleted"] > 0 or setting == NONE for r in rows]
        pd = [c and r["probability_after"] < before[r["test_index"]]["probability"] for c, r in zip(counted, rows)]
        tc = [c and r["top1_after"] != before[r["test_index"]]["prediction"] for c, r in zip(counted, rows)]
        out[setting] = {"PD": round(100 * sum(pd) / len(rows), 2), "TC": round(100 * sum(tc) / len(rows), 2),
                        "n": len(rows), "mean_deleted": round(sum(r["deleted"] for r in rows) / len(rows), 3)}
    return out


def fidelity(explained: list[dict], retrained: list[dict]) -> list[dict]:
    """GR's Δ of each top-1 explanation vs the Δ actually seen when retraining without it (GR-1)."""
    before = {r["test_index"]: r for r in explained}
    return [{"test_index": r["test_index"], "gr_delta": before[r["test_index"]]["explanations"][0][1],
             "retrained_delta": before[r["test_index"]]["probability"] - r["probability_after"]}
            for r in retrained if r["setting"] == "GR-1" and r["deleted"] == 1]


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--explanations", type=Path, required=True)
    parser.add_argument("--shards", type=Path, nargs="+", required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--comparison", type=Path, required=True)
    parser.add_argument("--fidelity", type=Path, required=True)
    args = parser.parse_args(argv)
    explanations = json.loads(args.explanations.read_text())
    dataset, model, explained = explanations["dataset"], explanations["model"], explanations["explained"]
    retrained = [r for path in args.shards for r in json.loads(path.read_text())["retrained"]]
    result = scores(explained, retrained)
    pairs = fidelity(explained, retrained)
    pearson = (round(float(np.corrcoef([p["gr_delta"] for p in pairs], [p["retrained_delta"] for p in pairs])[0, 1]), 4)
               if len(pairs) > 2 else None)
    write_json(args.metrics, {"dataset": dataset, "model": model, "explained": len(explained), "scores": result,
                              "fidelity_pearson_gr1": pearson, "fidelity_pairs": len(pairs)})
    rows = []
    for setting, values in result.items():
        for metric in ("PD", "TC"):
            published = lookup(PAPER, f"table1_{setting}", dataset, model, metric)
            rows.append({"paper": PAPER, "experiment": f"table1_{setting}", "dataset": dataset, "model": model,
                         "metric": metric, "published": published["published"] if published else "",
                         "ours": values[metric],
                         "source": (f"{published['source']}; " if published else
                                    f"not published for {dataset}/{model}; ") +
                         f"ours on {len(explained)} explained triples, one run"})
    write_csv(args.comparison, rows, COMPARISON_COLUMNS)
    write_csv(args.fidelity, pairs, ["test_index", "gr_delta", "retrained_delta"])
    log.info("scores: %s", result)


if __name__ == "__main__":
    main()
