"""Real properties of the three last-layer explainers on small logistic problems."""
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from xairepro.rps_lje.debug import fit_logistic
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


def test_rps_l2_stationary_point_reproduces_preactivation():
    phi, y, test = problem()
    explainer = RPSL2(lmbda=0.003, epochs=3000).fit(phi, y, np.zeros(phi.shape[1]))
    assert explainer.grad_norm < 1e-10
    importance = explainer.importance(test)
    assert importance.shape == (len(y), len(test))
    # Σ_i α_i φ(x_i)·φ(x_t) = Θ_λ·φ(x_t) at the stationary point (gap = ∇/(2λ)·φ(x_t), ∇ < 1e-10)
    np.testing.assert_allclose(importance.sum(0), test @ explainer.theta_lambda.numpy(), rtol=0, atol=5e-8)
    # self-importance = |point i's own term in its own decomposition|
    np.testing.assert_allclose(explainer.self_importance(), np.abs(np.diag(explainer.importance(phi))), atol=1e-12)


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
    # The ascent step moved the weights by γ·J(Θ*).
    assert 0 < np.abs(explainer.theta_tilde.numpy() - theta_star).max() < 1e-6


def test_influence_function_agrees_with_leave_one_out():
    lmbda = 0.01
    phi, y, test = problem(n=60, d=3, seed=1)
    test_y = (test[:, 0] > 0).astype(float)
    theta = fit_logistic(phi, y, l2=lmbda)
    predicted = InfluenceFunction(damping=2 * lmbda).fit(phi, y, theta).importance(test[:3], test_y[:3])

    def test_loss(th):
        f = test[:3] @ th
        return np.logaddexp(0, f) - test_y[:3] * f

    actual = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i  # same objective, (1/n) Σ_{j≠i} L_j + λ‖Θ‖²
        theta_i = fit_logistic(phi[keep], y[keep], l2=lmbda * (len(y) - 1) / len(y))
        actual.append(test_loss(theta_i) - test_loss(theta))
    actual = np.array(actual) * (len(y) - 1) / len(y)
    for t in range(3):
        assert spearmanr(predicted[:, t], actual[:, t]).statistic > 0.9


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
