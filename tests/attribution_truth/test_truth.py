"""The ground truth itself: exact leave-one-out agrees with the closed-form influence function where that
is exact (l2-regularised logistic regression), LDS tells a real attribution from a random one, ours equals
dattri's on the same subsets, and a killed retraining job resumes where it stopped."""
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from xairepro.attribution_truth import metrics, tasks
from xairepro.attribution_truth.methods import scores
from xairepro.attribution_truth.plan import make_plan, retrainings
from xairepro.data.download import VENDORED, download

SETTINGS = {"test_fraction": 0.2, "l2": 0.001}
METHOD_SETTINGS = {"gamma": 1e-5, "lmbda": 0.003, "rps_l2_epochs": 3000, "damping": 0.0, "dknn_k": 10,
                   "trak_dim": 64, "explaind": {"epochs": 5, "batch_size": 32, "lr": 0.1}}


@pytest.fixture(scope="module")
def credit(tmp_path_factory):
    folder = download("german-credit", tmp_path_factory.mktemp("data") / "german-credit", vendored=VENDORED)
    data = tasks.load("credit_logistic", folder, SETTINGS, seed=0)
    keep_test = np.arange(12)
    data.x_test, data.y_test = data.x_test[keep_test], data.y_test[keep_test]
    everything = np.arange(len(data.y_train))
    full = tasks.margins(tasks.train("credit_logistic", data, everything, 0, SETTINGS), data.x_test, data.y_test)
    # exact leave-one-out effect of every training point: f(all) − f(all but i)
    loo = np.stack([full - tasks.margins(tasks.train("credit_logistic", data, np.delete(everything, i), 0, SETTINGS),
                                         data.x_test, data.y_test) for i in everything])
    return data, full, loo


def test_exact_loo_agrees_with_the_closed_form_influence_function(credit):
    data, full, loo = credit
    model = tasks.train("credit_logistic", data, np.arange(len(data.y_train)), 0, SETTINGS)
    influence = scores("if", model, data, {**METHOD_SETTINGS, **SETTINGS}, seed=0)
    rho = [spearmanr(influence[:, t], loo[:, t]).statistic for t in range(loo.shape[1])]
    assert min(rho) > 0.95, rho
    # In size too, not only in rank: IF is the first-order rise of the test loss log(1 + e^-margin) when i is
    # left out (1/n included), so it matches the exact rise of that loss.
    loss = lambda margin: np.logaddexp(0, -margin)  # noqa: E731
    rise = loss(full[None] - loo) - loss(full[None])
    big = np.abs(rise) > np.quantile(np.abs(rise), 0.5)
    assert np.median(influence[big] / rise[big]) == pytest.approx(1.0, abs=0.1)


def test_lds_of_the_true_loo_effects_is_clearly_positive_and_of_random_scores_near_zero(credit):
    data, _, loo = credit
    n = len(data.y_train)
    plan = make_plan(n, len(data.y_test), test_points=len(data.y_test), loo_points=2, loo_seeds=1, lds_subsets=60,
                     lds_alpha=0.5, seed=1)
    outputs = np.stack([tasks.margins(tasks.train("credit_logistic", data, subset, 0, SETTINGS), data.x_test, data.y_test)
                        for subset in plan.subsets])
    true = metrics.lds(loo, plan.subsets, outputs)
    random = np.concatenate([metrics.lds(np.random.default_rng(s).standard_normal(loo.shape), plan.subsets, outputs)
                             for s in range(20)])
    assert true.mean() > 0.4, true
    assert abs(random.mean()) < 0.1 and random.std() > 0.05, (random.mean(), random.std())


def test_our_lds_equals_dattris_on_the_same_subsets_and_scores():
    import torch
    from dattri.metric import lds as dattri_lds

    rng = np.random.default_rng(0)
    scores_ = rng.standard_normal((40, 7))
    subsets = np.stack([np.sort(rng.choice(40, 20, replace=False)) for _ in range(30)])
    outputs = scores_[subsets].sum(1) + rng.standard_normal((30, 7)) * 3
    ours = metrics.lds(scores_, subsets, outputs)
    theirs, _ = dattri_lds(torch.as_tensor(scores_), (torch.as_tensor(outputs), torch.as_tensor(subsets)))
    assert np.allclose(ours, theirs.numpy(), atol=1e-6)
    assert ours.std() > 0  # not a degenerate case


