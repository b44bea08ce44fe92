"""Real properties of Gradient Rollback: exact influence bookkeeping, deterministic retraining, Δ of every
triple (inside and outside the candidate set), hand-computed scores, and clear errors on bad input."""
import numpy as np
import pytest
import tensorflow as tf

from xairepro.gradient_rollback import data
from xairepro.gradient_rollback.explain import GradientRollback, neighbourhood
from xairepro.gradient_rollback.model import (Settings, Trainer, configure_threads, tail_probabilities, tail_query,
                                              unique_inverse)
from xairepro.gradient_rollback.topk import parse_ks

configure_threads(1)

# Two components that share no entity or relation: {0..4} with relations {0, 1}, {5..7} with {2}.
# (2, 0, 2) is a self-loop, so h is also a candidate tail (the repeated-row case of the bookkeeping).
TRAIN = np.array([[0, 0, 1], [1, 0, 2], [2, 1, 3], [3, 1, 4], [0, 1, 4], [2, 0, 2], [4, 0, 1], [1, 1, 0],
                  [5, 2, 6], [6, 2, 7], [7, 2, 5]])
N_ENT, N_REL = 8, 3


def tiny(model="distmult", credit="touched"):
    settings = Settings(model=model, dim=4, epochs=3, negatives=3, seed=7, credit=credit)
    return settings, Trainer(settings, N_ENT, N_REL)


def own_rows(influence, x):
    lo, hi = influence.entity_ptr[x], influence.entity_ptr[x + 1]
    return dict(zip(influence.entity_rows[lo:hi].tolist(), influence.entity_delta[lo:hi]))


@pytest.mark.parametrize("model", ["distmult", "complex"])
def test_influence_map_sums_to_the_total_parameter_change(model):
    _, trainer = tiny(model)
    trained = trainer.train(TRAIN, track=True)
    inf = trained.influence
    E, R = trained.E0.copy(), trained.R0.copy()
    np.add.at(E, inf.entity_rows, inf.entity_delta)
    np.add.at(R, TRAIN[:, 1], inf.relation_delta)
    assert np.abs(trained.E - trained.E0).max() > 1e-3  # training moved the parameters
    np.testing.assert_allclose(E, trained.E, rtol=0, atol=1e-13)
    np.testing.assert_allclose(R, trained.R, rtol=0, atol=1e-13)
    for x, (h, _, t) in enumerate(TRAIN):  # each triple's own rows are among those it changed
        assert {h, t} <= set(own_rows(inf, x))


@pytest.mark.parametrize("bound", [50, 10_000])  # marked table / sort
def test_unique_inverse_matches_numpy(bound):
    values = np.random.default_rng(0).integers(0, 50, 200)
    keys, inverse = unique_inverse(values, bound)
    expected_keys, expected_inverse = np.unique(values, return_inverse=True)
    assert np.array_equal(keys, expected_keys) and np.array_equal(inverse, expected_inverse)
    assert np.array_equal(keys[inverse], values)


def test_hrt_credit_keeps_only_each_triples_own_rows():
    """credit="hrt" (the authors' bookkeeping) is the touched γ restricted to the triple's h and t rows
    (and its relation row): the same training, less recorded."""
    touched = tiny(credit="touched")[1].train(TRAIN, track=True)
    hrt = tiny(credit="hrt")[1].train(TRAIN, track=True)
    assert np.array_equal(touched.E, hrt.E)
    np.testing.assert_array_equal(hrt.influence.relation_delta, touched.influence.relation_delta)
    for x, (h, _, t) in enumerate(TRAIN):
        full, own = own_rows(touched.influence, x), own_rows(hrt.influence, x)
        assert set(own) == {h, t} and len(full) > len(own)
        for row, change in own.items():
            np.testing.assert_array_equal(change, full[row])


@pytest.mark.parametrize("model,credit", [("distmult", "touched"), ("complex", "touched"), ("complex", "hrt")])
def test_deltas_equal_probability_change_after_subtracting_gamma(model, credit):
    """The vectorised Δ_x against rolling θ back by γ_x by hand, for every training triple as
    candidate, including those that changed e_h or w_r of the prediction."""
    settings, trainer = tiny(model, credit)
    trained = trainer.train(TRAIN, track=True)
    inf = trained.influence
    gr = GradientRollback(model, trained.E, trained.R, TRAIN, inf)
    h, r = 2, 0
    t_hat, _ = gr.predict(h, r)
    expected = []
    for x in range(len(TRAIN)):
        E, R = trained.E.copy(), trained.R.copy()
        for row, change in own_rows(inf, x).items():
            E[row] -= change
        R[TRAIN[x, 1]] -= inf.relation_delta[x]
        expected.append(tail_probabilities(model, trained.E, trained.R, h, r)[t_hat]
                        - tail_probabilities(model, E, R, h, r)[t_hat])
    got = gr.deltas(np.arange(len(TRAIN)), h, r, t_hat, chunk=4)
    assert np.abs(expected).max() > 1e-4
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


