"""Step 1 of the dataset-debugging experiment: flip a fraction of the training labels (seeded by the
run), train the model on the noisy labels, and save its last-layer features φ and weights Θ.

    python -m xairepro.rps_lje.train --model cnn --dataset digits --data-dir data/digits \
        --run 0 --out results/rps_lje/digits/cnn/run0/train.npz --metrics .../train_metrics.json [settings]

The .npz holds phi_train, phi_test, weights (Θ), y_train (noisy), y_clean, flipped, y_test, and
x_train/x_test: what the debugging step retrains on (φ for the networks, whose last layer is
retrained; the raw attributes for XGBoost, which is retrained whole).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from xairepro.io import atomic_path, start_step, write_json

from . import data as D
from .models import (BiLSTM, ResNet20, SmallCNN, encode, glove_vocabulary, network_features,
                     network_weights, train_network, xgboost_features)

MODELS = ("cnn", "rnn", "xgboost")
DATASETS = {"cnn": ("digits", "cifar-10"), "rnn": ("sst2", "imdb"), "xgboost": ("german-credit",)}
# What the default config's offline data stands in for (named in every result file).
STAND_IN = {"digits": "digits-stand-in for CIFAR horse-vs-car", "sst2": "SST-2 stand-in for IMDB"}
PAPER_DATASET = {"cifar-10": "cifar-horse-vs-car", "imdb": "imdb", "german-credit": "german-credit"}


def check_model_dataset(model: str, dataset: str) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if dataset not in DATASETS[model]:
        raise ValueError(f"model {model!r} runs on {' or '.join(DATASETS[model])}, not {dataset!r}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-dir", required=True, help="registry folder data/<dataset>")
    p.add_argument("--glove-dir", help="data/glove-6b-50d (rnn)")
    p.add_argument("--run", type=int, required=True, help="run index; seeds the flip, split and training")
    p.add_argument("--seed", type=int, default=0, help="base seed added to the run index")
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--flip-fraction", type=float, required=True)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--architecture", choices=("small_cnn", "resnet20"), default="small_cnn")
    p.add_argument("--classes", type=int, nargs=2, default=(3, 8), help="digit pair (cnn on digits)")
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--train-size", type=int, default=0, help="rnn: training subset (0 = all)")
    p.add_argument("--test-size", type=int, default=0, help="rnn: test subset (0 = all)")
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--n-estimators", type=int, default=50)
    p.add_argument("--max-depth", type=int, default=3)
    p.add_argument("--eta", type=float, default=0.3)
    args = p.parse_args(argv)
    check_model_dataset(args.model, args.dataset)
    if not 0 < args.flip_fraction < 1:
        p.error(f"--flip-fraction must be in (0, 1), got {args.flip_fraction}")
    if args.model == "rnn" and not args.glove_dir:
        p.error("--glove-dir is required for the rnn")
    return args


def make_xgboost(args, seed):
    import xgboost as xgb

    return xgb.XGBClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth, learning_rate=args.eta,
                             random_state=seed, n_jobs=1, tree_method="hist")


def train_xgboost(args, seed):
    from imblearn.over_sampling import SMOTE

    x_train, y_train, x_test, y_test = D.load_german_credit(args.data_dir, args.test_fraction, args.seed)
    x_train, y_train = SMOTE(random_state=args.seed).fit_resample(x_train, y_train)  # balanced, as in the paper
    y_noisy, flipped = D.flip_labels(y_train, args.flip_fraction, seed)
    booster = make_xgboost(args, seed).fit(x_train, y_noisy).get_booster()
    phi_train, weights = xgboost_features(booster, x_train)
    phi_test, _ = xgboost_features(booster, x_test)
    return dict(phi_train=phi_train, phi_test=phi_test, weights=weights, y_train=y_noisy, y_clean=y_train,
                flipped=flipped, y_test=y_test, x_train=x_train, x_test=x_test)


def train_network_model(args, seed):
    if args.model == "cnn":
        if args.dataset == "digits":
            x_train, y_train, x_test, y_test = D.load_digits_pair(args.data_dir, tuple(args.classes),
                                                                  args.test_fraction, args.seed)
        else:
            x_train, y_train, x_test, y_test = D.load_cifar_horse_car(args.data_dir)
        torch.manual_seed(seed)
        model, optimizer = (SmallCNN() if args.architecture == "small_cnn" else ResNet20()), "sgd"
    else:
        load = D.load_sst2 if args.dataset == "sst2" else D.load_imdb
        texts_train, y_train, texts_test, y_test = load(args.data_dir, args.train_size, args.test_size, args.seed)
        vocab, embeddings = glove_vocabulary(texts_train + texts_test, args.glove_dir)
        x_train, x_test = encode(texts_train, vocab, args.max_len), encode(texts_test, vocab, args.max_len)
        torch.manual_seed(seed)
        model, optimizer = BiLSTM(embeddings, args.hidden), "adam"
    y_noisy, flipped = D.flip_labels(y_train, args.flip_fraction, seed)
    model.to("cuda" if torch.cuda.is_available() else "cpu")  # CPU in the default config; GPU on a cluster
    train_network(model, x_train, y_noisy, optimizer=optimizer, lr=args.lr, epochs=args.epochs,
                  batch_size=args.batch_size, seed=seed)
    phi_train, phi_test = network_features(model, x_train), network_features(model, x_test)
    return dict(phi_train=phi_train, phi_test=phi_test, weights=network_weights(model), y_train=y_noisy,
                y_clean=y_train, flipped=flipped, y_test=y_test, x_train=phi_train, x_test=phi_test)


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    torch.set_num_threads(1)
    seed = args.seed + args.run
    arrays = train_xgboost(args, seed) if args.model == "xgboost" else train_network_model(args, seed)
    margin_train, margin_test = arrays["phi_train"] @ arrays["weights"], arrays["phi_test"] @ arrays["weights"]
    metrics = {
        "dataset": args.dataset, "model": args.model, "run": args.run, "seed": seed,
        "setup": STAND_IN.get(args.dataset, "paper setup"),
        "n_train": int(len(arrays["y_train"])), "n_test": int(len(arrays["y_test"])),
        "n_flipped": int(arrays["flipped"].sum()),
        "train_accuracy_noisy_labels": round(float(np.mean((margin_train > 0) == arrays["y_train"])), 6),
        "test_accuracy": round(float(np.mean((margin_test > 0) == arrays["y_test"])), 6),
    }
    log.info("trained %s on %s: %s", args.model, args.dataset, metrics)
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    write_json(args.metrics, metrics)


if __name__ == "__main__":
    main()
