"""Three training-point explainers of a binary classifier's last layer (Sui, Wu & Sanner, NeurIPS 2021).

All three see the model only through its last layer: the pre-activation is f(x) = Θ·φ(x), with φ(x)
the features feeding the last layer (a constant column appended when the layer has a bias, the
per-tree outputs for XGBoost) and the loss the binary cross-entropy L(f, y), y ∈ {0, 1}.
Common interface, in the style of dattri/captum:

    explainer = RPSLJE(gamma=1e-5)                      # __init__: what defines the variant
    explainer.fit(features, labels, weights)            # training φ(x_i), y_i, trained Θ*
    explainer.importance(test_features)                 # (n_train, n_test) matrix
    explainer.self_importance()                         # (n_train,) score for dataset debugging

Everything is float64 torch with the exact (closed-form) gradient and Hessian of the binary
cross-entropy: the last layer has at most a few hundred parameters, so H is small and solved exactly.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["RPSLJE", "RPSL2", "InfluenceFunction", "EXPLAINERS", "make_explainer"]


def _tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def mean_loss_gradient(theta: torch.Tensor, phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J(Θ) = (1/n) Σ_i ∂L(Θ·φ_i, y_i)/∂Θ = (1/n) Σ_i (σ(f_i) − y_i) φ_i."""
    return ((torch.sigmoid(phi @ theta) - y) @ phi) / len(y)


