"""Retraining after the checked labels are fixed: the "retrain" of the dataset-debugging experiment.

The authors (echoyi/RPS_LJE, dataset_debugging/ and models/*/train_with_flipped_data.py) retrain the
whole model on the fixed labels:
- CNN: the whole ResNet-20 again from the checkpoint the flipped model started from (SGD, momentum
  0.9, weight decay 5e-4, 30 epochs, lr 1e-3), one training per checkpoint;
- RNN: a fresh Bi-LSTM, 20 epochs (Adam, lr 5e-3), test accuracy averaged over 3 trainings;
- XGBoost: the booster fitted again on the fixed labels.

`start` says where a network's retraining begins:
- "base":     the weights the flipped model started from, trained with the flipped model's seed, so
              fixing nothing gives back the flipped model and fixing everything the clean-label model;
- "fresh":    a new random initialisation for every repeat (seeded by run and repeat);
- "flipped":  the trained flipped model, all layers fine-tuned (a cheap whole-model variant);
- "last_layer": only the last layer, refitted as an l2-regularised logistic regression on the flipped
              model's frozen features (not the paper's procedure: kept as a named option because it is
              what earlier versions of this project did; it cannot undo what the features learnt).
XGBoost always refits the whole booster (its start must be "fresh").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .models import build_network, default_device, network_accuracy, train_network

STARTS = ("base", "fresh", "flipped", "last_layer")


@dataclass(frozen=True)
class Retrain:
    start: str = "base"
    epochs: int = 0          # 0: the flipped model's epochs
    lr: float = 0.0          # 0: the flipped model's learning rate
    repeats: int = 1         # trainings averaged per checkpoint
    l2: float = 1e-3         # last_layer only

    def __post_init__(self):
        if self.start not in STARTS:
            raise ValueError(f"retrain start must be one of {', '.join(STARTS)}, got {self.start!r}")
        if self.repeats < 1 or self.epochs < 0 or self.lr < 0:
            raise ValueError(f"retrain needs repeats >= 1, epochs >= 0, lr >= 0; got {self}")


def fit_logistic(phi: np.ndarray, y: np.ndarray, l2: float, iterations: int = 100) -> np.ndarray:
    """argmin_Θ mean BCE(Θ·φ_i, y_i) + l2‖Θ‖² by Newton's method from Θ = 0."""
    theta = np.zeros(phi.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-phi @ theta))
        grad = phi.T @ (p - y) / len(y) + 2 * l2 * theta
        if np.linalg.norm(grad) < 1e-10:
            break
        hessian = (phi * (p * (1 - p))[:, None]).T @ phi / len(y) + 2 * l2 * np.eye(len(theta))
        theta -= np.linalg.solve(hessian, grad)
    return theta


def _network(spec: dict, state: dict | None, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_network(spec["architecture"], **spec["kwargs"])
    if state is None:  # fresh: new weights, but the same frozen word vectors
        model.load_state_dict({k: v for k, v in spec["base_state"].items() if k.startswith("embed.")}, strict=False)
    else:
        model.load_state_dict(state)
    return model.to(default_device())


def retrain_accuracy(spec: dict, data, labels: np.ndarray, retrain: Retrain) -> float:
    """Test accuracy of the model retrained on `labels` (mean over retrain.repeats trainings)."""
    if spec["kind"] == "xgboost":
        if retrain.start != "fresh":
            raise ValueError(f"XGBoost is refitted whole: its retrain start must be 'fresh', not {retrain.start!r}")
        from .train import make_xgboost

        clf = make_xgboost(spec["params"], spec["seed"]).fit(data["inputs_train"], labels)
        return float(np.mean(clf.predict(data["inputs_test"]) == data["y_test"]))
    if retrain.start == "last_layer":
        theta = fit_logistic(data["phi_train"], labels, retrain.l2)
        return float(np.mean((data["phi_test"] @ theta > 0) == data["y_test"]))
    training = dict(spec["training"])
    training["epochs"] = retrain.epochs or training["epochs"]
    training["lr"] = retrain.lr or training["lr"]
    accuracies = []
    for repeat in range(retrain.repeats):
        # repeat 0 of "base" uses the flipped model's own seed: same start, same batches, only the labels differ
        seed = spec["seed"] + 100_003 * repeat
        state = {"base": spec["base_state"], "flipped": spec["flipped_state"], "fresh": None}[retrain.start]
        model = _network(spec, state, seed + (7919 if retrain.start == "fresh" else 0))
        train_network(model, data["inputs_train"], labels, seed=seed, progress=False, **training)
        accuracies.append(network_accuracy(model, data["inputs_test"], data["y_test"]))
    return float(np.mean(accuracies))
