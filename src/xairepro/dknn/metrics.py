"""Calibration of confidence scores: temperature scaling (Guo et al. 2017, the paper's baseline),
expected calibration error and reliability-diagram bins. Plain numpy functions over scores, so the
softmax, temperature-scaled softmax and DkNN credibility are scored by the same code."""
from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return np.exp(log_softmax(logits, temperature))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    labels = np.asarray(labels)
    return float(-log_softmax(logits, temperature)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, init: float = 1.5, epochs: int = 50,
                    batch_size: int = 128, lr: float = 0.01, seed: int = 0) -> float:
    """One scalar T minimising the NLL of softmax(logits / T) on validation data, by Adam over
    mini-batches (paper: T initialised at 1.5, 50 epochs). dNLL/dT = mean(z_y - E_p[z]) / T^2."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
    if len(labels) == 0:
        raise ValueError("temperature scaling needs validation examples")
    if init <= 0:
        raise ValueError("the initial temperature must be positive")
    rng = np.random.RandomState(seed)
    t, m, v, step = float(init), 0.0, 0.0, 0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            z, y = logits[batch], labels[batch]
            p = softmax(z, t)
            grad = float(((z[np.arange(len(y)), y] - (p * z).sum(1)) / t ** 2).mean())
            step += 1
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad ** 2
            t -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
            t = max(t, 1e-3)  # T stays positive
    return t


def reliability(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> dict:
    """Equal-width confidence bins on [0, 1]: per bin the count, mean confidence and accuracy, and
    ECE = sum_b |B_b|/n * |acc(B_b) - conf(B_b)| (Guo et al. 2017; the paper uses 15 bins)."""
    confidence, correct = np.asarray(confidence, np.float64), np.asarray(correct, np.float64)
    if len(confidence) == 0 or len(confidence) != len(correct):
        raise ValueError("need one correctness flag per confidence score, and at least one")
    if confidence.min() < 0 or confidence.max() > 1:
        raise ValueError("confidence scores must lie in [0, 1]")
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)  # confidence 1.0 joins the last bin
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        conf = np.bincount(bins, confidence, n_bins) / count
        acc = np.bincount(bins, correct, n_bins) / count
    ece = float(np.nansum(count / len(confidence) * np.abs(acc - conf)))
    return {"ece": ece, "count": count.tolist(), "confidence": np.nan_to_num(conf).tolist(),
            "accuracy": np.nan_to_num(acc).tolist(), "edges": np.linspace(0, 1, n_bins + 1).tolist()}