def test_loo_effects_average_seeds_and_report_their_standard_error():
    full = np.array([[1.0, 2.0], [3.0, 2.0]])                 # 2 seeds, 2 test points
    left_out = np.array([[[0.0, 2.0], [2.0, 1.0]]])          # one left-out point, same seeds
    effect, stderr = metrics.loo_effects(full, left_out)
    assert effect.tolist() == [[1.0, 0.5]]
    assert stderr[0, 0] == 0 and stderr[0, 1] == pytest.approx(np.std([0.0, 1.0], ddof=1) / np.sqrt(2))


def test_the_plan_is_seeded_and_lists_every_retraining_once():
    a = make_plan(100, 30, test_points=5, loo_points=4, loo_seeds=2, lds_subsets=3, lds_alpha=0.5, seed=7)
    b = make_plan(100, 30, test_points=5, loo_points=4, loo_seeds=2, lds_subsets=3, lds_alpha=0.5, seed=7)
    assert np.array_equal(a.subsets, b.subsets) and np.array_equal(a.test, b.test)
    items = retrainings(a, 100)
    assert len(items) == 2 + 4 * 2 + 3 and len({name for name, _, _ in items}) == len(items)
    assert all(len(keep) == 99 for name, keep, _ in items if name.startswith("loo/"))
    assert a.subsets.shape == (3, 50)
    seeds = {name: seed for name, _, seed in items}
    assert seeds["full/0"] == 7 and seeds["full/1"] == 8                    # the explained model is full/0
    assert seeds["loo/%d/1" % a.loo[0]] == seeds["full/1"]                  # LOO pairs its seeds with full
    assert sorted(seeds[f"lds/{m}"] for m in range(3)) == [7, 8, 9]         # each subset its own seed
    assert {name.split("/")[0] for name, _, _ in items} == {"full", "loo", "lds"}
    baseline = scores("same_label", None, tasks.Data(None, np.array([0, 1, 1]), None, np.array([1, 0])), {}, 0)
    assert baseline.tolist() == [[-1, 1], [1, -1], [1, -1]]
    with pytest.raises(ValueError, match="lds_alpha"):
        make_plan(100, 30, test_points=5, loo_points=4, loo_seeds=2, lds_subsets=3, lds_alpha=1.0, seed=7)


def test_a_killed_retraining_job_resumes_without_redoing_finished_retrainings(credit, tmp_path, monkeypatch):
    from xairepro.attribution_truth import retrain

    folder = tmp_path / "german-credit"
    download("german-credit", folder, vendored=VENDORED)
    plan = {"seed": 0, "test_points": 4, "loo_points": 3, "loo_seeds": 1, "lds_subsets": 5, "lds_alpha": 0.5}
    argv = ["--task", "credit_logistic", "--data-dir", str(folder), "--settings", json.dumps(SETTINGS),
            "--plan", json.dumps(plan), "--shard", "0", "--shards", "1"]
    real, calls = tasks.train, []

    def counted(*args, kill_at=None, **kwargs):
        if kill_at is not None and len(calls) == kill_at:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "train", counted)
    retrain.main([*argv, "--out", str(tmp_path / "whole.npz")])
    total = len(calls)
    assert total == 1 + 3 + 5
    calls.clear()
    monkeypatch.setattr(tasks, "train", lambda *a, **k: counted(*a, kill_at=4, **k))
    with pytest.raises(KeyboardInterrupt):
        retrain.main([*argv, "--out", str(tmp_path / "killed.npz")])
    calls.clear()
    monkeypatch.setattr(tasks, "train", counted)
    retrain.main([*argv, "--out", str(tmp_path / "killed.npz")])
    assert len(calls) == total - 4
    with np.load(tmp_path / "whole.npz") as a, np.load(tmp_path / "killed.npz") as b:
        assert np.array_equal(a["outputs"], b["outputs"]) and np.array_equal(a["names"], b["names"])


