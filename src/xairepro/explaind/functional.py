"""The model as a function of one flat parameter vector θ, and the optimizers as explicit update
rules on θ: the exact path kernel needs both f(x; θ) along arbitrary θ and the decomposition of each
update Δθ_s into its sources, which torch.optim does not expose."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad, vmap


class FlatModel:
    """f(x; θ) = the logit of class y (the output the EPK reconstructs) and the training loss
    ℓ(x, y; θ) = cross-entropy, both as functions of the flat parameter vector θ.

    Parameter groups (the paper's model components) are the module's named parameters;
    `group_index` maps each coordinate of θ to its group."""

    def __init__(self, module: nn.Module, dtype: torch.dtype = torch.float32):
        self.module = module.to(dtype)
        self.names = [n for n, _ in module.named_parameters()]
        self.shapes = [p.shape for _, p in module.named_parameters()]
        self.sizes = [p.numel() for _, p in module.named_parameters()]
        self.dtype = dtype
        self.group_index = torch.repeat_interleave(torch.arange(len(self.sizes)), torch.tensor(self.sizes))

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def initial_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.module.parameters()]).clone()

    def group_mask(self, groups) -> torch.Tensor:
        """Boolean mask over θ of the coordinates in the named parameter groups."""
        unknown = [g for g in groups if g not in self.names]
        if unknown:
            raise ValueError(f"unknown parameter group(s) {', '.join(map(repr, unknown))}; "
                             f"the model has {', '.join(self.names)}")
        keep = torch.tensor([n in groups for n in self.names])
        return keep[self.group_index]

    def splice(self, theta, donor, groups) -> torch.Tensor:
        """θ with the coordinates of `groups` taken from `donor`."""
        return torch.where(self.group_mask(groups).to(theta.device), donor, theta)

    def _params(self, theta):
        return {n: t.view(s) for n, t, s in zip(self.names, torch.split(theta, self.sizes), self.shapes)}

    def logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.module, self._params(theta), (x,))

    def output(self, theta, x, y):
        """f(x; θ) for a batch: the logit of each example's label."""
        return self.logits(theta, x).gather(1, y[:, None])[:, 0]

    def loss(self, theta, x, y):
        """Mean cross-entropy of the batch (the training objective)."""
        return nn.functional.cross_entropy(self.logits(theta, x), y)

    def _single_output(self, theta, x, y):
        return self.output(theta, x[None], y[None])[0]

    def _single_loss(self, theta, x, y):
        return self.loss(theta, x[None], y[None])

    def batch_grad(self, theta, x, y):
        """∇θ of the mean batch loss: the gradient training applies (and the history replays)."""
        return grad(self.loss)(theta, x, y)

    def output_grads(self, thetas, x, y) -> torch.Tensor:
        """∇θ f(x_j; θ_k) for several parameter vectors θ_k (k, P) and test points x_j: (k, n, P)."""
        per_point = vmap(grad(self._single_output), in_dims=(None, 0, 0))
        return vmap(per_point, in_dims=(0, None, None))(thetas, x, y)

    def loss_grads(self, theta, x, y) -> torch.Tensor:
        """Per-example loss gradients ∇θ ℓ(x_i, y_i; θ), (n, P)."""
        return vmap(grad(self._single_loss), in_dims=(None, 0, 0))(theta, x, y)


@dataclass
class UpdateTerms:
    """How one optimizer step Δθ_s is built from its sources, with the optimizer state held fixed:

        m_s = a · m_{s-1} + b · (g_s + λ_c θ_s)          (g_s = mean batch loss gradient)
        Δθ_s = −lr_s · P_s ⊙ m_s − lr_s · λ_d · θ_s

    SGD with momentum μ and (coupled) weight decay: a = μ, b = 1, P_s = 1, λ_c = wd, λ_d = 0.
    AdamW: a = β1, b = 1 − β1, P_s = 1 / ((1 − β1^t)(√(v_s / (1 − β2^t)) + ε)), λ_c = 0, λ_d = wd.
    For AdamW we follow the paper and treat the preconditioner P_s (which depends on the current
    gradient through v_s) as fixed state of step s, so Δθ_s is linear in the per-example gradients."""

    lr: float
    precond: torch.Tensor | float
    a: float
    b: float
    coupled_decay: float
    decoupled_decay: float


class SGD:
    """torch.optim.SGD semantics (dampening 0, no Nesterov): m = μ m + (g + wd θ); θ ← θ − lr m."""

    def __init__(self, momentum: float = 0.0, weight_decay: float = 0.0):
        if not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError(f"SGD needs 0 <= momentum < 1 and weight_decay >= 0 (got {momentum}, {weight_decay})")
        self.momentum, self.weight_decay = momentum, weight_decay

    def init_state(self, theta):
        return {"m": torch.zeros_like(theta), "t": 0}

    def step(self, theta, g, state, lr):
        m = self.momentum * state["m"] + (g + self.weight_decay * theta)
        terms = UpdateTerms(lr, 1.0, self.momentum, 1.0, self.weight_decay, 0.0)
        return theta - lr * m, {"m": m, "t": state["t"] + 1}, terms


class AdamW:
    """torch.optim.AdamW semantics: θ ← θ(1 − lr wd) − lr m̂ / (√v̂ + ε)."""

    def __init__(self, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        if not all(0 <= b < 1 for b in betas) or eps <= 0 or weight_decay < 0:
            raise ValueError(f"AdamW needs betas in [0, 1), eps > 0, weight_decay >= 0 (got {betas}, {eps}, {weight_decay})")
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def init_state(self, theta):
        return {"m": torch.zeros_like(theta), "v": torch.zeros_like(theta), "t": 0}

    def step(self, theta, g, state, lr):
        b1, b2 = self.betas
        t = state["t"] + 1
        m = b1 * state["m"] + (1 - b1) * g
        v = b2 * state["v"] + (1 - b2) * g * g
        precond = 1.0 / ((1 - b1 ** t) * ((v / (1 - b2 ** t)).sqrt() + self.eps))
        new = theta * (1 - lr * self.weight_decay) - lr * precond * m
        return new, {"m": m, "v": v, "t": t}, UpdateTerms(lr, precond, b1, 1 - b1, 0.0, self.weight_decay)


def build_optimizer(settings: dict):
    """From the config: {"name": "sgd", "momentum", "weight_decay"} or {"name": "adamw", "betas", "eps", "weight_decay"}."""
    kwargs = {k: v for k, v in settings.items() if k not in ("name", "lr", "schedule", "peak_epoch")}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if settings["name"] == "sgd":
        return SGD(**kwargs)
    if settings["name"] == "adamw":
        return AdamW(**kwargs)
    raise ValueError(f"unknown optimizer {settings['name']!r}; choose sgd or adamw")
