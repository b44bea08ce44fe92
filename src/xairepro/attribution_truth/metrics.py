"""LDS and LOO agreement, from retraining outputs and a method's scores (numpy and scipy only)."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho; 0 when either side is constant (a method that cannot rank says nothing)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def lds(scores: np.ndarray, subsets: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Linear datamodeling score per test point (Park et al. 2023): the Spearman correlation, over the M
    subsets, between Σ_{i∈S_m} s_i(t) and the output f_{S_m}(x_t) of the model trained on S_m.
    scores (n_train, n_test), subsets (M, k) training indices, outputs (M, n_test) -> (n_test,)."""
    predicted = scores[subsets].sum(1)  # (M, n_test)
    return np.array([spearman(predicted[:, t], outputs[:, t]) for t in range(scores.shape[1])])


def loo_effects(full: np.ndarray, left_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Effect of including point i on f(x_t), averaged over retraining seeds, and its standard error.
    full (S, n_test): the full-data model per seed; left_out (n_loo, S, n_test): without point i, same seeds.
    Returns (effect (n_loo, n_test), standard error (n_loo, n_test))."""
    differences = full[None] - left_out  # same seed on both sides: the seed's own noise cancels in part
    n_seeds = differences.shape[1]
    stderr = differences.std(1, ddof=1) / np.sqrt(n_seeds) if n_seeds > 1 else np.zeros(differences.shape[::2])
    return differences.mean(1), stderr


def loo_spearman(scores: np.ndarray, loo: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Per test point, the Spearman correlation between the scores of the left-out points and their LOO
    effects. scores (n_train, n_test), loo (n_loo,) indices, effects (n_loo, n_test) -> (n_test,)."""
    return np.array([spearman(scores[loo, t], effects[:, t]) for t in range(scores.shape[1])])