@pytest.mark.parametrize("method", ["lje", "rps_l2", "explaind", "dknn", "dattri_if", "dattri_tracin", "dattri_trak"])
def test_every_method_scores_every_training_point_for_every_test_point(credit, method):
    """Shapes, finiteness and orientation: on the convex task every method of the comparison correlates
    positively with the exact LOO effects on average (a flipped sign would show here)."""
    data, _, loo = credit
    model = tasks.train("credit_logistic", data, np.arange(len(data.y_train)), 0, SETTINGS)
    s = scores(method, model, data, {**METHOD_SETTINGS, **SETTINGS}, seed=0)
    assert s.shape == loo.shape and np.isfinite(s).all()
    rho = metrics.loo_spearman(s, np.arange(len(data.y_train)), loo)
    assert rho.mean() > 0.1, rho


def test_a_retraining_without_some_points_keeps_the_full_runs_order_for_the_rest():
    """Paired seeds: leaving point i out deletes it from each epoch's order, nothing is reshuffled."""
    n, left_out = 30, 7
    full = tasks.epoch_orders(n, np.arange(n), epochs=3, seed=5)
    without = tasks.epoch_orders(n, np.delete(np.arange(n), left_out), epochs=3, seed=5)
    for a, b in zip(full, without):
        assert b.tolist() == [i for i in a.tolist() if i != left_out]
    assert full[0].tolist() != tasks.epoch_orders(n, np.arange(n), epochs=1, seed=6)[0].tolist()


def test_the_steps_explain_the_planned_test_points_and_the_explained_model_is_retraining_full_0(credit, tmp_path):
    """Every step loads the same explained test points (the plan's indices into the test split), and the
    explained model is the first full-data retraining (plan seed), which evaluate checks."""
    from types import SimpleNamespace

    from xairepro.attribution_truth.evaluate import evaluate
    from xairepro.attribution_truth.task_io import Loaded

    folder = download("german-credit", tmp_path / "german-credit", vendored=VENDORED)
    plan_settings = {"seed": 3, "test_points": 4, "loo_points": 3, "loo_seeds": 2, "lds_subsets": 5, "lds_alpha": 0.5}
    args = SimpleNamespace(task="credit_logistic", data_dir=str(folder), settings=json.dumps(SETTINGS),
                           plan=json.dumps(plan_settings))
    loaded = Loaded(args)
    raw = tasks.load("credit_logistic", folder, SETTINGS, seed=3)
    assert np.array_equal(loaded.data.x_test, raw.x_test[loaded.plan.test])
    assert np.array_equal(loaded.data.y_test, raw.y_test[loaded.plan.test])
    names, outputs = [], []
    for name, keep, seed in retrainings(loaded.plan, loaded.n_train):
        names.append(name)
        outputs.append(loaded.outputs(loaded.train(keep, seed)))
    assert retrainings(loaded.plan, loaded.n_train)[0][2] == 3  # full/0 uses the plan's seed
    np.savez(tmp_path / "shard.npz", names=np.array(names), outputs=np.array(outputs))
    model = loaded.train(np.arange(loaded.n_train), loaded.seed, for_explaining=True)
    common = dict(seconds=0.0, n_train=loaded.n_train, n_test=loaded.n_test, chance=0.0)
    np.savez(tmp_path / "random.npz", scores=np.zeros((loaded.n_train, 4)), model_outputs=loaded.outputs(model), **common)
    rows = evaluate("credit_logistic", plan_settings, [str(tmp_path / "shard.npz")],
                    {"random": str(tmp_path / "random.npz")}, {})
    assert rows[0]["loo_reliability"] == "1.000"  # a deterministic task: every seed gives the same effects
    np.savez(tmp_path / "other.npz", scores=np.zeros((loaded.n_train, 4)),
             model_outputs=loaded.outputs(model) + 0.1, **common)
    with pytest.raises(ValueError, match="did not train the same model"):
        evaluate("credit_logistic", plan_settings, [str(tmp_path / "shard.npz")], {"x": str(tmp_path / "other.npz")}, {})


def test_loo_reliability_is_one_without_noise_and_near_zero_for_pure_noise():
    from xairepro.attribution_truth.evaluate import loo_reliability

    rng = np.random.default_rng(0)
    full = np.zeros((3, 10))
    signal = rng.standard_normal((50, 1, 10))
    assert loo_reliability(full, np.repeat(signal, 3, axis=1)) == 1.0
    assert abs(loo_reliability(full, rng.standard_normal((50, 3, 10)))) < 0.25
    mixed = loo_reliability(full, signal + 0.5 * rng.standard_normal((50, 3, 10)))
    assert 0.8 < mixed < 1.0
