"""Two more training-point scorers for the mislabel benchmark, with the interface of the rps_lje
explainers (fit, then self_importance: higher = check first).

Both see the same trained model as RPS-LJE/RPS-l2/IF do: its last-layer features φ (and, for XGBoost,
also the raw attributes), saved by rps_lje.train.

    scorer = NeighbourDisagreement(k=10).fit([phi_train], noisy_labels)
    scorer = ExplaindSelfInfluence(epochs=10).fit(phi_train, noisy_labels)
    scorer.self_importance()            # (n_train,)
"""
from __future__ import annotations

import contextlib
import math
import tempfile

import numpy as np
import torch
from torch import nn

from xairepro.dknn.explainer import DkNN
from xairepro.explaind.explainer import ExPLAIND
from xairepro.explaind.functional import SGD, FlatModel
from xairepro.explaind.history import History, train_fingerprint, train_with_history

__all__ = ["NeighbourDisagreement", "ExplaindSelfInfluence", "SCORERS", "standardize"]


def standardize(a, reference=None) -> np.ndarray:
    """Column z-scores (constant columns become 0), so no feature's unit dominates distances or steps.
    With `reference` (e.g. the training split), its means and deviations are used (for test points)."""
    a = np.asarray(a, np.float64)
    ref = a if reference is None else np.asarray(reference, np.float64)
    sd = ref.std(0)
    return (a - ref.mean(0)) / np.where(sd > 0, sd, 1.0)


def _check(n_rows: int, labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n_rows,) or not np.isin(labels, (0, 1)).all():
        raise ValueError(f"expected {n_rows} labels in {{0, 1}}, got shape {labels.shape}")
    return labels.astype(np.int64)


class NeighbourDisagreement:
    """DkNN nonconformity of each training point under its own (possibly flipped) label, leave-one-out:
    α(x_i, y_i) = Σ_l |{z ∈ Ω_l(x_i) \\ {x_i} : label(z) ≠ y_i}| (Papernot & McDaniel 2018; k per layer).

    Args:
        k: neighbours per layer, not counting the point itself.
    """

    name = "dknn"

    def __init__(self, k: int = 10):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self.scores = None

    def fit(self, layers: list, labels) -> "NeighbourDisagreement":
        layers = [standardize(a) for a in layers]
        labels = _check(len(layers[0]), labels)
        # k + 1 neighbours, then drop the point itself; exact search (the sets are small).
        dknn = DkNN(k=self.k + 1, index="brute").fit(layers, labels, n_class=2)
        rows = np.arange(len(labels))[:, None]
        self.scores = np.zeros(len(labels))
        for idx in dknn.neighbours(layers):
            # Non-self neighbours first, nearest first (a duplicate may displace the point itself).
            keep = np.argsort(idx == rows, axis=1, kind="stable")[:, : self.k]
            neighbours = np.take_along_axis(idx, keep, 1)
            self.scores += (labels[neighbours] != labels[:, None]).sum(1)
        return self

    def self_importance(self) -> np.ndarray:
        if self.scores is None:
            raise RuntimeError("call fit() first")
        return self.scores


@contextlib.contextmanager
def recorded_last_layer_run(x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, lr: float, seed: int,
                            name: str):
    """Record plain minibatch SGD of a 2-output linear layer on x (from a seeded initialisation) and yield
    ExPLAIND on that run. f is linear in θ there, so one integration point per step makes the kernel exact."""
    torch.manual_seed(seed)
    model, optimizer = FlatModel(nn.Linear(x.shape[1], 2), torch.float64), SGD()
    n_steps = epochs * math.ceil(len(x) / batch_size)
    identity = {"scorer": name, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                "data": train_fingerprint(x, y)}
    with tempfile.TemporaryDirectory(prefix="explaind-history-") as folder:
        train_with_history(model, optimizer, x, y, [lr] * n_steps, batch_size, seed, folder, checkpoint_every=256,
                           identity=identity)
        yield ExPLAIND(model, optimizer, History(folder, identity), x, y, integration_steps=1, chunk=4096)


class ExplaindSelfInfluence:
    """ExPLAIND data attribution of each training point on its own output, A(x_i, i): its exact-path-
    kernel share of the logit of its (possibly flipped) label, summed over the training steps that
    used it (Eichin et al. 2025). A point the rest of the data disagrees with must carry its own logit.

    ExPLAIND needs a recorded training run. The trained networks' runs were not recorded, so this
    records one of the last layer on the frozen standardized features φ - the layer the RPS explainers
    explain - with plain minibatch SGD from a seeded initialisation, and attributes that run. f is
    linear in θ there, so one integration point per step makes the path kernel exact.

    Args:
        epochs, batch_size, lr, seed: the recorded last-layer SGD run.
        block: training points attributed per sweep over the history. Only the diagonal of the
            n × n attribution is kept, so memory is O(block · n); each further block costs one sweep.
    """

    name = "explaind"

    def __init__(self, epochs: int = 10, batch_size: int = 32, lr: float = 0.1, seed: int = 0, block: int = 4096):
        if epochs < 1 or batch_size < 1 or lr <= 0 or block < 1:
            raise ValueError(f"need epochs, batch_size, block >= 1 and lr > 0 (got {epochs}, {batch_size}, {block}, {lr})")
        self.epochs, self.batch_size, self.lr, self.seed, self.block = epochs, batch_size, lr, seed, block
        self.scores, self.relative_error = None, None

    def fit(self, features, labels, progress: bool = False) -> "ExplaindSelfInfluence":
        x = torch.as_tensor(standardize(features))
        y = torch.as_tensor(_check(len(x), labels))
        with recorded_last_layer_run(x, y, self.epochs, self.batch_size, self.lr, self.seed, self.name) as explainer:
            self.scores = np.zeros(len(x))
            squared_error = squared_norm = 0.0
            for start in range(0, len(x), self.block):
                rows = np.arange(start, min(start + self.block, len(x)))
                result = explainer.attribute(x[rows], y[rows], progress=progress)
                self.scores[rows] = result.data[np.arange(len(rows)), rows]
                squared_error += float(((result.reconstruction - result.final) ** 2).sum())
                squared_norm += float((result.final ** 2).sum())
        # The fidelity check: the path kernel must reconstruct the recorded run's outputs.
        self.relative_error = (squared_error / squared_norm) ** 0.5
        return self

    def self_importance(self) -> np.ndarray:
        if self.scores is None:
            raise RuntimeError("call fit() first")
        return self.scores


SCORERS = {cls.name: cls for cls in (ExplaindSelfInfluence, NeighbourDisagreement)}
