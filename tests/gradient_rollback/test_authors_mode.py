"""Mode "authors" (the authors' code's training choices): dense Adam against an independent numpy reference,
the exact per-step bookkeeping of γ that dense Adam leaves, negatives drawn with replacement by position,
best-validation-epoch selection, and seeds (a seed changes the model, the same seed gives the same bytes)."""
import json

import numpy as np
import pytest

from xairepro.gradient_rollback import model as gr_model
from xairepro.gradient_rollback import run, topk
from xairepro.gradient_rollback.model import Settings, Trainer, authors_negatives, configure_threads, filtered_mrr

configure_threads(1)

# As in test_gradient_rollback: two components, a self-loop (2, 0, 2) so h == t once.
TRAIN = np.array([[0, 0, 1], [1, 0, 2], [2, 1, 3], [3, 1, 4], [0, 1, 4], [2, 0, 2], [4, 0, 1], [1, 1, 0],
                  [5, 2, 6], [6, 2, 7], [7, 2, 5]])
VALID = np.array([[0, 0, 2], [3, 1, 0], [5, 2, 7]])
N_ENT, N_REL = 8, 3


def authors(epochs=3, seed=7, negatives=3):
    settings = Settings(dim=4, epochs=epochs, negatives=negatives, seed=seed, credit="hrt", mode="authors")
    return settings, Trainer(settings, N_ENT, N_REL)


def own_rows(influence, x):
    lo, hi = influence.entity_ptr[x], influence.entity_ptr[x + 1]
    return dict(zip(influence.entity_rows[lo:hi].tolist(), influence.entity_delta[lo:hi]))


