"""Train a DkNN text classifier and hold out its calibration set (paper section 3).

    python -m xairepro.dknn.train --dataset sst2 --data-dir data/sst2 --model cnn \
        --word-vectors data/glove-6b-50d --out-dir results/dknn/sst2/cnn

Writes to --out-dir: best_model.npz (the epoch with the best validation accuracy), vocab.json,
args.json (every setting and the number of classes), calib.json (indices into the training file of
the held-out calibration examples), train_log.json (training loss and validation accuracy per epoch).
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import chainer
import chainer.functions as F
import numpy as np
from tqdm import tqdm

from xairepro.dknn import data
from xairepro.dknn.models import MODELS, activations, build_model
from xairepro.io import atomic_path, start_step, write_json


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=data.DATASETS)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--word-vectors", default="", help="registry GloVe folder; empty: random embeddings")
    p.add_argument("--embed-size", type=int, default=50, help="used only without word vectors")
    p.add_argument("--unit", type=int, default=300, help="MLP (and LSTM) width")
    p.add_argument("--mlp-layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.4)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=0.001, help="Adam's alpha")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--n-calib", type=int, default=1000, help="training examples held out to calibrate DkNN")
    p.add_argument("--max-train", type=int, default=0, help="use at most this many training examples (0: all)")
    p.add_argument("--no-lowercase", action="store_true", help="keep case (lowercase suits the uncased GloVe 6B)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "unit", "embed_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.n_calib < 1 or args.mlp_layers < 0 or not 0 <= args.dropout < 1:
        p.error("--n-calib must be >= 1, --mlp-layers >= 0 and --dropout in [0, 1)")
    return args


def split_calibration(n_train: int, n_calib: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit indices, calibration indices) into the training file, both sorted."""
    if n_calib >= n_train:
        raise ValueError(f"--n-calib {n_calib} leaves no training data ({n_train} training examples)")
    order = np.random.RandomState(seed).permutation(n_train)
    return np.sort(order[n_calib:]), np.sort(order[:n_calib])


def accuracy(model, xs, ys) -> float:
    return float((activations(model, xs)[-1].argmax(1) == np.asarray(ys)).mean())


def main(argv=None) -> None:
    log = start_step(__name__)
    args = parse_args(argv)
    np.random.seed(args.seed)  # chainer's initialisers draw from numpy's global generator
    random.seed(args.seed)
    splits = data.load_dataset(args.dataset, args.data_dir, args.seed)
    texts, labels = splits["train"]
    n_file = len(texts)
    if args.max_train:
        n_file = min(n_file, args.max_train + args.n_calib)
    fit_idx, calib_idx = split_calibration(n_file, args.n_calib, args.seed)
    char_based = args.model.startswith("char")
    units = lambda ts: [data.units(t, char_based, not args.no_lowercase) for t in ts]  # noqa: E731
    fit_texts = units([texts[i] for i in fit_idx])
    vocab = data.build_vocab(fit_texts)
    n_class = max(max(labels), max(splits["test"][1])) + 1
    args_out = dict(vars(args), n_class=n_class, char_based=char_based, lowercase=not args.no_lowercase)
    for key in ("no_lowercase", "out_dir"):  # the folder holding args.json is the model's folder
        args_out.pop(key)
    if args.word_vectors and not char_based:
        vectors, found = data.load_word_vectors(args.word_vectors, vocab)
        args_out["embed_size"] = vectors.shape[1]
        log.info("word vectors for %d of %d vocabulary words", found.sum(), len(vocab))
    model = build_model(args_out, len(vocab), n_class)
    if args.word_vectors and not char_based:
        # words without a vector start small, as in Kim 2014: U(-0.25, 0.25)
        model.embed.W.array[:] = np.random.uniform(-0.25, 0.25, model.embed.W.shape)
        model.embed.W.array[found] = vectors[found]
    opt = chainer.optimizers.Adam(alpha=args.learning_rate)
    opt.setup(model)
    opt.add_hook(chainer.optimizer_hooks.WeightDecay(args.weight_decay))

    x_fit = [data.encode(t, vocab) for t in fit_texts]
    y_fit = np.array([labels[i] for i in fit_idx], np.int32)
    x_dev = [data.encode(t, vocab) for t in units(splits["dev"][0])]
    y_dev = splits["dev"][1]
    log.info("%s/%s: %d fit, %d calibration, %d dev examples, %d units in the vocabulary, dev OOV rate %.3f",
             args.dataset, args.model, len(x_fit), len(calib_idx), len(x_dev), len(vocab),
             data.oov_rate(units(splits["dev"][0]), vocab))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(args.seed)
    history, best = [], -1.0
    for epoch in range(1, args.epochs + 1):
        order, losses = rng.permutation(len(x_fit)), []
        for start in tqdm(range(0, len(order), args.batch_size), desc=f"epoch {epoch}"):
            batch = order[start:start + args.batch_size]
            loss = F.softmax_cross_entropy(model([x_fit[i] for i in batch]), y_fit[batch])
            model.cleargrads()
            loss.backward()
            opt.update()
            losses.append(float(loss.array))
        dev_acc = accuracy(model, x_dev, y_dev)
        history.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 6), "dev_accuracy": dev_acc})
        log.info("epoch %d: train loss %.4f, dev accuracy %.4f", epoch, np.mean(losses), dev_acc)
        if dev_acc > best:
            best = dev_acc
            with atomic_path(out / "best_model.npz") as tmp:
                chainer.serializers.save_npz(str(tmp), model)
    write_json(out / "vocab.json", vocab)
    write_json(out / "calib.json", [int(i) for i in calib_idx])
    write_json(out / "train_log.json", history)
    write_json(out / "args.json", args_out)
    log.info("best dev accuracy %.4f; outputs in %s", best, out)


if __name__ == "__main__":
    main()
