"""Step 2: explain each prediction by Gradient Rollback (python -m xairepro.gradient_rollback.explain)."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from xairepro.gradient_rollback import data, run
from xairepro.gradient_rollback.model import Influence, check_model, known_tails, tail_probabilities, tail_query, top1
from xairepro.io import start_step, write_json


def neighbourhood(train: np.ndarray, h: int, r: int, t_hat: int) -> np.ndarray:
    """Indices of training triples that share h, r or t̂ with the prediction (h, r, t̂)."""
    ents = np.isin(train[:, [0, 2]], [h, t_hat]).any(axis=1)
    return np.flatnonzero(ents | (train[:, 1] == r))


class GradientRollback:
    """Explains a prediction t̂ = argmax_t P(t | h, r; θ) by Δ_x = P(t̂|θ) − P(t̂|θ − γ_x), the change
    of its probability had training triple x not been seen (θ: trained parameters, γ_x: influence)."""

    def __init__(self, model: str, E: np.ndarray, R: np.ndarray, train: np.ndarray, influence: Influence):
        self.model, self.E, self.R, self.train, self.influence = check_model(model), E, R, train, influence

    def predict(self, h: int, r: int, exclude=()) -> tuple[int, float]:
        """t̂ = argmax_t P(t | h, r) over the tails not in `exclude`, and P(t̂ | h, r) (over all tails)."""
        p = tail_probabilities(self.model, self.E, self.R, h, r)
        t_hat = top1(p, exclude)
        return t_hat, float(p[t_hat])

    def deltas(self, xs: np.ndarray, h: int, r: int, t_hat: int, chunk: int = 512) -> np.ndarray:
        """Δ_x for each training triple in xs, without copying θ per x: rolling back x changes only
        the rows in γ_x, so the tail query q = f(e_h, w_r) changes only if x changed e_h or w_r, and
        only the logits of x's rows change otherwise. Chunks of xs bound the (chunk × entities) logits."""
        inf, xs = self.influence, np.asarray(xs, np.int64)
        before = tail_probabilities(self.model, self.E, self.R, h, r)[t_hat]
        out = np.empty(len(xs))
        for lo in range(0, len(xs), chunk):
            part = xs[lo:lo + chunk]
            # x's entity rows and changes, flattened: entry j belongs to candidate owner[j].
            starts, counts = inf.entity_ptr[part], inf.entity_ptr[part + 1] - inf.entity_ptr[part]
            owner = np.repeat(np.arange(len(part)), counts)
            entry = np.arange(counts.sum()) + np.repeat(starts - np.cumsum(counts) + counts, counts)
            rows, change = inf.entity_rows[entry], inf.entity_delta[entry]
            e_h = np.repeat(self.E[h][None], len(part), 0)
            at_h = rows == h
            e_h[owner[at_h]] -= change[at_h]
            w_r = np.repeat(self.R[r][None], len(part), 0)
            same_r = self.train[part, 1] == r
            w_r[same_r] -= inf.relation_delta[part[same_r]]
            q = tail_query(self.model, e_h, w_r)
            logits = q @ self.E.T
            logits[owner, rows] -= np.einsum("jd,jd->j", change, q[owner])  # rows are distinct per x
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            out[lo:lo + chunk] = before - p[:, t_hat] / p.sum(axis=1)
        return out

    def explain(self, h: int, r: int, t_hat: int) -> list[tuple[int, float]]:
        """Explanations (x, Δ_x) with Δ_x ≥ 0, largest first, among the triples that share h, r or t̂ with
        the prediction (the paper's explanation candidates). Other triples can have Δ ≠ 0 too (their entity
        rows are tails in the softmax over all entities; with `touched` credit so are their negatives'),
        but they are not candidates; only a triple never trained on has Δ = 0 for sure."""
        n_ent, n_rel = len(self.E), len(self.R)
        if not (0 <= h < n_ent and 0 <= t_hat < n_ent and 0 <= r < n_rel):
            raise ValueError(f"triple ({h}, {r}, {t_hat}) has an id outside the graph "
                             f"({n_ent} entities, {n_rel} relations)")
        xs = neighbourhood(self.train, h, r, t_hat)
        scored = zip(xs.tolist(), self.deltas(xs, h, r, t_hat).tolist())
        return sorted([(x, d) for x, d in scored if d >= 0], key=lambda xd: (-xd[1], xd[0]))


def sample_test(n_test: int, n_explain: int, seed: int) -> np.ndarray:
    """The explained test triples: a fixed seeded sample of n_explain (0 = all), in index order."""
    if n_explain < 0:
        raise ValueError(f"n_explain must be >= 0 (0 = whole test set), got {n_explain}")
    if n_explain == 0 or n_explain >= n_test:
        return np.arange(n_test)
    return np.sort(np.random.default_rng(seed).choice(n_test, n_explain, replace=False))


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=data.DATASETS, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--n-explain", type=int, default=0, help="test triples to explain, 0 = all")
    parser.add_argument("--triples", type=Path, help="explain these tab-separated (h, r, t) names instead")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    graph = data.load(args.dataset, args.data_dir)
    if args.triples:
        lines = [line.split("\t") for line in args.triples.read_text().splitlines() if line.strip()]
        queries, indices = graph.encode([tuple(p[:3]) for p in lines]), list(range(len(lines)))
    else:
        indices = sample_test(len(graph.test), args.n_explain, args.seed).tolist()
        queries = graph.test[indices]
    settings, E, R, influence = run.load(args.run_dir)
    gr = GradientRollback(settings.model, E, R, graph.train, influence)
    # Authors mode: the explained prediction is the top-1 among the tails t with (h, r, t) in neither train
    # nor validation (their predict_set masks the known triples; the probability stays the full softmax's).
    known = known_tails(np.concatenate([graph.train, graph.valid])) if settings.authors else {}
    records = []
    for i, (h, r, t) in zip(indices, tqdm(queries, desc="explain")):
        t_hat, p = gr.predict(h, r, known.get((int(h), int(r)), ()))
        explanations = gr.explain(h, r, t_hat)
        records.append({"test_index": i, "triple": [int(h), int(r), int(t)], "prediction": t_hat,
                        "probability": p, "neighbourhood": neighbourhood(graph.train, h, r, t_hat).tolist(),
                        "explanations": [[x, d] for x, d in explanations]})
    write_json(args.out, {"dataset": args.dataset, "model": settings.model, "seed": args.seed,
                          "top1_filtered": settings.authors, "explained": records})
    log.info("explained %d predictions", len(records))


if __name__ == "__main__":
    main()
