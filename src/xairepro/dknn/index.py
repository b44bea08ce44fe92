"""Store every layer's activations and index the training part (paper section 2, step 1).

    python -m xairepro.dknn.index --model-dir results/dknn/sst2/cnn --data-dir data/sst2 --k 75 \
        --index kdtree --activations OUT.npz --dknn OUT.pkl --timing OUT.json

--activations: per split (fit = training data minus the calibration set, calib, dev, test) the
layers `layer{i}`, the `logits` and the `labels`; --dknn: the fitted, uncalibrated DkNN (pickle);
--timing: seconds to compute the activations and build the index, and the stored bytes.
"""
from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

import numpy as np

from xairepro.dknn import data
from xairepro.dknn.explainer import INDEXES, DkNN
from xairepro.dknn.models import activations, load_trained
from xairepro.io import atomic_path, start_step, write_json


def split_examples(args: dict, data_dir: str) -> dict[str, tuple[list[list[str]], np.ndarray]]:
    """The four splits the DkNN uses, as (token lists, labels), following the training run's args."""
    splits = data.load_dataset(args["dataset"], data_dir, args["seed"])
    texts, labels = splits["train"]
    calib = json.loads((Path(args["out_dir"]) / "calib.json").read_text())
    n_file = len(texts) if not args["max_train"] else min(len(texts), args["max_train"] + args["n_calib"])
    held_out = set(calib)
    fit = [i for i in range(n_file) if i not in held_out]
    pick = lambda idx: ([texts[i] for i in idx], np.array([labels[i] for i in idx]))  # noqa: E731
    return {"fit": pick(fit), "calib": pick(calib),
            "dev": (splits["dev"][0], np.array(splits["dev"][1])),
            "test": (splits["test"][0], np.array(splits["test"][1]))}


def load_activations(path: str | Path, split: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """(layers, logits, labels) of one split from an --activations file."""
    with np.load(path) as z:
        n_layers = sum(k.startswith(f"{split}/layer") for k in z.files)
        return [z[f"{split}/layer{i}"] for i in range(n_layers)], z[f"{split}/logits"], z[f"{split}/labels"]


def main(argv=None) -> None:
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--k", type=int, default=75)
    p.add_argument("--index", choices=INDEXES, default="kdtree")
    p.add_argument("--activations", required=True)
    p.add_argument("--dknn", required=True)
    p.add_argument("--timing", required=True)
    a = p.parse_args(argv)
    dknn = DkNN(k=a.k, index=a.index)  # checks k and the index before any work
    model, vocab, args = load_trained(a.model_dir)
    args["out_dir"] = a.model_dir
    arrays, timing = {}, {}
    start = time.perf_counter()
    for split, (texts, labels) in split_examples(args, a.data_dir).items():
        acts = activations(model, data.encode_texts(texts, vocab, args), desc=f"activations {split}")
        for i, layer in enumerate(acts[:-1]):
            arrays[f"{split}/layer{i}"] = layer
        arrays[f"{split}/logits"], arrays[f"{split}/labels"] = acts[-1], labels.astype(np.int64)
    timing["activations_s"] = time.perf_counter() - start
    with atomic_path(a.activations) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    layers = [arrays[f"fit/layer{i}"] for i in range(len(model.mlp) + 1)]
    start = time.perf_counter()
    dknn.fit(layers, arrays["fit/labels"], n_class=args["n_class"])
    timing["index_build_s"] = time.perf_counter() - start
    timing["stored_activation_bytes"] = int(sum(layer.nbytes for layer in layers))
    with atomic_path(a.dknn) as tmp, open(tmp, "wb") as f:
        pickle.dump(dknn, f)
    write_json(a.timing, timing)
    log.info("indexed %d training examples over %d layers (sizes %s, %.1f MB of activations) with %s in %.2f s",
             len(arrays["fit/labels"]), len(layers), dknn.sizes, timing["stored_activation_bytes"] / 1e6,
             a.index, timing["index_build_s"])


if __name__ == "__main__":
    main()
