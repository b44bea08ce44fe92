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
from torch.func import jvp, vmap
from tqdm import tqdm

from .functional import FlatModel
from .history import History


@dataclass
class EPKResult:
    """Outputs of ExPLAIND.attribute (n test points, N training examples, S steps, K groups, P params).

    initial (n,): f(x; θ_0).  final (n,): f(x; θ_S) of the trained model.
    data (n, N) or None (attribute(..., data_attribution=False)): A(x, i), example i's kernel terms summed
        over all steps.
    data_total (n,): Σ_i A(x, i), the training data's share (computed from the batch-mean gradients when the
        per-example split is skipped).
    decay (n,): the weight-decay (non-data) share D(x).
    step_component (n, S, K): ḡ_s(x)[k] · Δθ_s[k]; summed over k: step attribution, over s: component.
    step_decay (n, S, K): weight decay's source at step s per component, −lr_s λ_d ḡ_s[k]·θ_s[k] −
        b λ_c G_s[k]·θ_s[k]; sums to D(x). With decoupled decay only (AdamW) it is exactly step s's weight-decay
        part of ḡ_s·Δθ_s, so step_component − step_decay is the data part of each step and component; a coupled
        decay (SGD) reaches the update through the momentum, over the next ~1/(1 − momentum) steps.
    weight (P,): Σ_x Σ_s ḡ_s(x) ⊙ Δθ_s, the per-parameter component attribution (the signed pruning score).
    point_weight (n, P) or None (attribute(..., point_weight=True)): per explained output the per-parameter
        kernel Σ_r −b g_r ⊙ G_r(x) = Σ_s ḡ_s(x) ⊙ Δθ_s^data, the data (kernel) share of the update only,
        without weight decay: the authors' `param_kernel`, whose |·| summed over points and outputs is
        their pruning score.
    """

    initial: np.ndarray
    final: np.ndarray
    data: np.ndarray | None
    data_total: np.ndarray
    decay: np.ndarray
    step_component: np.ndarray
    step_decay: np.ndarray
    weight: np.ndarray
    point_weight: np.ndarray | None = None

    @property
    def reconstruction(self) -> np.ndarray:
        """f(x; θ_0) + Σ_i A(x, i) + D(x): the EPK prediction."""
        return self.initial + self.data_total + self.decay

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

    def attribute(self, x_test, y_test, progress: bool = True, point_weight: bool = False,
                  data_attribution: bool = True) -> EPKResult:
        """Data, weight-decay, step × component and per-parameter attributions for the test points
        (f = logit y_test of x_test; all_outputs() makes the pairs that explain every logit); with
        `point_weight`, also the per-output per-parameter kernel (EPKResult.point_weight, n × P). Without
        `data_attribution` the per-example split A(x, i) is skipped (EPKResult.data is None): each step then
        needs one batch-mean gradient instead of one gradient per training example, and the training data's
        total share is −b G_s · g_s summed over steps."""
        if point_weight and not data_attribution:
            raise ValueError("point_weight needs data_attribution (it sums the per-example gradients)")
        model, hist = self.model, self.history
        n, n_train, n_groups = len(x_test), len(self.x_train), len(model.sizes)
        like = dict(dtype=hist.initial_params().dtype, device=x_test.device)
        adjoint = torch.zeros(n, model.n_params, **like)              # G_{s+1}(x)
        data = torch.zeros(n, n_train, **like) if data_attribution else None
        data_total = None if data_attribution else torch.zeros(n, **like)   # with the split: data's row sums
        decay = torch.zeros(n, **like)
        step_component = torch.zeros(n, hist.n_steps, n_groups, **like)
        step_decay = torch.zeros(n, hist.n_steps, n_groups, **like)
        weight = torch.zeros(model.n_params, **like)
        per_point = torch.zeros(n, model.n_params, **like) if point_weight else None
        groups = model.group_index.to(x_test.device)
        grouped = lambda v: torch.zeros(n, n_groups, **like).index_add_(1, groups, v)  # noqa: E731  (n, P) -> (n, K)
        bar = tqdm(total=hist.n_steps, desc="EPK (backward over steps)", disable=not progress, mininterval=10)
        for c in reversed(range(hist.n_chunks)):
            steps, theta_next = hist.replay_chunk(c, model, self.optimizer, self.x_train, self.y_train)
            for step in reversed(steps):
                t = step.terms
                delta = theta_next - step.theta
                gbar = self.path_gradient(step.theta, delta, x_test, y_test)
                contrib = gbar * delta
                step_component[:, step.index] = grouped(contrib)
                weight += contrib.sum(0)
                adjoint = t.a * adjoint + t.lr * t.precond * gbar              # G_s
                # the same weight-decay source per parameter, grouped; D(x) keeps its dot products (same rounding)
                step_decay[:, step.index] = grouped(
                    -(t.b * t.coupled_decay * adjoint + t.lr * t.decoupled_decay * gbar) * step.theta)
                decay -= t.b * t.coupled_decay * (adjoint @ step.theta) + t.lr * t.decoupled_decay * (gbar @ step.theta)
                batch = torch.arange(n_train, device=x_test.device) if step.batch is None else step.batch.long()
                if not data_attribution:               # the batch's kernel terms in one: −b G_s · g_s
                    g_mean = model.batch_grad(step.theta, self.x_train[batch], self.y_train[batch])
                    data_total -= t.b * (adjoint @ g_mean)
                else:
                    g_sum = torch.zeros(model.n_params, **like) if point_weight else None
                    for i in range(0, len(batch), self.chunk):
                        idx = batch[i:i + self.chunk]
                        grads = model.loss_grads(step.theta, self.x_train[idx], self.y_train[idx])
                        data.index_add_(1, idx, -(t.b / len(batch)) * (adjoint @ grads.T))
                        if point_weight:
                            g_sum += grads.sum(0)
                    if point_weight:              # −b g_r ⊙ G_r(x): the data source of step r, per parameter
                        per_point -= (t.b / len(batch)) * adjoint * g_sum
                theta_next = step.theta
                bar.update()
        bar.close()
        f0 = model.output(hist.initial_params(), x_test, y_test)
        fS = model.output(hist.final_params(), x_test, y_test)
        as_np = lambda v: v.detach().cpu().numpy()
        data = None if data is None else as_np(data)
        # with the per-example split the total is its sum, in numpy (the rounding of the reconstruction as before)
        return EPKResult(as_np(f0), as_np(fS), data, data.sum(1) if data is not None else as_np(data_total), as_np(decay),
                         as_np(step_component), as_np(step_decay), as_np(weight),
                         None if per_point is None else as_np(per_point))

    def path_logits(self, x_test, integration_steps: list[int], progress: bool = True) -> dict:
        """The EPK prediction of EVERY logit, f(x; θ_0) + Σ_s ḡ_s(x) · Δθ_s, per T in `integration_steps`
        (midpoint rule, the same nodes as path_gradient): {"initial": (n, C), "final": (n, C), T: (n, C)}.

        ḡ_s(x) · Δθ_s is the sum of step s's kernel terms over its batch plus its weight-decay term (the
        optimizer's update is split exactly and linearly into those sources), so this is the kernel
        reconstruction of all C outputs. It is computed as forward-mode derivatives of the logits along
        Δθ_s (one jvp gives all C outputs), not output by output, which would cost C backward passes per
        point and node; attribute() on all_outputs() pairs gives the same numbers (a test checks it)."""
        Ts = sorted(set(int(T) for T in integration_steps))
        if not Ts or Ts[0] < 1:
            raise ValueError(f"integration_steps must be a non-empty list of values >= 1 (got {integration_steps})")
        model, hist = self.model, self.history
        theta0 = hist.initial_params()
        initial = model.logits(theta0, x_test).detach()
        change = {T: torch.zeros_like(initial) for T in Ts}
        tangent = lambda theta, delta: jvp(lambda th: model.logits(th, x_test), (theta,), (delta,))[1]  # noqa: E731
        per_call = max(1, self.chunk // max(1, len(x_test)))
        bar = tqdm(total=hist.n_steps, desc="EPK logits (forward over steps)", disable=not progress, mininterval=10)
        for c in range(hist.n_chunks):
            steps, theta_end = hist.replay_chunk(c, model, self.optimizer, self.x_train, self.y_train)
            for j, step in enumerate(steps):
                theta_next = steps[j + 1].theta if j + 1 < len(steps) else theta_end
                delta = theta_next - step.theta
                for T in Ts:
                    t_k = (torch.arange(T, dtype=delta.dtype, device=delta.device) + 0.5) / T
                    nodes = step.theta + t_k[:, None] * delta
                    total = torch.zeros_like(initial)
                    for k in range(0, T, per_call):
                        total += vmap(tangent, in_dims=(0, None))(nodes[k:k + per_call], delta).sum(0)
                    change[T] += total / T
                bar.update()
        bar.close()
        out = {"initial": initial, "final": model.logits(hist.final_params(), x_test).detach()}
        out.update({T: initial + change[T] for T in Ts})
        return {k: v.detach().cpu().numpy() for k, v in out.items()}


def all_outputs(x: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, class) pairs that make attribute() explain every logit: x repeated n_classes times (point-major)
    and the class index 0..C−1 as the explained 'label'; reshape results to (n, C, ...)."""
    return x.repeat_interleave(n_classes, 0), torch.arange(n_classes, device=x.device).repeat(len(x))
