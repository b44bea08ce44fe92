"""ExPLAIND by streaming: the exact path kernel of a training run, accumulated step by step into
data, component and step attributions, without ever holding the kernel.

For test point x and training step s (θ_s → θ_{s+1} = θ_s + Δθ_s):

    f(x; θ_{s+1}) − f(x; θ_s) = ∫_0^1 ∇f(x; θ_s + tΔθ_s) · Δθ_s dt ≈ ḡ_s(x) · Δθ_s,
    ḡ_s(x) = (1/T) Σ_k ∇f(x; θ_s + (k + ½)/T · Δθ_s)          (midpoint rule; paper T = 100)

With the optimizer state fixed (functional.UpdateTerms), Δθ_s = −lr_s P_s ⊙ m_s − lr_s λ_d θ_s and
m_s = a m_{s−1} + b (g_s + λ_c θ_s), g_s = (1/B) Σ_{i∈batch s} ∇ℓ_i(θ_s). Unrolling the momentum, the
source u_r = g_r + λ_c θ_r of step r reaches every later update, and its total effect on f(x) is
−b u_r · G_r(x) with the adjoint

    G_r(x) = Σ_{s≥r} a^{s−r} lr_s P_s ⊙ ḡ_s(x),      G_r = lr_r P_r ⊙ ḡ_r + a G_{r+1}.

So the EPK decomposition f(x; θ_S) ≈ f(x; θ_0) + Σ_i A(x, i) + D(x) has data attribution
A(x, i) = Σ_{r: i∈batch r} −(b/B) ∇ℓ_i(θ_r) · G_r(x) (the kernel terms K_r(x, x_i) summed over steps) and
a non-data weight-decay share D(x). We sweep the steps backwards (chunk by chunk, each replayed
forwards from its checkpoint), keep G (n_test × P), and add into A (n_test × n_train), the
per-step/per-component terms ḡ_s[k] · Δθ_s[k] (n_test × S × groups) and a per-parameter sum (P):
memory is O(n_test · P + (K + chunk) · P + outputs), K = steps per history chunk (their θ_s, and
P_s for AdamW, are held while the chunk is swept), independent of n_train · P and of S · P.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from .functional import FlatModel
from .history import History


@dataclass
class EPKResult:
    """Outputs of ExPLAIND.attribute (n test points, N training examples, S steps, K groups, P params).

    initial (n,): f(x; θ_0).  final (n,): f(x; θ_S) of the trained model.
    data (n, N): A(x, i), example i's kernel terms summed over all steps.
    decay (n,): the weight-decay (non-data) share D(x).
    step_component (n, S, K): ḡ_s(x)[k] · Δθ_s[k]; summed over k: step attribution, over s: component.
    weight (P,): Σ_x Σ_s ḡ_s(x) ⊙ Δθ_s, the per-parameter component attribution (used for pruning).
    """

    initial: np.ndarray
    final: np.ndarray
    data: np.ndarray
    decay: np.ndarray
    step_component: np.ndarray
    weight: np.ndarray

    @property
    def reconstruction(self) -> np.ndarray:
        """f(x; θ_0) + Σ_i A(x, i) + D(x): the EPK prediction."""
        return self.initial + self.data.sum(1) + self.decay

    def relative_error(self) -> float:
        """‖EPK prediction − f(x; θ_S)‖ / ‖f(x; θ_S)‖ over the test points (the fidelity test)."""
        return float(np.linalg.norm(self.reconstruction - self.final) / np.linalg.norm(self.final))


class ExPLAIND:
    """Exact path kernel attribution of a recorded training run (Eichin et al. 2025), by streaming.

    Args:
        model: the FlatModel trained (f(x; θ) = logit of x's label).
        optimizer: the functional optimizer (functional.SGD / AdamW) that made the history.
        history: the recorded run (history.History, already checked against model/config/data).
        x_train, y_train: the training set the history's batch indices refer to.
        integration_steps: T, midpoint-rule points per step. Default: 100 (the paper's 0.01).
        chunk: how many (path point, test point) gradients, and how many per-example ∇ℓ_i, one vmap
            call computes (the memory knob: a call holds chunk × P numbers).
    """

    def __init__(self, model: FlatModel, optimizer, history: History, x_train, y_train,
                 integration_steps: int = 100, chunk: int = 256):
        if integration_steps < 1 or chunk < 1:
            raise ValueError(f"integration_steps and chunk must be >= 1 (got {integration_steps}, {chunk})")
        self.model, self.optimizer, self.history = model, optimizer, history
        self.x_train, self.y_train = x_train, y_train
        self.T, self.chunk = integration_steps, chunk

    def path_gradient(self, theta, delta, x, y) -> torch.Tensor:
        """ḡ_s(x) = (1/T) Σ_k ∇f(x; θ_s + (k + ½)/T Δθ_s), (n, P)."""
        total = torch.zeros(len(x), len(theta), dtype=theta.dtype, device=theta.device)
        points = theta + ((torch.arange(self.T, dtype=theta.dtype, device=theta.device) + 0.5) / self.T)[:, None] * delta
        per_call_t = max(1, self.chunk // len(x))
        per_call_x = min(len(x), self.chunk)
        for k in range(0, self.T, per_call_t):
            for j in range(0, len(x), per_call_x):
                grads = self.model.output_grads(points[k:k + per_call_t], x[j:j + per_call_x], y[j:j + per_call_x])
                total[j:j + per_call_x] += grads.sum(0)
        return total / self.T

    def attribute(self, x_test, y_test, progress: bool = True) -> EPKResult:
        """Data, weight-decay, step × component and per-parameter attributions for the test points."""
        model, hist = self.model, self.history
        n, n_train, n_groups = len(x_test), len(self.x_train), len(model.sizes)
        like = dict(dtype=hist.initial_params().dtype, device=x_test.device)
        adjoint = torch.zeros(n, model.n_params, **like)              # G_{s+1}(x)
        data = torch.zeros(n, n_train, **like)
        decay = torch.zeros(n, **like)
        step_component = torch.zeros(n, hist.n_steps, n_groups, **like)
        weight = torch.zeros(model.n_params, **like)
        groups = model.group_index.to(x_test.device)
        bar = tqdm(total=hist.n_steps, desc="EPK (backward over steps)", disable=not progress, mininterval=10)
        for c in reversed(range(hist.n_chunks)):
            steps, theta_next = hist.replay_chunk(c, model, self.optimizer, self.x_train, self.y_train)
            for step in reversed(steps):
                t = step.terms
                delta = theta_next - step.theta
                gbar = self.path_gradient(step.theta, delta, x_test, y_test)
                contrib = gbar * delta
                step_component[:, step.index] = torch.zeros(n, n_groups, **like).index_add_(1, groups, contrib)
                weight += contrib.sum(0)
                adjoint = t.a * adjoint + t.lr * t.precond * gbar              # G_s
                decay -= t.b * t.coupled_decay * (adjoint @ step.theta) + t.lr * t.decoupled_decay * (gbar @ step.theta)
                batch = torch.arange(n_train, device=x_test.device) if step.batch is None else step.batch.long()
                for i in range(0, len(batch), self.chunk):
                    idx = batch[i:i + self.chunk]
                    grads = model.loss_grads(step.theta, self.x_train[idx], self.y_train[idx])
                    data.index_add_(1, idx, -(t.b / len(batch)) * (adjoint @ grads.T))
                theta_next = step.theta
                bar.update()
        bar.close()
        f0 = model.output(hist.initial_params(), x_test, y_test)
        fS = model.output(hist.final_params(), x_test, y_test)
        as_np = lambda v: v.detach().cpu().numpy()
        return EPKResult(as_np(f0), as_np(fS), as_np(data), as_np(decay), as_np(step_component), as_np(weight))
