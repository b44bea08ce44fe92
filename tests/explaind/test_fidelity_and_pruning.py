"""The paper's fidelity measures (EPK accuracy, KL(model ‖ EPK)) on the reconstruction of every logit, and
the authors' pruning score (absolute per-point, per-output kernel) with the output layer kept."""
import numpy as np
import pytest
import torch

from xairepro.explaind.epk import epk_agreement, error_slope
from xairepro.explaind.explainer import ExPLAIND, all_outputs
from xairepro.explaind.prune import authors_score, keep_mask, prune, signed_score


def explainer(run, T):
    model, opt, hist, data, _ = run
    return ExPLAIND(model, opt, hist, data.x_train, data.y_train, integration_steps=T, chunk=64), data


# --- pruning scores ------------------------------------------------------------------------------------------

def test_authors_score_does_not_let_opposite_contributions_cancel():
    # two (point, output) rows: parameter 0 moves the two outputs strongly in opposite directions,
    # parameter 1 weakly in the same direction
    point_weight = np.array([[3.0, 1.0], [-3.0, 1.0]])
    np.testing.assert_allclose(authors_score(point_weight), [6.0, 2.0])
    np.testing.assert_allclose(signed_score(point_weight.sum(0)), [0.0, 2.0])
    theta = torch.tensor([0.5, 0.5], dtype=torch.float64)
    by_authors = prune(theta, torch.from_numpy(authors_score(point_weight)), 0.5)
    by_signed = prune(theta, torch.from_numpy(signed_score(point_weight.sum(0))), 0.5)
    assert by_authors.tolist() == [0.5, 0.0]      # the cancelling but important parameter 0 stays
    assert by_signed.tolist() == [0.0, 0.5]


def test_output_layer_is_never_pruned_and_the_fraction_counts_the_other_parameters():
    theta = torch.arange(1.0, 11.0)
    scores = torch.tensor([5.0, 6, 7, 8, 9, 10, 11, 12, 0.1, 0.2])   # the last two (the "head") score lowest
    keep = torch.zeros(10, dtype=torch.bool)
    keep[8:] = True
    pruned = prune(theta, scores, 0.5, keep)
    assert pruned[8:].tolist() == [9.0, 10.0]                        # head kept
    assert pruned[:4].tolist() == [0.0] * 4 and pruned[4:8].tolist() == [5.0, 6, 7, 8]  # 4 of the 8 others
    assert prune(theta, scores, 0.5).tolist()[8:] == [0.0, 0.0]       # without keep the head goes first


def test_keep_mask_selects_groups_by_prefix_and_rejects_unknown(run):
    model = run[0]
    mask = keep_mask(model, ["unembed"])
    assert mask.sum().item() == model.sizes[model.names.index("unembed.weight")]
    assert mask[-1] and not mask[0]
    with pytest.raises(ValueError, match="matches no parameter group"):
        keep_mask(model, ["head"])


def test_point_weight_is_the_data_share_per_parameter(run):
    """Σ over parameters of the per-output kernel = Σ_i A(x, i) for every output (the data share; the
    weight-decay share is not in it), and it has one row per (point, class) pair."""
    ex, data = explainer(run, 8)
    x, y = all_outputs(data.x_test[:4], 7)
    res = ex.attribute(x, y, progress=False, point_weight=True)
    assert res.point_weight.shape == (28, run[0].n_params)
    np.testing.assert_allclose(res.point_weight.sum(1), res.data.sum(1), rtol=1e-10, atol=1e-12)
    assert np.abs(res.decay).max() > 1e-6  # so a score that included weight decay would differ


# --- EPK accuracy and KL --------------------------------------------------------------------------------------

def test_kl_direction_and_per_point_average_on_a_hand_made_case():
    model = np.log(np.array([[0.9, 0.1], [0.5, 0.5]]))
    epk = np.log(np.array([[0.6, 0.4], [0.5, 0.5]]))
    kl_model_epk = 0.9 * np.log(0.9 / 0.6) + 0.1 * np.log(0.1 / 0.4)    # KL(model ‖ EPK) of point 0
    kl_epk_model = 0.6 * np.log(0.6 / 0.9) + 0.4 * np.log(0.4 / 0.1)
    assert abs(kl_model_epk - kl_epk_model) > 0.05                        # the direction matters here
    m = epk_agreement(model, epk)
    assert m["kl"] == pytest.approx(kl_model_epk / 2, rel=1e-12)           # mean over the 2 points
    assert m["epk_accuracy"] == 1.0
    flipped = epk_agreement(model, np.log(np.array([[0.4, 0.6], [0.5, 0.5]])))
    assert flipped["epk_accuracy"] == 0.5                                  # argmax of point 0 changes


def test_error_slope():
    assert error_slope({10: 1e-2, 100: 1e-4}) == pytest.approx(2.0)
    assert error_slope({10: 2e-3, 100: 2e-4}) == pytest.approx(1.0)
    assert error_slope({10: 1e-3}) is None


