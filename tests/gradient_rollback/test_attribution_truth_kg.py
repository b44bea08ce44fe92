"""The knowledge-graph task of the attribution ground truth (tf env): the retraining is the GR trainer's,
and Gradient Rollback's Δ ranks actual leave-one-out changes of P(t | h, r) (as the GR paper claims)."""
import numpy as np

from xairepro.attribution_truth import kg
from xairepro.data.download import VENDORED, download

SETTINGS = {"dim": 10, "epochs": 10, "negatives": 13, "credit": "touched", "seed": 42}


def ranks(a):
    return np.argsort(np.argsort(a))


def test_gr_scores_rank_actual_leave_one_out_changes(tmp_path):
    graph = kg.load(download("nations", tmp_path / "nations", vendored=VENDORED))
    everything = np.arange(len(graph.train))
    triples = graph.test[:2]
    model = kg.train(graph, everything, 0, SETTINGS, track=True)
    scores = kg.scores("gr", model, graph, triples, seed=0)
    assert scores.shape == (len(graph.train), 2) and np.isfinite(scores).all()
    full = kg.outputs(kg.train(graph, everything, 0, SETTINGS), triples)
    assert np.allclose(full, kg.outputs(model, triples))  # tracking γ does not change the trained model
    rng = np.random.default_rng(0)
    rho = []
    for t in range(2):  # the 10 largest |Δ| and 10 random triples: actual LOO effect of each
        picked = np.unique(np.concatenate([np.argsort(-np.abs(scores[:, t]))[:10], rng.choice(len(everything), 10, False)]))
        effect = [full[t] - kg.outputs(kg.train(graph, np.delete(everything, i), 0, SETTINGS), triples[t:t + 1])[0]
                  for i in picked]
        rho.append(np.corrcoef(ranks(scores[picked, t]), ranks(effect))[0, 1])
    assert np.mean(rho) > 0.3, rho
    random = kg.scores("random", model, graph, triples, seed=0)
    assert random.shape == scores.shape and not np.array_equal(random, scores)
