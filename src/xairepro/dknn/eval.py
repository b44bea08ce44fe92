"""Accuracy with and without the DkNN, and the calibration of four confidence measures on the test set
(paper sections 3-4): softmax, temperature-scaled softmax, DkNN credibility (the conformal p-value of
the predicted label: for correct predictions it is roughly uniform by construction, so a large ECE is
what it is, not a miscalibrated probability), and the DkNN vote fraction (the share of the k × layers
neighbours that carry the predicted label; the authors' run_dknn.py votes with the last layer's neighbours only).

    python -m xairepro.dknn.eval --activations A.npz --dknn dknn.pkl --calibration calibration.json \
        --args args.json --metrics metrics.json --reliability reliability.json --comparison comparison.csv

--metrics: accuracies (percent), ECE (15 bins), NLL, mean scores and the run's setting;
--reliability: the bins of the four reliability diagrams; --comparison: ours next to the published
numbers (columns paper,experiment,dataset,model,metric,published,ours,ours_std,runs,source).
"""
from __future__ import annotations

import argparse
import json
import pickle

import numpy as np

from xairepro import published
from xairepro.dknn import metrics
from xairepro.dknn.index import load_activations
from xairepro.io import start_step, write_csv, write_json

PAPER_VECTORS = "glove-840b-300d"


def vote_fraction(dknn, out, n_layers: int) -> np.ndarray:
    """Share of the k neighbours in every layer whose label is the DkNN's prediction."""
    votes = dknn.k * n_layers - out.nonconformity[np.arange(len(out.prediction)), out.prediction]
    return votes / (dknn.k * n_layers)


def evaluate(dknn, layers, logits, labels, temperature: float, n_bins: int = 15) -> tuple[dict, dict]:
    """(metrics, reliability bins) of one labelled set."""
    out = dknn.predict(layers)
    scores = {
        "softmax": (metrics.softmax(logits).max(1), logits.argmax(1)),
        "temperature": (metrics.softmax(logits, temperature).max(1), logits.argmax(1)),
        "dknn_credibility": (out.credibility, out.prediction),
        "dknn_vote_fraction": (vote_fraction(dknn, out, len(layers)), out.prediction),
    }
    bins = {name: metrics.reliability(conf, pred == labels, n_bins) for name, (conf, pred) in scores.items()}
    result = {
        "accuracy_softmax": round(100 * float((logits.argmax(1) == labels).mean()), 4),
        "accuracy_dknn": round(100 * float((out.prediction == labels).mean()), 4),
        "agreement_dknn_softmax": round(100 * float((out.prediction == logits.argmax(1)).mean()), 4),
        "nll_softmax": round(metrics.nll(logits, labels), 6),
        "nll_temperature": round(metrics.nll(logits, labels, temperature), 6),
        "mean_dknn_confidence": round(float(out.confidence.mean()), 6),
        "n_test": int(len(labels)),
    }
    for name, (conf, _) in scores.items():
        result[f"ece_{name}"] = round(100 * bins[name]["ece"], 4)
        result[f"mean_{name}"] = round(float(conf.mean()), 6)
    return result, bins


def comparison_rows(result: dict, args: dict, dataset: str, model: str) -> list[dict]:
    vectors = "none (character model)" if args["char_based"] else (args["word_vectors_name"] or "random init")
    setting = (f"ours: {vectors} vectors, {args['epochs']} epochs, {args['n_fit']} indexed training examples"
               + ("" if args["char_based"] or args["word_vectors_name"] == PAPER_VECTORS
                  else f" (paper: {PAPER_VECTORS})"))
    rows = []
    for experiment, metric in [("accuracy", "accuracy_softmax"), ("accuracy", "accuracy_dknn"),
                               ("calibration", "ece_softmax"), ("calibration", "ece_temperature"),
                               ("calibration", "ece_dknn_credibility"), ("calibration", "ece_dknn_vote_fraction")]:
        row = published.lookup("dknn", experiment, dataset, model, metric)
        source = f"{row['source']}; {setting}" if row else f"no published value in reach; {setting}"
        rows.append({"paper": "dknn", "experiment": experiment, "dataset": dataset, "model": model,
                     "metric": metric, "published": row["published"] if row else "",
                     "ours": result[metric], "source": source})
    return rows


def main(argv=None) -> None:
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("activations", "dknn", "calibration", "args", "metrics", "reliability", "comparison"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--word-vectors-name", default="", help="registry name of the vectors, for the tables")
    p.add_argument("--n-bins", type=int, default=15)
    a = p.parse_args(argv)
    if a.n_bins < 1:
        p.error("--n-bins must be >= 1")
    with open(a.dknn, "rb") as f:
        dknn = pickle.load(f)
    calibration = json.loads(open(a.calibration).read())
    args = json.loads(open(a.args).read())
    layers, logits, labels = load_activations(a.activations, "test")
    result, bins = evaluate(dknn, layers, logits, labels, calibration["temperature"], a.n_bins)
    args.update(word_vectors_name=a.word_vectors_name, n_fit=len(dknn.train_labels))
    result.update(dataset=args["dataset"], model=args["model"], k=dknn.k, index=dknn.index_kind,
                  n_calibration=len(dknn.calibration), n_indexed=len(dknn.train_labels),
                  temperature=calibration["temperature"], epochs=args["epochs"],
                  word_vectors=a.word_vectors_name or None)
    log.info("%s/%s: accuracy %.2f%% -> DkNN %.2f%%; ECE softmax %.2f, temperature %.2f, DkNN credibility %.2f, "
             "vote fraction %.2f", args["dataset"], args["model"], result["accuracy_softmax"], result["accuracy_dknn"],
             result["ece_softmax"], result["ece_temperature"], result["ece_dknn_credibility"],
             result["ece_dknn_vote_fraction"])
    write_json(a.metrics, result)
    write_json(a.reliability, bins)
    write_csv(a.comparison, comparison_rows(result, args, args["dataset"], args["model"]), published.COMPARISON_COLUMNS)


if __name__ == "__main__":
    main()