def numpy_dense_reference(s, train, removed=()):
    """DistMult with the authors' training, re-derived in numpy: uniform(-0.05, 0.05) init from the seed,
    file order, negatives from numpy RandomState(0) with replacement (the true tail replaced by
    (h + t) // 2 + 1), softmax cross-entropy, gradients by hand summed per row, dense Adam at a
    constant learning rate; returns θ and γ_x = per-step changes of x's own h, t and r rows, summed."""
    rng = np.random.default_rng(s.seed)
    E, R = rng.uniform(-0.05, 0.05, (N_ENT, s.width)), rng.uniform(-0.05, 0.05, (N_REL, s.width))
    draws = np.random.RandomState(0).randint(N_ENT, size=(4096, s.negatives))[:len(train)]
    mE, vE, mR, vR = (np.zeros_like(a) for a in (E, E, R, R))
    gamma_e = {x: {} for x in range(len(train))}
    gamma_r = np.zeros((len(train), s.width))
    step = 0
    for _ in range(s.epochs):
        for x, (h, r, t) in enumerate(train):
            if x in removed:
                continue
            negs = [n if n != t else ((h + t) // 2 + 1 if (h + t) // 2 < N_ENT - 1 else (h + t) // 2) for n in draws[x]]
            candidates = np.array([t, *negs])
            q = E[h] * R[r]
            logits = E[candidates] @ q
            p = np.exp(logits - logits.max())
            p /= p.sum()
            d_logits = p - (np.arange(len(candidates)) == 0)
            gE, gR = np.zeros_like(E), np.zeros_like(R)
            for c, d in zip(candidates, d_logits):
                gE[c] += d * q
            d_q = d_logits @ E[candidates]
            gE[h] += d_q * R[r]
            gR[r] += d_q * E[h]
            step += 1
            alpha = s.learning_rate * np.sqrt(1 - s.beta_2 ** step) / (1 - s.beta_1 ** step)
            changes = []
            for var, m, v, g in ((E, mE, vE, gE), (R, mR, vR, gR)):
                m[:] = s.beta_1 * m + (1 - s.beta_1) * g
                v[:] = s.beta_2 * v + (1 - s.beta_2) * g * g
                change = -alpha * m / (np.sqrt(v) + s.epsilon)
                var += change
                changes.append(change)
            for row in {h, t}:
                gamma_e[x][row] = gamma_e[x].get(row, 0) + changes[0][row]
            gamma_r[x] += changes[1][r]
    return E, R, gamma_e, gamma_r


def test_authors_training_equals_an_independent_numpy_dense_adam_reference():
    settings, trainer = authors()
    trained = trainer.train(TRAIN, track=True)
    E, R, gamma_e, gamma_r = numpy_dense_reference(settings, TRAIN)
    np.testing.assert_allclose(trained.E, E, rtol=0, atol=1e-12)
    np.testing.assert_allclose(trained.R, R, rtol=0, atol=1e-12)
    # Dense: rows no step of the component {5, 6, 7} touched after its last step still moved (momentum).
    assert np.abs(trained.E - trained.E0).min(axis=1).min() > 0
    # A deletion skips the triple's steps and keeps every other step's position, negatives and Adam count.
    without = trainer.train(TRAIN, removed=[3], track=False)
    E3, R3, _, _ = numpy_dense_reference(settings, TRAIN, removed={3})
    np.testing.assert_allclose(without.E, E3, rtol=0, atol=1e-12)
    np.testing.assert_allclose(without.R, R3, rtol=0, atol=1e-12)


def test_authors_gamma_is_exactly_each_triples_own_per_step_changes():
    """What stays exact under dense Adam: γ_x is the sum over x's own steps of the change of x's h, t and
    r rows (the authors' definition); the rest of θ's change (other rows' momentum) is credited to no one."""
    settings, trainer = authors()
    trained = trainer.train(TRAIN, track=True)
    _, _, gamma_e, gamma_r = numpy_dense_reference(settings, TRAIN)
    for x in range(len(TRAIN)):
        got = own_rows(trained.influence, x)
        assert set(got) == set(gamma_e[x])
        for row, change in gamma_e[x].items():
            np.testing.assert_allclose(got[row], change, rtol=0, atol=1e-13)
    np.testing.assert_allclose(trained.influence.relation_delta, gamma_r, rtol=0, atol=1e-13)
    E = trained.E0.copy()
    np.add.at(E, trained.influence.entity_rows, trained.influence.entity_delta)
    assert np.abs(trained.E - E).max() > 1e-4  # Σγ ≠ θ_final − θ_init: dense Adam moves uncredited rows


def test_authors_negatives_are_drawn_with_replacement_by_position_the_same_every_epoch_and_seed():
    train = np.array([[h, 0, t] for h in range(14) for t in range(14)] * 12)  # 2352 positions
    negs = authors_negatives(train, 14, 13)
    assert negs.shape == (len(train), 13) and negs.min() >= 0 and negs.max() < 14
    repeated = [len(set(row)) < len(row) for row in negs.tolist()]
    assert np.mean(repeated) > 0.9  # 13 draws from 14 entities with replacement nearly always repeat one
    # the raw draws are numpy RandomState(0)'s, and a draw equal to the true tail is replaced
    raw = np.random.RandomState(0).randint(14, size=(4096, 13))[:len(train)]
    hit = raw == train[:, 2:3]
    assert hit.any() and np.array_equal(negs[~hit], raw[~hit])
    middle = ((train[:, 0] + train[:, 2]) // 2)[:, None].repeat(13, 1)
    assert np.array_equal(negs[hit], np.where(middle < 13, middle + 1, middle)[hit])
    # the schedule uses them in every epoch, whatever the seed
    for seed in (1, 2):
        s = Settings(dim=2, epochs=3, negatives=13, seed=seed, credit="hrt", mode="authors")
        _, _, order, schedule_negs = gr_model._schedule(s, 14, 1, train)
        assert all(np.array_equal(o, np.arange(len(train))) for o in order)
        assert all(np.array_equal(n, negs) for n in schedule_negs)


def test_authors_nh_k_deletes_k_neighbours_whatever_gr_k_holds():
    record = {"test_index": 0, "explanations": [[3, 0.2], [4, 0.1]], "neighbourhood": list(range(20))}
    ours = topk.deletion_sets(record, [1, 10, "all"], seed=0)
    theirs = topk.deletion_sets(record, [1, 10, "all"], seed=0, mode="authors")
    assert len(ours["NH-10"]) == 2 and len(theirs["NH-10"]) == 10
    assert len(theirs["NH-1"]) == 1 and len(theirs["NH-all"]) == 2 and theirs["GR-10"] == [3, 4]


def test_filtered_mrr_by_hand():
    E = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [3.0, 0.0]])
    R = np.array([[1.0, 1.0]])
    # query (0, 0): scores of tails 0..3 = 1, 0, 2, 3; true tail 0 is beaten by 2 and 3, but (0, 0, 3) is known
    assert filtered_mrr("distmult", E, R, np.array([[0, 0, 0]]), np.array([[0, 0, 3]])) == pytest.approx(1 / 2)
    assert filtered_mrr("distmult", E, R, np.array([[0, 0, 0]]), np.zeros((0, 3), int)) == pytest.approx(1 / 3)


def test_best_epoch_selection_returns_the_validation_best_epoch(monkeypatch):
    """The returned model and γ are those after the epoch with the highest validation MRR (the first of
    equal ones, as the authors' strict >), i.e. equal to training for that many epochs."""
    _, trainer = authors(epochs=4)
    curve = iter([0.2, 0.6, 0.6, 0.4])
    monkeypatch.setattr(gr_model, "filtered_mrr", lambda *a: next(curve))
    selected = trainer.train(TRAIN, track=True, select_on=VALID)
    assert selected.history == {"validation_mrr": [0.2, 0.6, 0.6, 0.4], "best_epoch": 2}
    two = authors(epochs=2)[1].train(TRAIN, track=True)
    assert np.array_equal(selected.E, two.E) and np.array_equal(selected.R, two.R)
    assert np.array_equal(selected.influence.entity_delta, two.influence.entity_delta)
    assert np.array_equal(selected.influence.relation_delta, two.influence.relation_delta)
    last = authors(epochs=4)[1].train(TRAIN, track=False)
    assert np.abs(last.E - selected.E).max() > 1e-4


def test_best_epoch_history_is_the_real_validation_mrr_of_each_epoch():
    _, trainer = authors(epochs=3)
    selected = trainer.train(TRAIN, track=False, select_on=VALID)
    known = np.concatenate([TRAIN, VALID])
    for epochs, mrr in enumerate(selected.history["validation_mrr"], 1):
        model = authors(epochs=epochs)[1].train(TRAIN, track=False)
        assert mrr == filtered_mrr("distmult", model.E, model.R, VALID, known)


def test_authors_mode_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="set credit: hrt"):
        Settings(mode="authors")
    with pytest.raises(ValueError, match="unknown mode 'theirs'"):
        Settings(mode="theirs", credit="hrt")
    _, trainer = authors()
    with pytest.raises(ValueError, match="retrain_schedule must be fixed"):
        trainer.train(TRAIN, removed=[0], track=False, redraw=True)


