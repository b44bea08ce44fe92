"""The paper's two tasks and the offline stand-in: modulo addition, CIFAR2 (cats vs dogs from the
CIFAR-10 python batches) and digits2 (two classes of the sklearn 8x8 digits, standing in for CIFAR2
in the default config)."""
from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass
class TaskData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    description: str  # names the dataset, and the substitution where there is one


def modulo_addition(p: int, n_train: int, seed: int) -> TaskData:
    """All pairs (a, b) with label (a + b) mod p, as token triples (a, b, '='=p); a random `n_train`
    of them train, the rest test (paper: p = 113, 4000 training pairs)."""
    if not 0 < n_train < p * p:
        raise ValueError(f"n_train must be in 1..{p * p - 1} for p={p} (got {n_train})")
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    tokens = torch.stack([a.reshape(-1), b.reshape(-1), torch.full((p * p,), p)], 1)
    labels = (tokens[:, 0] + tokens[:, 1]) % p
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
    tr, te = order[:n_train], order[n_train:]
    return TaskData(tokens[tr], labels[tr], tokens[te], labels[te], f"modulo addition a+b mod {p}")


def _split(x, y, test_fraction, seed):
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(len(x) * test_fraction))
    return x[order[n_test:]], y[order[n_test:]], x[order[:n_test]], y[order[:n_test]]


def digits2(data_dir: str | Path, classes: tuple[int, int], seed: int, test_fraction: float = 0.3) -> TaskData:
    """Two classes of the sklearn digits (data/digits/digits.csv.gz: 64 pixels 0..16 and the label
    per row) as 1x8x8 images scaled to [0, 1]; label 0 = classes[0], 1 = classes[1]."""
    path = Path(data_dir) / "digits.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the rule download_digits")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    keep = np.isin(table[:, -1], classes)
    x = torch.tensor(table[keep, :64] / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
    y = torch.tensor(table[keep, -1] == classes[1], dtype=torch.long)
    return TaskData(*_split(x, y, test_fraction, seed),
                    f"digits {classes[0]} vs {classes[1]} (sklearn 8x8 digits, offline stand-in for CIFAR2)")


def cifar2(data_dir: str | Path, classes: tuple[int, int] = (3, 5)) -> TaskData:
    """CIFAR2 from the CIFAR-10 python pickle batches (data_batch_1..5, test_batch): classes 3 (cat)
    and 5 (dog) by default, images (3, 32, 32) normalised per channel with the training-set mean/std."""
    data_dir = Path(data_dir)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    missing = [n for n in names if not (data_dir / n).exists()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 batches {missing} missing in {data_dir}: run the rule download_cifar-10")

    def load(batch_names):
        xs, ys = [], []
        for name in batch_names:
            with open(data_dir / name, "rb") as f:
                batch = pickle.load(f, encoding="bytes")
            labels = np.asarray(batch[b"labels"])
            keep = np.isin(labels, classes)
            xs.append(np.asarray(batch[b"data"])[keep].reshape(-1, 3, 32, 32))
            ys.append(labels[keep] == classes[1])
        return torch.tensor(np.concatenate(xs), dtype=torch.float32) / 255, torch.tensor(np.concatenate(ys), dtype=torch.long)

    x_train, y_train = load(names[:5])
    x_test, y_test = load(names[5:])
    mean, std = x_train.mean((0, 2, 3), keepdim=True), x_train.std((0, 2, 3), keepdim=True)
    return TaskData((x_train - mean) / std, y_train, (x_test - mean) / std, y_test,
                    f"CIFAR2: CIFAR-10 classes {classes[0]} vs {classes[1]}")


def load_task(settings: dict, data_dir: str | Path | None, seed: int) -> TaskData:
    """The data of a task section of the config (`dataset`: modulo, digits or cifar-10)."""
    dataset = settings["dataset"]
    if dataset == "modulo":
        return modulo_addition(settings["p"], settings["n_train"], seed)
    if dataset == "digits":
        return digits2(data_dir, tuple(settings["classes"]), seed)
    if dataset == "cifar-10":
        return cifar2(data_dir, tuple(settings["classes"]))
    raise ValueError(f"unknown dataset {dataset!r}; choose modulo, digits or cifar-10")