def test_all_outputs_pairs_are_point_major():
    x = torch.tensor([[1.0], [2.0]])
    xs, ys = all_outputs(x, 3)
    assert xs[:, 0].tolist() == [1, 1, 1, 2, 2, 2] and ys.tolist() == [0, 1, 2, 0, 1, 2]


def test_kernel_of_every_output_reconstructs_every_logit(run):
    """attribute() on all (point, class) pairs reconstructs all C logits of the trained model, and the
    forward-mode path_logits gives the same EPK prediction at the same T."""
    model, _, hist, data, _ = run
    ex, _ = explainer(run, 32)
    x = data.x_test[:5]
    res = ex.attribute(*all_outputs(x, 7), progress=False)
    logits = model.logits(hist.final_params(), x).detach().numpy()
    np.testing.assert_allclose(res.final.reshape(5, 7), logits, atol=1e-12)
    err = np.abs(res.reconstruction.reshape(5, 7) - logits)
    assert err.max() <= 1e-3 * np.abs(logits - res.initial.reshape(5, 7)).max()
    path = ex.path_logits(x, [32], progress=False)
    np.testing.assert_allclose(path[32], res.reconstruction.reshape(5, 7), atol=1e-11)
    np.testing.assert_allclose(path["initial"], res.initial.reshape(5, 7), atol=1e-12)


def test_epk_accuracy_is_one_and_kl_zero_when_the_reconstruction_is_exact(run):
    """float64 GELU model, T = 64: the EPK prediction of every logit gives the model's decisions and
    KL ≈ 0; the error falls with T (smooth path: about as 1/T²)."""
    ex, data = explainer(run, 4)
    x = data.x_test[:20]
    logits = ex.path_logits(x, [2, 64], progress=False)
    exact = epk_agreement(logits["final"], logits[64])
    assert exact["epk_accuracy"] == 1.0
    assert abs(exact["kl"]) < 1e-9
    coarse = epk_agreement(logits["final"], logits[2])
    assert coarse["relative_error"] > 10 * exact["relative_error"]
    assert error_slope({2: coarse["relative_error"], 64: exact["relative_error"]}) > 1.5


# --- the steps end to end on a tiny recorded run ---------------------------------------------------------------

def test_epk_and_prune_steps_write_the_paper_measures_and_the_three_scores(tmp_path):
    """explaind_epk's fidelity.json has EPK accuracy / KL per T; its authors' score (computed in passes of a few
    validation points) equals one pass over all of them; explaind_prune writes all three scores."""
    import csv
    import json

    from xairepro.explaind import epk, prune as prune_step
    from xairepro.explaind.history import History, train_with_history
    from xairepro.explaind.task import build_task

    settings = {"dataset": "modulo", "p": 7, "n_train": 30, "steps": 12, "batch_size": 8, "checkpoint_every": 5,
                "eval_every": 4, "prune_fractions": [0.5, 0.9],
                "model": {"name": "modulo_transformer", "d_model": 8, "n_heads": 2, "d_mlp": 16},
                "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-3, "schedule": "constant"}}
    task = build_task(settings, 0, "float64", None)
    history = tmp_path / "history"
    train_with_history(task.model, task.optimizer, task.data.x_train, task.data.y_train, task.lrs, task.batch_size,
                       0, history, settings["checkpoint_every"], task.identity)
    common = ["--settings", json.dumps(settings), "--dtype", "float64", "--history", str(history)]
    epk.main([*common, "--integration-steps", "8", "--n-explain", "3", "--fidelity-steps", "4", "32",
              "--prune-validation", "6", "--out", str(tmp_path / "epk.npz"), "--fidelity", str(tmp_path / "f.json")])
    fidelity = json.loads((tmp_path / "f.json").read_text())["all_logits"]
    assert fidelity["n_points"] == len(task.data.x_test) and fidelity["n_outputs"] == 7
    assert fidelity["by_T"]["32"]["epk_accuracy"] == 1.0 and fidelity["by_T"]["32"]["kl"] < 1e-6  # ReLU: ~1/T
    assert fidelity["error_slope"] > 0
    saved = np.load(tmp_path / "epk.npz")
    ex = ExPLAIND(task.model, task.optimizer, History(history, task.identity), task.data.x_train, task.data.y_train,
                  integration_steps=8, chunk=256)
    one_pass = ex.attribute(*all_outputs(task.data.x_test[:6], 7), progress=False, point_weight=True)
    np.testing.assert_allclose(saved["authors_score"], authors_score(one_pass.point_weight), rtol=1e-10)
    assert saved["validation"].tolist() == list(range(6))
    prune_step.main([*common, "--epk", str(tmp_path / "epk.npz"), "--keep", "unembed", "--out", str(tmp_path / "p.csv")])
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert [(r["method"], float(r["fraction"])) for r in rows] == [
        (m, f) for m in ("authors", "signed", "magnitude") for f in (0.5, 0.9)]
    unembed = task.model.sizes[task.model.names.index("unembed.weight")] / task.model.n_params
    for r in rows:   # the share of all parameters zeroed: the fraction of the others, the output layer kept
        assert float(r["pruned"]) == pytest.approx(float(r["fraction"]) * (1 - unembed), abs=2e-3)
