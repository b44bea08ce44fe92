"""Binary datasets of the RPS-LJE experiments, read from registry folders data/<name>/, and the label
flipping of the dataset-debugging experiment.

Paper setups: CIFAR-10 horse vs automobile (ResNet-20), IMDB (Bi-LSTM), German credit (XGBoost).
Offline stand-ins of the default config: two digit classes of sklearn's digits for CIFAR, SST-2 for IMDB.
"""
from __future__ import annotations

import gzip
import pickle
import re
from pathlib import Path

import numpy as np

CIFAR_HORSE, CIFAR_AUTOMOBILE = 7, 1


def flip_labels(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Flip (y -> 1 - y) a random `fraction` of binary labels; returns (noisy labels, flipped mask)."""
    if not 0 < fraction < 1:
        raise ValueError(f"flip fraction must be in (0, 1), got {fraction}")
    labels = np.asarray(labels)
    flipped = np.zeros(len(labels), dtype=bool)
    flipped[np.random.default_rng(seed).choice(len(labels), round(fraction * len(labels)), replace=False)] = True
    return np.where(flipped, 1 - labels, labels), flipped


def fix_labels(noisy: np.ndarray, flipped: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """Labels after a user checked the points in `checked` (indices) and fixed those that were flipped."""
    fixed = noisy.copy()
    found = np.zeros(len(noisy), dtype=bool)
    found[checked] = True
    found &= flipped
    fixed[found] = 1 - fixed[found]
    return fixed


def _split(n: int, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[test_size:]), np.sort(order[:test_size])


def load_digits_pair(folder: str | Path, classes: tuple[int, int], test_fraction: float, seed: int):
    """Two digit classes of sklearn's 8x8 digits (label 1 = classes[1]), pixels scaled to [0, 1].
    Returns (x_train (n,1,8,8), y_train, x_test, y_test)."""
    with gzip.open(Path(folder) / "digits.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    keep = np.isin(table[:, -1], classes)
    x = (table[keep, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    y = (table[keep, -1] == classes[1]).astype(np.int64)
    train, test = _split(len(y), round(test_fraction * len(y)), seed)
    return x[train], y[train], x[test], y[test]


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[b"labels"])


def load_cifar_horse_car(folder: str | Path):
    """CIFAR-10 python batches (data_batch_1..5, test_batch): horse (label 1) vs automobile (label 0),
    10000 / 2000 images in the full data set, scaled to [0, 1] and normalised per channel with the
    training statistics. Returns (x_train (n,3,32,32), y_train, x_test, y_test)."""
    folder = Path(folder)
    train_files = sorted(folder.glob("data_batch_*"))
    if not train_files or not (folder / "test_batch").exists():
        raise FileNotFoundError(f"{folder} holds no CIFAR-10 python batches (data_batch_*, test_batch)")

    def pick(files):
        data, labels = zip(*(_cifar_batch(p) for p in files))
        data, labels = np.concatenate(data), np.concatenate(labels)
        keep = np.isin(labels, (CIFAR_HORSE, CIFAR_AUTOMOBILE))
        x = data[keep].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
        return x, (labels[keep] == CIFAR_HORSE).astype(np.int64)

    x_train, y_train = pick(train_files)
    x_test, y_test = pick([folder / "test_batch"])
    mean, std = x_train.mean((0, 2, 3), keepdims=True), x_train.std((0, 2, 3), keepdims=True)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[!?]", text.lower().replace("<br />", " "))


def _subset(texts, labels, size, seed):
    if size and size < len(labels):
        keep = np.sort(np.random.default_rng(seed).choice(len(labels), size, replace=False))
        return [texts[i] for i in keep], labels[keep]
    return texts, labels


def load_sst2(folder: str | Path, train_size: int, test_size: int, seed: int):
    """SST-2 ('label sentence' lines); random subsets of the train and test splits (0 = all).
    Returns (train texts, y_train, test texts, y_test)."""
    def read(split):
        lines = (Path(folder) / f"stsa.binary.{split}").read_text().splitlines()
        return [line[2:] for line in lines], np.array([int(line[0]) for line in lines])

    return (*_subset(*read("train"), train_size, seed), *_subset(*read("test"), test_size, seed + 1))


def load_imdb(folder: str | Path, train_size: int, test_size: int, seed: int):
    """IMDB (data/imdb/aclImdb/{train,test}/{pos,neg}/*.txt, label 1 = positive); subsets as in load_sst2."""
    if (Path(folder) / "aclImdb").is_dir():  # the registry keeps the archive's top folder
        folder = Path(folder) / "aclImdb"

    def read(split):
        texts, labels = [], []
        for label, sub in ((1, "pos"), (0, "neg")):
            for path in sorted((Path(folder) / split / sub).glob("*.txt")):
                texts.append(path.read_text(encoding="utf-8"))
                labels.append(label)
        if not texts:
            raise FileNotFoundError(f"no IMDB reviews under {Path(folder) / split}/{{pos,neg}}")
        return texts, np.array(labels)

    return (*_subset(*read("train"), train_size, seed), *_subset(*read("test"), test_size, seed + 1))


def load_german_credit(folder: str | Path, test_fraction: float, seed: int):
    """Statlog German credit: 20 attributes (categorical ones one-hot), label 1 = bad credit (the
    minority class, 300 of 1000). Returns (x_train, y_train, x_test, y_test), float features."""
    rows = [line.split() for line in (Path(folder) / "german.data").read_text().splitlines() if line.strip()]
    columns = list(zip(*rows))
    features = []
    for column in columns[:-1]:
        if column[0].startswith("A"):  # symbolic attribute, codes like A11
            for code in sorted(set(column)):
                features.append([float(v == code) for v in column])
        else:
            features.append([float(v) for v in column])
    x = np.array(features, dtype=np.float64).T
    y = (np.array(columns[-1]) == "2").astype(np.int64)
    train, test = _split(len(y), round(test_fraction * len(y)), seed)
    return x[train], y[train], x[test], y[test]
