"""The knowledge-graph task of the ground-truth experiment (tf env): Nations, DistMult trained as the
Gradient Rollback experiment trains it (xairepro.gradient_rollback.model.Trainer), f(x_t) = P(t | h, r) of
the test triple's true tail. A retraining without some triples keeps the full run's step order and
negatives for the kept ones ("fixed" schedule, the GR evaluation's default); the seed sets the
initialisation, order and negatives. Gradient Rollback's Δ_x = P(t|θ) − P(t|θ − γ_x) is its score.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from xairepro.attribution_truth.pipeline import KG_METHODS as METHODS

TASK = "nations_distmult"


def load(data_dir: str | Path):
    from xairepro.gradient_rollback import data

    return data.load("nations", data_dir)


def _settings(settings: dict, seed: int):
    from xairepro.gradient_rollback.model import Settings

    return Settings(model="distmult", dim=settings["dim"], epochs=settings["epochs"], negatives=settings["negatives"],
                    credit=settings["credit"], seed=settings["seed"] + seed)


def train(graph, keep: np.ndarray, seed: int, settings: dict, track: bool = False):
    """DistMult on the training triples `keep` (the others deleted from the full run's schedule)."""
    from xairepro.gradient_rollback.model import Trainer, configure_threads

    configure_threads(1)
    removed = np.setdiff1d(np.arange(len(graph.train)), keep)
    trainer = Trainer(_settings(settings, seed), len(graph.entities), len(graph.relations))
    return trainer.train(graph.train, removed=removed, track=track)


def outputs(trained, triples: np.ndarray) -> np.ndarray:
    """P(t | h, r) of each (h, r, t)."""
    from xairepro.gradient_rollback.model import tail_probabilities

    return np.array([tail_probabilities("distmult", trained.E, trained.R, h, r)[t] for h, r, t in triples])


def scores(method: str, trained, graph, triples: np.ndarray, seed: int) -> np.ndarray:
    """(n_train, n_test) scores: GR's Δ for every training triple, or a baseline (random; shares_entity:
    1 for a training triple that shares h, r or t with the test triple, GR's candidate set, else 0)."""
    if method == "random":
        return np.random.default_rng(seed).standard_normal((len(graph.train), len(triples)))
    if method == "shares_entity":  # GR's explanation candidates, unranked: the trivial lookup baseline
        train = graph.train
        return np.stack([((train[:, 0] == h) | (train[:, 1] == r) | (train[:, 2] == t)).astype(float)
                         for h, r, t in triples], axis=1)
    if method != "gr":
        raise ValueError(f"unknown method {method!r} for {TASK}; choose one of {', '.join(METHODS)}")
    from xairepro.gradient_rollback.explain import GradientRollback

    gr = GradientRollback("distmult", trained.E, trained.R, graph.train, trained.influence)
    everything = np.arange(len(graph.train))
    return np.stack([gr.deltas(everything, h, r, t) for h, r, t in triples], axis=1)
