"""Step 1 of the dataset-debugging experiment: flip a fraction of the training labels (seeded by the
run), train the model on the noisy labels, and save its last-layer features φ and weights Θ.

    python -m xairepro.rps_lje.train --model cnn --dataset digits --data-dir data/digits \
        --run 0 --out results/rps_lje/digits/cnn/run0/train.npz --model-out .../model.pt \
        --metrics .../train_metrics.json [settings]

The .npz holds phi_train, phi_test, weights (Θ), y_train (noisy), y_clean, flipped, y_test,
logit_train/logit_test (the model's own logits; for XGBoost's "probability" features Θ·φ is not one);
inputs_train/inputs_test, the model's own inputs (images, token ids, attributes) that the debugging
step retrains the whole model on; and x_train/x_test, the representation the mislabel benchmark's
neighbour search uses (φ for the networks, the attributes for XGBoost).
The model file (model.pt) says how to train the same model again: for a network its architecture,
training settings, seed, the weights it started from ("base") and ended with ("flipped"); for
XGBoost the booster's parameters and seed.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from xairepro.io import atomic_path, start_step, write_json

from . import data as D
from .models import (XGBOOST_FEATURES, build_network, default_device, encode, glove_vocabulary, network_features,
                     network_weights, train_network, use_device, xgboost_features)

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
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (networks; XGBoost runs on the CPU)")
    p.add_argument("--out", required=True)
    p.add_argument("--model-out", required=True, help="model.pt: how to retrain this model (see above)")
    p.add_argument("--metrics", required=True)
    p.add_argument("--flip-fraction", type=float, required=True)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--weight-decay", type=float, default=0.0, help="networks (paper CNN: 5e-4)")
    p.add_argument("--architecture", choices=("small_cnn", "resnet20"), default="small_cnn")
    p.add_argument("--classes", type=int, nargs=2, default=(3, 8), help="digit pair (cnn on digits)")
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--train-size", type=int, default=0, help="rnn: training subset (0 = all)")
    p.add_argument("--test-size", type=int, default=0, help="rnn: test subset (0 = all)")
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--layers", type=int, default=1, help="rnn: LSTM layers (paper 2)")
    p.add_argument("--dropout", type=float, default=0.0, help="rnn: dropout between LSTM layers (paper 0.5)")
    p.add_argument("--n-estimators", type=int, default=80, help="xgboost trees (authors 80)")
    p.add_argument("--max-depth", type=int, default=8, help="xgboost (authors 8)")
    p.add_argument("--eta", type=float, default=0.005, help="xgboost learning rate (authors 0.005)")
    p.add_argument("--min-child-weight", type=float, default=3, help="xgboost (authors 3)")
    p.add_argument("--colsample-bytree", type=float, default=0.5, help="xgboost (authors 0.5)")
    p.add_argument("--split-gamma", type=float, default=0.01, help="xgboost min split loss `gamma` (authors 0.01)")
    p.add_argument("--features", choices=XGBOOST_FEATURES, default="probability",
                   help="xgboost explainer features: the authors' per-tree probabilities, or exact margins")
    args = p.parse_args(argv)
    check_model_dataset(args.model, args.dataset)
    if not 0 < args.flip_fraction < 1:
        p.error(f"--flip-fraction must be in (0, 1), got {args.flip_fraction}")
    if args.model == "rnn" and not args.glove_dir:
        p.error("--glove-dir is required for the rnn")
    return args


def xgboost_params(args) -> dict:
    """The booster's settings (the authors': 80 trees, depth 8, learning rate 0.005, gamma 0.01,
    colsample_bytree 0.5, min_child_weight 3 in models/Xgboost/train.py)."""
    # base_score 0.5: the default of the XGBoost the authors ran (1.x); XGBoost >= 2 estimates it from the
    # labels, and at learning rate 0.005 that intercept outweighs the 80 trees: fixing the flips of one
    # class then flipped the booster to predicting that class everywhere (German credit test accuracy 0.28).
    return dict(n_estimators=args.n_estimators, max_depth=args.max_depth, learning_rate=args.eta,
                min_child_weight=args.min_child_weight, colsample_bytree=args.colsample_bytree, gamma=args.split_gamma,
                base_score=0.5)


def make_xgboost(params: dict, seed: int):
    import xgboost as xgb

    return xgb.XGBClassifier(**params, random_state=seed, n_jobs=1, tree_method="hist")


def train_xgboost(args, seed):
    import xgboost as xgb
    from imblearn.over_sampling import SMOTE

    x_train, y_train, x_test, y_test = D.load_german_credit(args.data_dir, args.test_fraction, args.seed)
    x_train, y_train = SMOTE(random_state=args.seed).fit_resample(x_train, y_train)  # balanced, as in the paper
    y_noisy, flipped = D.flip_labels(y_train, args.flip_fraction, seed)
    params = xgboost_params(args)
    booster = make_xgboost(params, seed).fit(x_train, y_noisy).get_booster()
    phi_train, weights = xgboost_features(booster, x_train, args.features)
    phi_test, _ = xgboost_features(booster, x_test, args.features)
    logit = lambda x: booster.predict(xgb.DMatrix(x), output_margin=True).astype(np.float64)
    arrays = dict(phi_train=phi_train, phi_test=phi_test, weights=weights, y_train=y_noisy, y_clean=y_train,
                  flipped=flipped, y_test=y_test, x_train=x_train, x_test=x_test, inputs_train=x_train,
                  inputs_test=x_test, logit_train=logit(x_train), logit_test=logit(x_test))
    return arrays, {"kind": "xgboost", "params": params, "seed": seed}


def train_network_model(args, seed):
    if args.model == "cnn":
        if args.dataset == "digits":
            x_train, y_train, x_test, y_test = D.load_digits_pair(args.data_dir, tuple(args.classes),
                                                                  args.test_fraction, args.seed)
        else:
            x_train, y_train, x_test, y_test = D.load_cifar_horse_car(args.data_dir)
        architecture, kwargs, optimizer = args.architecture, {}, "sgd"
    else:
        load = D.load_sst2 if args.dataset == "sst2" else D.load_imdb
        texts_train, y_train, texts_test, y_test = load(args.data_dir, args.train_size, args.test_size, args.seed)
        vocab, embeddings = glove_vocabulary(texts_train + texts_test, args.glove_dir)
        x_train, x_test = encode(texts_train, vocab, args.max_len), encode(texts_test, vocab, args.max_len)
        architecture, optimizer = "bilstm", "adam"
        kwargs = dict(vocab_size=len(embeddings), embed_dim=embeddings.shape[1], hidden=args.hidden,
                      layers=args.layers, dropout=args.dropout)
    torch.manual_seed(seed)
    model = build_network(architecture, **kwargs)
    if architecture == "bilstm":
        model.embed.weight.data.copy_(torch.as_tensor(embeddings))
    y_noisy, flipped = D.flip_labels(y_train, args.flip_fraction, seed)
    model.to(default_device())
    base_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    training = dict(optimizer=optimizer, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
                    weight_decay=args.weight_decay)
    train_network(model, x_train, y_noisy, seed=seed, **training)
    phi_train, phi_test = network_features(model, x_train), network_features(model, x_test)
    weights = network_weights(model)
    arrays = dict(phi_train=phi_train, phi_test=phi_test, weights=weights, y_train=y_noisy,
                  y_clean=y_train, flipped=flipped, y_test=y_test, x_train=phi_train, x_test=phi_test,
                  inputs_train=x_train, inputs_test=x_test, logit_train=phi_train @ weights,
                  logit_test=phi_test @ weights)
    spec = {"kind": "network", "architecture": architecture, "kwargs": kwargs, "training": training, "seed": seed,
            "base_state": base_state, "flipped_state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    return arrays, spec


def main(argv=None):
    log = start_step(__name__)
    args = parse_args(argv)
    use_device(args.device, log)
    torch.set_num_threads(1)
    seed = args.seed + args.run
    arrays, spec = train_xgboost(args, seed) if args.model == "xgboost" else train_network_model(args, seed)
    margin_train, margin_test = arrays["logit_train"], arrays["logit_test"]  # the model's own logits
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
    with atomic_path(args.model_out) as tmp:
        torch.save(spec, tmp)
    write_json(args.metrics, metrics)


if __name__ == "__main__":
    main()
