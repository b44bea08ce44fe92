"""Materialising reference for the exact path kernel, written from the paper (for tests and the
benchmark only): it keeps, as the authors' code does, one momentum buffer per training example
(N × P) and the full per-step kernel shares (S × n × N), going forwards over the steps.

At step s the update is split into its sources, Δθ_s = Σ_i U_{s,i} + U_{s,decay}, with
U_{s,i} = −lr_s P_s ⊙ M_{s,i} and per-example buffers M_{s,i} = a M_{s−1,i} + (b/B) ∇ℓ_i(θ_s) [i in batch s];
share(s, x, i) = ḡ_s(x) · U_{s,i}. So share(s, x, ·) sums (with the decay share) to ḡ_s(x) · Δθ_s,
that step's output change, and Σ_s share(s, x, i) is the streaming data attribution A(x, i)."""
from __future__ import annotations

import torch

from .explainer import ExPLAIND


def materialised_epk(explainer: ExPLAIND, x_test, y_test) -> tuple[torch.Tensor, torch.Tensor]:
    """(shares (S, n, N), decay shares (S, n)) of every step, by the forward materialising method."""
    model, hist = explainer.model, explainer.history
    n_train = len(explainer.x_train)
    dtype = hist.initial_params().dtype
    buffers = torch.zeros(n_train, model.n_params, dtype=dtype)
    decay_buffer = torch.zeros(model.n_params, dtype=dtype)
    shares = torch.zeros(hist.n_steps, len(x_test), n_train, dtype=dtype)
    decay_shares = torch.zeros(hist.n_steps, len(x_test), dtype=dtype)
    for c in range(hist.n_chunks):
        steps, theta_end = hist.replay_chunk(c, model, explainer.optimizer, explainer.x_train, explainer.y_train)
        for j, step in enumerate(steps):
            t = step.terms
            theta_next = steps[j + 1].theta if j + 1 < len(steps) else theta_end
            gbar = explainer.path_gradient(step.theta, theta_next - step.theta, x_test, y_test)
            batch = torch.arange(n_train) if step.batch is None else step.batch.long()
            grads = model.loss_grads(step.theta, explainer.x_train[batch], explainer.y_train[batch])
            buffers *= t.a
            buffers.index_add_(0, batch, (t.b / len(batch)) * grads)
            decay_buffer = t.a * decay_buffer + t.b * t.coupled_decay * step.theta
            scaled = t.lr * t.precond * gbar
            shares[step.index] = -scaled @ buffers.T
            decay_shares[step.index] = -(scaled @ decay_buffer) - t.lr * t.decoupled_decay * (gbar @ step.theta)
    return shares, decay_shares
