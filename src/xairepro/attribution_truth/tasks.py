"""The torch-env tasks of the ground-truth experiment: data, the training procedure (the same one for the
explained model and for every retraining), and f(x_t) = the margin toward t's true label.

- credit_logistic: German credit (standardized features + bias), l2-regularised logistic regression fitted
  to its optimum (Newton). Convex and deterministic: a retraining seed changes nothing.
- digits_cnn: sklearn digits 3 vs 8, the small CNN of the RPS-LJE stand-in experiment, minibatch SGD with
  momentum from a seeded initialisation and batch order. A retraining without some points keeps the full
  run's order for the kept ones (each epoch's permutation of all n points with the left-out ones deleted),
  as the Gradient Rollback experiment retrains, so a leave-one-out difference with the same seed is the
  point's effect plus the noise its absence propagates, not a reshuffle. Retraining noise is measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xairepro.mislabel.scorers import standardize
from xairepro.rps_lje.data import load_digits_pair, load_german_credit
from xairepro.rps_lje.models import SmallCNN, network_features, network_weights
from xairepro.rps_lje.retrain import fit_logistic

TASKS = ("credit_logistic", "digits_cnn")


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray   # the explained test points only
    y_test: np.ndarray


@dataclass
class Model:
    """A trained model of a task: `net` (a torch module with a single logit) and, for the CNN, the
    parameters at the end of each epoch (TracIn's checkpoints) with the learning rate of that epoch."""
    net: nn.Module
    checkpoints: list = field(default_factory=list)
    checkpoint_lrs: list = field(default_factory=list)


class LogisticNet(nn.Module):
    """Θ·φ as a module (φ includes the bias feature), so dattri and the network code see one interface."""

    def __init__(self, d: int):
        super().__init__()
        self.head = nn.Linear(d, 1, bias=False, dtype=torch.float64)

    def features(self, x):
        return x

    def forward(self, x):
        return self.head(x).squeeze(-1)


def load(task: str, data_dir: str | Path, settings: dict, seed: int) -> Data:
    """The task's training split and whole test split (the plan picks the explained points)."""
    if task == "credit_logistic":
        x_train, y_train, x_test, y_test = load_german_credit(data_dir, settings["test_fraction"], seed)
        # standardized with the training split's statistics, plus the bias feature
        phi = lambda x: np.hstack([standardize(x, x_train), np.ones((len(x), 1))])  # noqa: E731
        return Data(phi(x_train), y_train, phi(x_test), y_test)
    if task == "digits_cnn":
        return Data(*load_digits_pair(data_dir, tuple(settings["classes"]), settings["test_fraction"], seed))
    raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


def train(task: str, data: Data, keep: np.ndarray, seed: int, settings: dict, checkpoints: bool = False) -> Model:
    """The task's training procedure on the training points `keep` with `seed`."""
    x, y = data.x_train[keep], data.y_train[keep]
    if task == "credit_logistic":
        net = LogisticNet(x.shape[1])
        with torch.no_grad():
            net.head.weight.copy_(torch.as_tensor(fit_logistic(x, y, settings["l2"]))[None])
        return Model(net.eval())
    torch.manual_seed(seed)
    net = SmallCNN()
    optimizer = torch.optim.SGD(net.parameters(), lr=settings["lr"], momentum=0.9)
    xt, yt = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train, dtype=torch.float32)
    model = Model(net)
    net.train()
    for order in epoch_orders(len(data.y_train), keep, settings["epochs"], seed):
        for batch in order.split(settings["batch_size"]):
            optimizer.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(net(xt[batch]), yt[batch]).backward()
            optimizer.step()
        if checkpoints:
            model.checkpoints.append({k: v.detach().clone() for k, v in net.state_dict().items()})
            model.checkpoint_lrs.append(settings["lr"])
    net.eval()
    return model


def epoch_orders(n: int, keep: np.ndarray, epochs: int, seed: int) -> list[torch.Tensor]:
    """Each epoch's order of the kept training points: a seeded permutation of all n points with the others
    deleted, so the same seed visits the kept points in the same relative order whatever is left out."""
    generator = torch.Generator().manual_seed(seed)
    kept = torch.zeros(n, dtype=torch.bool)
    kept[torch.as_tensor(np.asarray(keep), dtype=torch.long)] = True
    orders = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        orders.append(order[kept[order]])
    return orders


@torch.no_grad()
def margins(model: Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f(x_t) = the logit toward the true label: logit if y = 1, −logit if y = 0."""
    logits = model.net(torch.as_tensor(x)).double().numpy()
    return np.where(np.asarray(y) == 1, logits, -logits)


def last_layer(model: Model, data: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(φ_train, φ_test, Θ) of the final linear unit, for the last-layer explainers (φ includes the bias
    feature 1, Θ the bias)."""
    if isinstance(model.net, LogisticNet):
        return data.x_train, data.x_test, model.net.head.weight.detach().double().numpy().ravel()
    return network_features(model.net, data.x_train), network_features(model.net, data.x_test), network_weights(model.net)
