"""The one seeded plan of a task's ground-truth experiment, shared by every step (standard library and
numpy only, so the tf and torch environments compute the same plan).

Every method explains, for explained test point t, f(x_t) = the model's margin toward t's true label (for
the knowledge graph: the probability of the true tail). A score s_i(t) > 0 says that training on point i
raises f(x_t).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plan:
    seed: int                  # the explained model's seed; retraining seeds count from it
    test: np.ndarray           # explained test points (indices into the task's test split)
    loo: np.ndarray            # training points left out one at a time
    loo_seeds: tuple           # retraining seeds averaged per LOO effect
    subsets: np.ndarray        # (M, round(alpha n)) training indices of the LDS subsets, each sorted


def make_plan(n_train: int, n_test: int, *, test_points: int, loo_points: int, loo_seeds: int,
              lds_subsets: int, lds_alpha: float, seed: int) -> Plan:
    if not 0 < lds_alpha < 1:
        raise ValueError(f"lds_alpha must be in (0, 1), got {lds_alpha}")
    if min(test_points, loo_points, loo_seeds, lds_subsets) < 1:
        raise ValueError("test_points, loo_points, loo_seeds and lds_subsets must be >= 1")
    rng = np.random.default_rng(seed)
    test = np.sort(rng.choice(n_test, min(test_points, n_test), replace=False))
    loo = np.sort(rng.choice(n_train, min(loo_points, n_train), replace=False))
    size = round(lds_alpha * n_train)
    subsets = np.stack([np.sort(rng.choice(n_train, size, replace=False)) for _ in range(lds_subsets)])
    return Plan(seed, test, loo, tuple(seed + s for s in range(loo_seeds)), subsets)


def retrainings(plan: Plan, n_train: int) -> list[tuple[str, np.ndarray, int]]:
    """Every retraining as (name, kept training indices, seed): the full data per LOO seed (the first is the
    explained model), one per (left-out point, seed), one per LDS subset (seed = plan seed + the subset's
    number, so the LDS includes training noise)."""
    everything = np.arange(n_train)
    items = [(f"full/{k}", everything, s) for k, s in enumerate(plan.loo_seeds)]
    items += [(f"loo/{i}/{k}", np.delete(everything, i), s) for i in plan.loo for k, s in enumerate(plan.loo_seeds)]
    items += [(f"lds/{m}", subset, plan.seed + m) for m, subset in enumerate(plan.subsets)]
    return items


def shard(items: list, index: int, shards: int) -> list:
    """Round-robin share `index` (0-based) of the retrainings, so each job gets a mix of kinds."""
    if not 0 <= index < shards:
        raise ValueError(f"shard must be in [0, {shards}), got {index}")
    return items[index::shards]
