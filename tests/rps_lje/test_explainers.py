"""Real properties of the three last-layer explainers on small logistic problems."""
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from xairepro.rps_lje.retrain import fit_logistic
from xairepro.rps_lje.explainers import RPSL2, RPSLJE, InfluenceFunction, make_explainer

torch.set_num_threads(1)


def problem(n=80, d=4, seed=0):
    """Overlapping classes (not separable), features with a bias column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d - 1))
    y = (x @ rng.normal(size=d - 1) + rng.normal(size=n) > 0).astype(float)
    phi = np.hstack([x, np.ones((n, 1))])
    test = np.hstack([rng.normal(size=(20, d - 1)), np.ones((20, 1))])
    return phi, y, test


def test_rps_l2_fits_the_model_predictions_and_stops_by_the_authors_rule():
    phi, y, test = problem()
    theta_star = fit_logistic(phi, y, l2=0.0) * 1.5  # a confident trained model, not an l2 optimum
    explainer = RPSL2(lmbda=0.003, epochs=3000).fit(phi, y, theta_star)
    # the authors' rule: stop once mean|∇| < (mean|∇| at Θ*)/200, long before the 3000-epoch cap
    targets = 1 / (1 + np.exp(-phi @ theta_star))
    initial = np.abs(phi.T @ (targets - targets) / len(y) + 2 * 0.003 * theta_star).mean()
    theta = explainer.theta_lambda.numpy()
    grad = phi.T @ (1 / (1 + np.exp(-phi @ theta)) - targets) / len(y) + 2 * 0.003 * theta
    assert np.abs(grad).mean() < initial / 200
    assert explainer.epochs_run < 3000
    # α_i = −(σ(Θ_λ·φ_i) − ŷ_i)/(2λn) with ŷ the model's predictions: the labels play no part
    flipped_labels = RPSL2(lmbda=0.003, epochs=3000).fit(phi, 1 - y, theta_star)
    np.testing.assert_allclose(flipped_labels.alpha.numpy(), explainer.alpha.numpy(), atol=1e-12)
    # representer identity: Σ_i α_i φ(x_i)·φ(x_t) = Θ_λ·φ(x_t) − ∇/(2λ)·φ(x_t), the gap bounded by the residual ∇
    importance = explainer.importance(test)
    np.testing.assert_allclose(importance.sum(0), test @ theta - test @ grad / (2 * 0.003), atol=1e-9)
    assert np.abs(importance.sum(0) - test @ theta).max() < 0.05 * np.abs(test @ theta).max()
    # the debugging order is |α| (the authors' calculate_orders.py), no feature-norm factor
    np.testing.assert_allclose(explainer.self_importance(), np.abs(explainer.alpha.numpy()))


def test_rps_l2_newton_reference_reaches_the_exact_stationary_point():
    phi, y, test = problem()
    theta_star = fit_logistic(phi, y, l2=0.0) * 1.5
    newton = RPSL2(lmbda=0.003, solver="newton").fit(phi, y, theta_star)
    assert newton.grad_norm < 1e-10
    np.testing.assert_allclose(newton.importance(test).sum(0), test @ newton.theta_lambda.numpy(), atol=1e-8)
    authors = RPSL2(lmbda=0.003).fit(phi, y, theta_star)
    # the authors' early stop lands near, not at, the same optimum: its order is nearly the same
    assert spearmanr(authors.self_importance(), newton.self_importance()).statistic > 0.9


def test_lje_identity_and_jacobian_expansion():
    phi, y, test = problem()
    stationary = fit_logistic(phi, y, l2=0.0)
    theta_star = stationary + 1e-3 * np.array([1.0, -1.0, 0.5, 0.2])  # a trained model near the optimum
    explainer = RPSLJE(gamma=1e-5, damping=0.0).fit(phi, y, theta_star)
    importance = explainer.importance(test)
    # The paper's identity: Θ†·φ(x_t) = Σ_i α_i ⊙ φ(x_i) · φ(x_t), exactly.
    np.testing.assert_allclose(importance.sum(0), test @ explainer.theta_dagger.numpy(), rtol=0, atol=1e-12)
    # Θ† is one Newton step from Θ̃: it lands on the stationary point to second order.
    assert np.abs(explainer.theta_dagger.numpy() - stationary).max() < 1e-5
    assert np.abs(theta_star - stationary).max() > 5e-4
    # The ascent step moved the weights by γ·J(Θ*), uphill: the training loss grows.
    assert 0 < np.abs(explainer.theta_tilde.numpy() - theta_star).max() < 1e-6

    def loss(th):
        f = phi @ th
        return np.mean(np.logaddexp(0, f) - y * f)

    assert loss(explainer.theta_tilde.numpy()) > loss(theta_star)
    # Debugging ranks by the whole of point i's term in its own prediction, Θ̃·φ_i/n included (authors).
    np.testing.assert_allclose(explainer.self_importance(), np.abs(np.diag(explainer.importance(phi))), atol=1e-15)


def test_influence_function_agrees_with_leave_one_out():
    lmbda = 0.01
    phi, y, test = problem(n=60, d=3, seed=1)
    test_y = (test[:, 0] > 0).astype(float)
    theta = fit_logistic(phi, y, l2=lmbda)
    predicted = InfluenceFunction(damping=0.0, l2=lmbda).fit(phi, y, theta).importance(test[:3], test_y[:3])

    def test_loss(th):
        f = test[:3] @ th
        return np.logaddexp(0, f) - test_y[:3] * f

    actual = []
    for i in range(len(y)):
        # the same objective without point i: (1/n) Σ_{j≠i} L_j + λ‖Θ‖², i.e. fit_logistic's mean over
        # n − 1 points with l2 = λn/(n − 1)
        keep = np.arange(len(y)) != i
        theta_i = fit_logistic(phi[keep], y[keep], l2=lmbda * len(y) / (len(y) - 1))
        actual.append(test_loss(theta_i) - test_loss(theta))
    actual = np.array(actual)
    for t in range(3):
        assert spearmanr(predicted[:, t], actual[:, t]).statistic > 0.9
    # not only the order: the size of a leave-one-out change, with its 1/n
    scale = np.abs(actual).max()
    assert np.abs(predicted - actual).max() < 0.1 * scale


def test_bad_input_is_a_clear_error():
    phi, y, _ = problem()
    with pytest.raises(ValueError, match="unknown explainer"):
        make_explainer("tracin", gamma=1e-5, lmbda=0.003, epochs=10, damping=0.0)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        RPSLJE().fit(phi, y * 2, np.zeros(4))
    with pytest.raises(ValueError, match="expected features"):
        RPSLJE().fit(phi, y, np.zeros(3))
    with pytest.raises(RuntimeError, match="call fit"):
        InfluenceFunction().importance(phi)
    with pytest.raises(ValueError, match="gamma"):
        RPSLJE(gamma=0)


def test_self_importance_puts_flipped_labels_first():
    """Every explainer's debugging score is higher on average for the points whose label was flipped
    (a reversed sign or order would put them last); RPS-l2's ignores the labels and is excluded."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(float)
    flipped = np.zeros(200, dtype=bool)
    flipped[rng.choice(200, 30, replace=False)] = True
    noisy = np.where(flipped, 1 - y, y)
    phi = np.hstack([x, np.ones((200, 1))])
    theta = fit_logistic(phi, noisy, l2=1e-3)
    for explainer in (RPSLJE(gamma=1e-5), InfluenceFunction()):
        score = explainer.fit(phi, noisy, theta).self_importance()
        assert score[flipped].mean() > 2 * score[~flipped].mean(), explainer.name
