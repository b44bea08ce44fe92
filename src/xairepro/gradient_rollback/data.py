"""Knowledge graphs as integer triples (head, relation, tail), read from a registry folder data/<dataset>/."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = ("nations", "fb15k-237", "movielens-100k")


@dataclass(frozen=True)
class Graph:
    entities: tuple[str, ...]
    relations: tuple[str, ...]
    train: np.ndarray  # (n, 3) int64 rows (h, r, t)
    valid: np.ndarray
    test: np.ndarray

    def encode(self, triples: list[tuple[str, str, str]]) -> np.ndarray:
        """Names to ids; an entity or relation outside the graph is an error that names it."""
        ent = {e: i for i, e in enumerate(self.entities)}
        rel = {r: i for i, r in enumerate(self.relations)}
        out = []
        for h, r, t in triples:
            for name, table, kind in ((h, ent, "entity"), (r, rel, "relation"), (t, ent, "entity")):
                if name not in table:
                    raise ValueError(f"triple ({h}, {r}, {t}): {kind} {name!r} is not in the graph")
            out.append((ent[h], rel[r], ent[t]))
        return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def _read_tsv(path: Path) -> list[tuple[str, str, str]]:
    # The FB15k-237 mirror ends lines with CRLF: strip it.
    return [tuple(line.rstrip("\r\n").split("\t")[:3]) for line in path.read_text().splitlines() if line.strip()]


def _read_movielens(path: Path) -> list[tuple[str, str, str]]:
    """u.data-style lines `user movie rating time` as (user, rating, movie) triples, as in the paper."""
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    return [(f"user{u}", f"rating{r}", f"movie{m}") for u, m, r, _ in rows]


def load(dataset: str, data_dir: str | Path) -> Graph:
    """Train/valid/test triples of `dataset`. Movielens-100k uses the u1.base/u1.test split (no valid set)."""
    data_dir = Path(data_dir)
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if dataset == "movielens-100k":
        splits = {"train": _read_movielens(data_dir / "u1.base"), "valid": [],
                  "test": _read_movielens(data_dir / "u1.test")}
    else:
        splits = {s: _read_tsv(data_dir / f"{s}.txt") for s in ("train", "valid", "test")}
    every = [t for triples in splits.values() for t in triples]
    entities = tuple(sorted({t[0] for t in every} | {t[2] for t in every}))
    relations = tuple(sorted({t[1] for t in every}))
    graph = Graph(entities, relations, *(np.zeros((0, 3), np.int64),) * 3)
    return Graph(entities, relations, *(graph.encode(splits[s]) for s in ("train", "valid", "test")))