def test_deleting_an_empty_set_retrains_to_the_identical_model():
    _, trainer = tiny()
    first = trainer.train(TRAIN, track=True)
    again = trainer.train(TRAIN, removed=[], track=False)
    assert np.array_equal(first.E, again.E) and np.array_equal(first.R, again.R)
    without = trainer.train(TRAIN, removed=[0], track=False)
    assert not np.array_equal(first.E, without.E)



def test_redrawn_schedule_equals_training_on_the_smaller_file():
    """redraw=True is what a seeded trainer does with the kept triples as its whole training set; with
    nothing deleted it is the fixed schedule, with a deletion it orders the steps differently."""
    _, trainer = tiny()
    full = trainer.train(TRAIN, track=False)
    assert np.array_equal(trainer.train(TRAIN, removed=[], track=False, redraw=True).E, full.E)
    redrawn = trainer.train(TRAIN, removed=[0], track=False, redraw=True)
    smaller_file = trainer.train(np.delete(TRAIN, 0, axis=0), track=False)
    assert np.array_equal(redrawn.E, smaller_file.E) and np.array_equal(redrawn.R, smaller_file.R)
    fixed = trainer.train(TRAIN, removed=[0], track=False)
    assert np.abs(fixed.E - redrawn.E).max() > 1e-3

@pytest.mark.parametrize("credit", ["touched", "hrt"])
def test_delta_is_the_rollback_change_for_every_triple_not_only_the_candidates(credit):
    """Δ_x = P(t̂|θ) − P(t̂|θ − γ_x) recomputed by rolling back every row of γ_x explicitly, for all
    training triples: the candidates (sharing h, r or t̂) and the rest. Outside the neighbourhood Δ is not 0:
    x's own entity rows are tails in the softmax over all entities (and, with `touched`, its negatives'
    rows), so the neighbourhood is the paper's candidate set, not the set where Δ can be nonzero."""
    settings, trainer = tiny(credit=credit)
    trained = trainer.train(TRAIN, track=True)
    gr = GradientRollback(settings.model, trained.E, trained.R, TRAIN, trained.influence)
    h, r = 0, 0
    t_hat, p = gr.predict(h, r)
    everything = np.arange(len(TRAIN))
    deltas = gr.deltas(everything, h, r, t_hat)
    for x in everything:
        E, R = trained.E.copy(), trained.R.copy()
        for row, change in own_rows(trained.influence, x).items():
            E[row] -= change
        R[TRAIN[x, 1]] -= trained.influence.relation_delta[x]
        assert deltas[x] == pytest.approx(p - tail_probabilities(settings.model, E, R, h, r)[t_hat], abs=1e-12)
    outside = np.setdiff1d(everything, neighbourhood(TRAIN, h, r, t_hat))
    assert len(outside) >= 3 and np.abs(deltas[outside]).max() > 0


def test_delta_is_zero_only_for_triples_never_trained_on_and_explanations_are_ranked_candidates():
    settings, trainer = tiny()
    trained = trainer.train(TRAIN, removed=[3], track=True)
    gr = GradientRollback(settings.model, trained.E, trained.R, TRAIN, trained.influence)
    assert gr.deltas([3], 0, 0, 1)[0] == 0.0  # a triple never trained on has γ = 0, hence Δ = 0
    h, r = 0, 0
    t_hat, p = gr.predict(h, r)
    assert p == tail_probabilities(settings.model, trained.E, trained.R, h, r).max()
    explanations = gr.explain(h, r, t_hat)
    explained = [x for x, _ in explanations]
    assert not set(explained) & {8, 9, 10}  # the other component shares nothing with (0, 0, t̂)
    assert set(explained) <= set(neighbourhood(TRAIN, h, r, t_hat).tolist())
    deltas = [d for _, d in explanations]
    assert deltas == sorted(deltas, reverse=True) and all(d >= 0 for d in deltas) and deltas[0] > 0


