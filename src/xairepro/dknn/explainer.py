"""The Deep k-Nearest Neighbors classifier (Papernot & McDaniel 2018), as used for text by Wallace,
Feng & Boyd-Graber 2018 (arXiv 1809.02847, section 2).

For an input x, each layer l's representation f_l(x) is matched to its k nearest training
representations Omega_l(x). The nonconformity of label j is

    alpha(x, j) = sum_l |{ z in Omega_l(x) : label(z) != j }|.

With A = { alpha(x_c, y_c) } over a held-out calibration set, the empirical p-value of label j is

    p_j(x) = |{ a in A : a >= alpha(x, j) }| / |A|,

the prediction is argmax_j p_j(x), its credibility that largest p-value and its confidence one
minus the second largest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import KDTree

INDEXES = ("kdtree", "brute", "annoy")


class BruteForceIndex:
    """Exact Euclidean k-NN by computing every distance (chunked): the reference the others match."""

    def __init__(self, points: np.ndarray, chunk: int = 512):
        self.points = np.asarray(points, np.float64)
        self.sq_norms = (self.points ** 2).sum(1)
        self.chunk = chunk

    def query(self, queries: np.ndarray, k: int) -> np.ndarray:
        out = []
        for start in range(0, len(queries), self.chunk):
            q = np.asarray(queries[start:start + self.chunk], np.float64)
            d2 = self.sq_norms[None] - 2 * q @ self.points.T + (q ** 2).sum(1)[:, None]
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
            order = np.argsort(np.take_along_axis(d2, part, 1), axis=1, kind="stable")
            out.append(np.take_along_axis(part, order, 1))
        return np.concatenate(out)


class KDTreeIndex:
    """sklearn's KDTree (the paper's default index)."""

    def __init__(self, points: np.ndarray, leaf_size: int = 40):
        self.tree = KDTree(np.asarray(points, np.float64), leaf_size=leaf_size)

    def query(self, queries: np.ndarray, k: int) -> np.ndarray:
        return self.tree.query(np.asarray(queries, np.float64), k=k, return_distance=False)


class AnnoyIndex:
    """Approximate k-NN with Spotify's annoy (random projection trees; the paper's original option
    was LSH). Picklable: the index is rebuilt, with the same seed, from the stored points."""

    def __init__(self, points: np.ndarray, n_trees: int = 50, seed: int = 0):
        self.points, self.n_trees, self.seed = np.asarray(points, np.float32), n_trees, seed
        self._build()

    def _build(self):
        try:
            import annoy
        except ImportError as err:
            raise ImportError("index 'annoy' needs the annoy package (pip install annoy==1.17.3); "
                              "or use index 'kdtree'") from err
        self.index = annoy.AnnoyIndex(self.points.shape[1], "euclidean")
        self.index.set_seed(self.seed)
        for i, p in enumerate(self.points):
            self.index.add_item(i, p)
        self.index.build(self.n_trees, n_jobs=1)

    def query(self, queries: np.ndarray, k: int) -> np.ndarray:
        rows = [self.index.get_nns_by_vector(q, k, search_k=-1) for q in np.asarray(queries, np.float32)]
        return np.array(rows, dtype=np.int64)

    def __getstate__(self):
        return {"points": self.points, "n_trees": self.n_trees, "seed": self.seed}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._build()


def make_index(kind: str, points: np.ndarray):
    if kind == "kdtree":
        return KDTreeIndex(points)
    if kind == "brute":
        return BruteForceIndex(points)
    if kind == "annoy":
        return AnnoyIndex(points)
    raise ValueError(f"unknown index {kind!r}; choose one of {', '.join(INDEXES)}")


@dataclass
class DkNNPrediction:
    """prediction (n,), credibility (n,), confidence (n,), p_values (n, n_class), nonconformity (n, n_class)."""

    prediction: np.ndarray
    credibility: np.ndarray
    confidence: np.ndarray
    p_values: np.ndarray
    nonconformity: np.ndarray


class DkNN:
    """Deep k-Nearest Neighbors over the layers of a trained classifier.

    Args:
        k: neighbours per layer (the paper's k; Default: 75).
        index: nearest-neighbour index, "kdtree" (Default, the paper's), "brute" (exact, the
            reference) or "annoy" (approximate).

    The model is represented by its layers' activations, so any framework works: pass one
    (n, size_l) array per layer l, in the same layer order to every call.

    Examples::

        dknn = DkNN(k=75).fit(train_layers, train_labels)
        dknn.calibrate(calib_layers, calib_labels)
        out = dknn.predict(test_layers)   # out.prediction, out.credibility, out.confidence
    """

    def __init__(self, k: int = 75, index: str = "kdtree"):
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if index not in INDEXES:
            raise ValueError(f"unknown index {index!r}; choose one of {', '.join(INDEXES)}")
        self.k, self.index_kind = int(k), index
        self.indexes, self.train_labels, self.calibration = None, None, None

    def fit(self, layers: list[np.ndarray], labels: np.ndarray, n_class: int | None = None) -> "DkNN":
        """Index each layer's training activations (the training data minus the calibration set)."""
        labels = np.asarray(labels)
        self.indexes = None
        self._check_layers(layers, expect_rows=len(labels))
        if self.k > len(labels):
            raise ValueError(f"k={self.k} is larger than the training set ({len(labels)} examples): "
                             "lower k or index more training data")
        self.n_class = int(n_class if n_class is not None else labels.max() + 1)
        if labels.min() < 0 or labels.max() >= self.n_class:
            raise ValueError(f"labels must lie in 0..{self.n_class - 1}")
        self.train_labels = labels.astype(np.int64)
        self.sizes = [a.shape[1] for a in layers]
        self.indexes = [make_index(self.index_kind, a) for a in layers]
        return self

    def neighbours(self, layers: list[np.ndarray]) -> list[np.ndarray]:
        """Omega_l(x): for each layer an (n, k) array of training-row indices, nearest first."""
        if self.indexes is None:
            raise RuntimeError("call fit() before querying the DkNN")
        self._check_layers(layers)
        return [index.query(a, self.k) for index, a in zip(self.indexes, layers)]

    def nonconformity(self, layers: list[np.ndarray]) -> np.ndarray:
        """alpha(x, j) for every input and label: (n, n_class) integers."""
        counts = np.zeros((len(layers[0]), self.n_class), np.int64)  # neighbours with label j
        for idx in self.neighbours(layers):
            nb = self.train_labels[idx]
            for j in range(self.n_class):
                counts[:, j] += (nb == j).sum(1)
        return self.k * len(layers) - counts

    def calibrate(self, layers: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
        """Store A = {alpha(x_c, y_c)} of the calibration set; returns A."""
        labels = np.asarray(labels, np.int64)
        if len(labels) == 0:
            raise ValueError("the calibration set is empty")
        self._check_layers(layers, expect_rows=len(labels))
        alpha = self.nonconformity(layers)
        self.calibration = np.sort(alpha[np.arange(len(labels)), labels])
        return self.calibration

    def p_values(self, alpha: np.ndarray) -> np.ndarray:
        """p_j(x) = share of calibration scores >= alpha(x, j)."""
        if self.calibration is None:
            raise RuntimeError("call calibrate() before predicting with the DkNN")
        below = np.searchsorted(self.calibration, alpha, side="left")  # scores < alpha
        return (len(self.calibration) - below) / len(self.calibration)

    def predict(self, layers: list[np.ndarray]) -> DkNNPrediction:
        alpha = self.nonconformity(layers)
        p = self.p_values(alpha)
        prediction = p.argmax(1)
        top2 = np.sort(p, axis=1)[:, -2:] if self.n_class > 1 else np.c_[np.zeros(len(p)), p]
        return DkNNPrediction(prediction, top2[:, 1], 1.0 - top2[:, 0], p, alpha)

    def _check_layers(self, layers, expect_rows=None):
        if len(layers) == 0:
            raise ValueError("pass at least one layer's activations")
        rows = {len(a) for a in layers}
        if len(rows) != 1 or (expect_rows is not None and rows != {expect_rows}):
            raise ValueError(f"every layer needs one row per example: rows {sorted(rows)}, labels {expect_rows}")
        if self.indexes is not None and [a.shape[1] for a in layers] != self.sizes:
            raise ValueError(f"layer sizes {[a.shape[1] for a in layers]} differ from the fitted {self.sizes}")
