"""Speed of the DkNN's k-nearest-neighbour search over all layers: sklearn KDTree (the paper's
index) and annoy (approximate) against exact brute force, on the same stored activations.

    python benchmarks/dknn_knn_search.py --activations results/dknn/sst2/cnn/activations.npz \
        --out results/benchmarks/dknn_knn_search.json --markdown results/benchmarks/dknn_knn_search.md

Reports per index: build seconds, queries per second (one query = k neighbours in every layer),
recall@k against brute force, the DkNN pass over the test split (neighbours -> prediction,
credibility, confidence) in seconds, and the bytes of the stored training activations. --markdown also
writes them as the table `make readme-results` puts in the README.
"""
from __future__ import annotations

import argparse
import pickle
import time

import numpy as np

from xairepro.dknn.explainer import DkNN
from xairepro.dknn.index import load_activations
from xairepro.io import atomic_path, start_step, write_json


def main(argv=None) -> None:
    log = start_step("dknn_knn_search")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--activations", required=True)
    p.add_argument("--k", type=int, default=75)
    p.add_argument("--out", required=True)
    p.add_argument("--markdown", help="also write the table as Markdown (the README's block)")
    a = p.parse_args(argv)
    train, _, train_labels = load_activations(a.activations, "fit")
    calib, _, calib_labels = load_activations(a.activations, "calib")
    test, _, _ = load_activations(a.activations, "test")
    result = {"n_indexed": len(train_labels), "n_queries": len(test[0]), "layer_sizes": [x.shape[1] for x in train],
              "k": a.k, "stored_activation_bytes": int(sum(x.nbytes for x in train))}
    exact = None
    for kind in ("brute", "kdtree", "annoy"):
        start = time.perf_counter()
        dknn = DkNN(k=a.k, index=kind).fit(train, train_labels)
        build = time.perf_counter() - start
        start = time.perf_counter()
        found = dknn.neighbours(test)
        search = time.perf_counter() - start
        dknn.calibrate(calib, calib_labels)
        start = time.perf_counter()
        dknn.predict(test)
        dknn_pass = time.perf_counter() - start
        if exact is None:
            exact = found
        recall = np.mean([len(set(f) & set(e)) / a.k for fl, el in zip(found, exact) for f, e in zip(fl, el)])
        result[kind] = {"build_s": round(build, 3), "queries_per_s": round(len(test[0]) / search, 1),
                        "recall_at_k": round(float(recall), 4), "dknn_test_pass_s": round(dknn_pass, 3),
                        "pickled_bytes": len(pickle.dumps(dknn))}
        log.info("%s: %s", kind, result[kind])
    for kind in ("kdtree", "annoy"):
        result[kind]["speedup_vs_brute"] = round(result[kind]["queries_per_s"] / result["brute"]["queries_per_s"], 3)
    write_json(a.out, result)
    if a.markdown:
        with atomic_path(a.markdown) as tmp:
            tmp.write_text(markdown(result, a.activations))


def markdown(result: dict, source: str) -> str:
    lines = [f"{result['n_queries']} test queries against {result['n_indexed']} indexed examples, layers "
             f"{' + '.join(map(str, result['layer_sizes']))}, k = {result['k']} ({source}); stored activations "
             f"{result['stored_activation_bytes'] / 2 ** 20:.1f} MiB.", "",
             "| index | build (s) | queries/s | vs brute force | recall@k | DkNN pass over the test set (s) |",
             "|---|---|---|---|---|---|"]
    for kind in ("brute", "kdtree", "annoy"):
        r = result[kind]
        lines.append(f"| {kind} | {r['build_s']:.2f} | {r['queries_per_s']:.0f} | {r.get('speedup_vs_brute', 1):.2f}× | "
                     f"{r['recall_at_k']:.3f} | {r['dknn_test_pass_s']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