def test_scores_match_hand_computed_values():
    e_h, w_r, e_t = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([0.5, 4.0])
    assert tail_query("distmult", e_h, w_r) @ e_t == pytest.approx(1 * 3 * 0.5 + 2 * -1 * 4)  # -6.5
    # ComplEx, one complex dimension stored as [Re | Im]: h = 1+2i, r = 3-i, t = 0.5+4i;
    # Re(h r conj(t)) = Re((5+5i)(0.5-4i)) = 22.5.
    assert tail_query("complex", e_h, w_r) @ e_t == pytest.approx(22.5)
    tf_q = tail_query("complex", tf.constant(e_h), tf.constant(w_r), tf.concat).numpy()
    np.testing.assert_allclose(tf_q, tail_query("complex", e_h, w_r))
    E, R = np.array([[1.0, 2.0], [0.5, 4.0]]), np.array([[3.0, -1.0]])
    logits = np.array([1 * 3 * 1 + 2 * -1 * 2, -6.5])
    np.testing.assert_allclose(tail_probabilities("distmult", E, R, 0, 0), np.exp(logits) / np.exp(logits).sum())


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'transe'"):
        Settings(model="transe")
    with pytest.raises(ValueError, match="unknown credit 'all'"):
        Settings(credit="all")
    (tmp_path / "train.txt").write_text("a\tr\tb\nb\tr\tc\n")
    (tmp_path / "valid.txt").write_text("")
    (tmp_path / "test.txt").write_text("a\tr\tc\n")
    graph = data.load("nations", tmp_path)
    with pytest.raises(ValueError, match="entity 'zz' is not in the graph"):
        graph.encode([("a", "r", "zz")])
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        parse_ks(["0"])
    assert parse_ks(["1", "10", "all"]) == [1, 10, "all"]


def test_loaders_read_fb15k_crlf_and_movielens_as_user_rating_movie(tmp_path):
    fb = tmp_path / "fb"
    fb.mkdir()
    for split in ("train", "valid", "test"):
        (fb / f"{split}.txt").write_bytes(b"/m/a\t/film/x\t/m/b\r\n/m/b\t/film/y\t/m/c\r\n")
    graph = data.load("fb15k-237", fb)
    assert graph.entities == ("/m/a", "/m/b", "/m/c") and graph.relations == ("/film/x", "/film/y")
    ml = tmp_path / "ml"
    ml.mkdir()
    (ml / "u1.base").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    (ml / "u1.test").write_text("196\t302\t5\t881250950\n")
    graph = data.load("movielens-100k", ml)
    assert graph.relations == ("rating3", "rating5")
    assert graph.entities[graph.test[0, 0]] == "user196" and graph.entities[graph.test[0, 2]] == "movie302"


def numpy_reference(settings, train):
    """DistMult trained by an independent numpy re-derivation: per step the softmax cross-entropy of the true
    tail against the sampled negatives, gradients by hand, lazy Adam on the touched rows with the decayed
    learning rate (same schedule: initialisation, order and negatives from the trainer's seeded draw)."""
    from xairepro.gradient_rollback.model import _schedule

    s = settings
    E, R, order, negs = _schedule(s, N_ENT, N_REL, train)
    E, R = E.copy(), R.copy()
    mE, vE, mR, vR = (np.zeros_like(a) for a in (E, E, R, R))
    step = 0
    for epoch in range(s.epochs):
        for x in order[epoch]:
            h, r, t = train[x]
            candidates = np.concatenate([[t], negs[epoch, x]])
            q = E[h] * R[r]
            logits = E[candidates] @ q
            p = np.exp(logits - logits.max())
            p /= p.sum()
            d_logits = p - (np.arange(len(candidates)) == 0)
            grads = {}
            for c, d in zip(candidates, d_logits):
                grads[c] = grads.get(c, 0) + d * q
            d_q = d_logits @ E[candidates]
            grads[h] = grads.get(h, 0) + d_q * R[r]
            g_r = d_q * E[h]
            step += 1
            lr = s.learning_rate * s.decay_rate ** ((step - 1) / s.decay_steps)
            alpha = lr * np.sqrt(1 - s.beta_2 ** step) / (1 - s.beta_1 ** step)
            for var, m, v, row, g in [(E, mE, vE, c, g) for c, g in grads.items()] + [(R, mR, vR, r, g_r)]:
                m[row] = s.beta_1 * m[row] + (1 - s.beta_1) * g
                v[row] = s.beta_2 * v[row] + (1 - s.beta_2) * g * g
                var[row] = var[row] - alpha * m[row] / (np.sqrt(v[row]) + s.epsilon)
    return E, R


def test_training_equals_an_independent_numpy_reference_of_the_loss_and_lazy_adam():
    settings, trainer = tiny()
    trained = trainer.train(TRAIN, track=False)
    E, R = numpy_reference(settings, TRAIN)
    np.testing.assert_allclose(trained.E, E, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trained.R, R, rtol=0, atol=1e-12)
    assert np.abs(E - trained.E).max() < 1e-12 < np.abs(E - numpy_reference(tiny()[0], TRAIN[::-1])[0]).max()