@pytest.mark.parametrize("mode", ["ours", "authors"])
def test_the_same_seed_gives_identical_bytes_and_another_seed_another_model(mode, tmp_path):
    def saved(seed, name):
        settings = Settings(dim=4, epochs=2, negatives=3, seed=seed, credit="hrt", mode=mode)
        trained = Trainer(settings, N_ENT, N_REL).train(TRAIN, track=True, select_on=VALID if mode == "authors" else None)
        run.save(tmp_path / name, settings, trained)
        return {f: (tmp_path / name / f).read_bytes() for f in ("model.npz", "influence.npz", "settings.json")}

    first, again, other = saved(5, "a"), saved(5, "b"), saved(6, "c")
    assert first == again
    assert first["model.npz"] != other["model.npz"] and first["influence.npz"] != other["influence.npz"]
    assert json.loads(other["settings.json"])["seed"] == 6


def test_authors_top1_skips_the_known_tails():
    """Their predict_set masks (h, r, e) known from train or validation before the argmax; the
    probability of t̂ stays the softmax over all tails."""
    from xairepro.gradient_rollback.model import known_tails, top1

    known = known_tails(np.array([[0, 0, 1], [0, 0, 2], [1, 0, 2], [0, 0, 1]]))
    assert {k: v.tolist() for k, v in known.items()} == {(0, 0): [1, 2], (1, 0): [2]}
    p = np.array([0.1, 0.5, 0.3, 0.1])
    assert top1(p) == 1 and top1(p, known[(0, 0)]) == 0 and top1(p, known[(1, 0)]) == 1