def mean_loss_hessian(theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """H(Θ) = (1/n) Σ_i σ(f_i)(1 − σ(f_i)) φ_i φ_iᵀ (exact for the binary cross-entropy)."""
    p = torch.sigmoid(phi @ theta)
    return (phi * (p * (1 - p))[:, None]).T @ phi / len(phi)


def mean_loss(theta: torch.Tensor, phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(phi @ theta, y)


class _LastLayerExplainer:
    """Shared input checks; subclasses set `_fitted` state in `_fit`."""

    name = ""

    def fit(self, features, labels, weights) -> "_LastLayerExplainer":
        """features: (n_train, d) φ(x_i); labels: (n_train,) in {0, 1}; weights: (d,) trained Θ*."""
        phi, y, theta = _tensor(features), _tensor(labels), _tensor(weights)
        if phi.ndim != 2 or y.shape != (phi.shape[0],) or theta.shape != (phi.shape[1],):
            raise ValueError(f"expected features (n, d), labels (n,), weights (d,); got {tuple(phi.shape)}, "
                             f"{tuple(y.shape)}, {tuple(theta.shape)}")
        if not torch.all((y == 0) | (y == 1)):
            raise ValueError("labels must be 0 or 1 (binary last layer)")
        self.phi, self.y, self.theta_star = phi, y, theta
        self._fit()
        return self

    def _check_fitted(self):
        if not hasattr(self, "phi"):
            raise RuntimeError(f"{type(self).__name__}: call fit(features, labels, weights) first")

    def importance(self, test_features, test_labels=None) -> np.ndarray:
        """(n_train, n_test) importance of training point i for test point t (see the subclass)."""
        self._check_fitted()
        phi_t = _tensor(test_features)
        if phi_t.ndim != 2 or phi_t.shape[1] != self.phi.shape[1]:
            raise ValueError(f"test features must be (n_test, {self.phi.shape[1]}); got {tuple(phi_t.shape)}")
        return self._importance(phi_t, None if test_labels is None else _tensor(test_labels)).numpy()

    def self_importance(self) -> np.ndarray:
        """(n_train,) how much each training point explains its own prediction; ranks points for debugging."""
        self._check_fitted()
        return self._self_importance().numpy()


class RPSLJE(_LastLayerExplainer):
    """RPS-LJE (Sui et al. 2021, sec. 3): representer points from a local Jacobian expansion.

    From the trained Θ*, one gradient-ascent step on the training loss gives Θ̃ = Θ* + γ J(Θ*). A
    first-order expansion of the Jacobian around Θ̃ (J(Θ†) ≈ J(Θ̃) + H_Θ̃ (Θ† − Θ̃) = 0) gives
    Θ† = Θ̃ − H_Θ̃⁻¹ J(Θ̃) = Σ_i (1/n) [Θ̃ − H_Θ̃⁻¹ ∂L(x_i, y_i)/∂Θ], which approximates Θ* (exactly so
    at a stationary Θ*). The paper writes the i-th term as α_i ⊙ φ(x_i) (α_i = term ⊘ φ(x_i));
    we keep the product, `contribution[i]` = α_i ⊙ φ(x_i), which is the same number without dividing
    by feature values that are 0 after a ReLU. Then Θ†·φ(x_t) = Σ_i contribution[i]·φ(x_t).

    importance[i, t] = contribution[i]·φ(x_t).
    self_importance[i] = |(1/n) (H_Θ̃⁻¹ ∂L(x_i, y_i)/∂Θ)·φ(x_i)|: the Jacobian part of point i's
    contribution to its own prediction. The Θ̃ part, (1/n) Θ̃·φ(x_i), is the same for every point up
    to its own logit and does not depend on its label, so it is left out of the debugging ranking.

    Args:
        gamma: step size γ of the gradient-ascent step. Default: 1e-5 (paper).
        damping: added to the diagonal of H before solving (dead features make H singular). Default: 1e-3.
    """

    name = "lje"

    def __init__(self, gamma: float = 1e-5, damping: float = 1e-3):
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        if damping < 0:
            raise ValueError(f"damping must be >= 0, got {damping}")
        self.gamma, self.damping = gamma, damping

    def _fit(self):
        phi, y, n = self.phi, self.y, len(self.y)
        self.theta_tilde = self.theta_star + self.gamma * mean_loss_gradient(self.theta_star, phi, y)
        hessian = mean_loss_hessian(self.theta_tilde, phi) + self.damping * torch.eye(phi.shape[1], dtype=phi.dtype)
        per_point_grads = (torch.sigmoid(phi @ self.theta_tilde) - y)[:, None] * phi  # ∂L(x_i)/∂Θ at Θ̃
        self.h_inv_grads = torch.linalg.solve(hessian, per_point_grads.T).T  # (n, d)
        self.contribution = (self.theta_tilde[None, :] - self.h_inv_grads) / n
        self.theta_dagger = self.contribution.sum(0)

    def _importance(self, phi_t, _labels):
        return self.contribution @ phi_t.T

    def _self_importance(self):
        return ((self.h_inv_grads * self.phi).sum(1) / len(self.y)).abs()


class RPSL2(_LastLayerExplainer):
    """RPS-l2 (Yeh et al. 2018), as compared in Sui et al. 2021.

    Fine-tunes the last layer to a stationary point Θ_λ of (1/n) Σ_i L(Θ·φ_i, y_i) + λ‖Θ‖², starting
    from Θ*, by gradient descent with a backtracking (Armijo) line search. At a stationary point
    Θ_λ = Σ_i α_i φ(x_i) with α_i = −1/(2λn) ∂L(x_i, y_i)/∂f_i, so Θ_λ·φ(x_t) = Σ_i α_i φ(x_i)·φ(x_t).

    importance[i, t] = α_i φ(x_i)·φ(x_t);  self_importance[i] = |α_i| ‖φ(x_i)‖².

    Args:
        lmbda: l2 strength λ. Default: 0.003 (paper).
        epochs: most gradient-descent steps (full batch). Default: 3000 (paper).
        tol: stop when ‖∇‖ < tol. Default: 1e-10.
    """

    name = "rps_l2"

    def __init__(self, lmbda: float = 0.003, epochs: int = 3000, tol: float = 1e-10):
        if not lmbda > 0:
            raise ValueError(f"lmbda must be > 0, got {lmbda}")
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.lmbda, self.epochs, self.tol = lmbda, epochs, tol

    def _objective(self, theta):
        return mean_loss(theta, self.phi, self.y) + self.lmbda * theta @ theta

    def _fit(self):
        theta, step = self.theta_star.clone(), 1.0
        for self.epochs_run in range(1, self.epochs + 1):
            grad = mean_loss_gradient(theta, self.phi, self.y) + 2 * self.lmbda * theta
            self.grad_norm = float(grad.norm())
            if self.grad_norm < self.tol:
                break
            value, step = self._objective(theta), step * 2  # let the step grow back after a short one
            while self._objective(theta - step * grad) > value - 0.5 * step * grad @ grad and step > 1e-20:
                step /= 2
            theta = theta - step * grad
        self.theta_lambda = theta
        self.alpha = -(torch.sigmoid(self.phi @ theta) - self.y) / (2 * self.lmbda * len(self.y))

    def _importance(self, phi_t, _labels):
        return self.alpha[:, None] * (self.phi @ phi_t.T)

    def _self_importance(self):
        return self.alpha.abs() * (self.phi * self.phi).sum(1)


class InfluenceFunction(_LastLayerExplainer):
    """Influence functions (Koh & Liang 2017) restricted to the last layer, exact Hessian at Θ*.

    importance[i, t] = (1/n) ∇L(x_t)ᵀ H⁻¹ ∇L(x_i): the first-order change of the test loss when
    point i is left out (> 0: removing i hurts, i.e. i supports the prediction). The test loss uses
    `test_labels`, by default the model's own prediction (the prediction being explained).
    self_importance[i] = (1/n) ∇L(x_i)ᵀ H⁻¹ ∇L(x_i) (self-influence).

    Args:
        damping: added to the diagonal of H (for an l2 penalty λ‖Θ‖² in training, pass 2λ). Default: 1e-3.
    """

    name = "if"

    def __init__(self, damping: float = 1e-3):
        if damping < 0:
            raise ValueError(f"damping must be >= 0, got {damping}")
        self.damping = damping

    def _grads(self, phi, y):
        return (torch.sigmoid(phi @ self.theta_star) - y)[:, None] * phi

    def _fit(self):
        hessian = mean_loss_hessian(self.theta_star, self.phi)
        hessian = hessian + self.damping * torch.eye(len(hessian), dtype=hessian.dtype)
        self.grads = self._grads(self.phi, self.y)
        self.h_inv_grads = torch.linalg.solve(hessian, self.grads.T).T

    def _importance(self, phi_t, labels):
        if labels is None:
            labels = (phi_t @ self.theta_star > 0).to(phi_t.dtype)
        return self.h_inv_grads @ self._grads(phi_t, labels).T / len(self.y)

    def _self_importance(self):
        return (self.h_inv_grads * self.grads).sum(1) / len(self.y)


EXPLAINERS = {cls.name: cls for cls in (RPSLJE, RPSL2, InfluenceFunction)}


def make_explainer(name: str, *, gamma: float, lmbda: float, epochs: int, damping: float) -> _LastLayerExplainer:
    """The explainer called `name` with the configured settings."""
    if name == "lje":
        return RPSLJE(gamma=gamma, damping=damping)
    if name == "rps_l2":
        return RPSL2(lmbda=lmbda, epochs=epochs)
    if name == "if":
        return InfluenceFunction(damping=damping)
    raise ValueError(f"unknown explainer {name!r}; choose one of {', '.join(EXPLAINERS)}")
