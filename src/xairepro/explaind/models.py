"""The paper's two models, plus the small CPU stand-in, as plain torch modules without batch norm
or dropout: the EPK needs f(x; θ) to be a deterministic function of the parameters alone."""
from __future__ import annotations

import torch
from torch import nn


# ReLU is the paper's; a smooth activation makes f(x; θ) smooth along the path, so the midpoint rule's
# error falls as 1/T² instead of 1/T (ReLU kinks) — the exactness tests use it.
ACTIVATIONS = {"relu": torch.relu, "gelu": nn.functional.gelu}


class ModuloTransformer(nn.Module):
    """One-layer transformer for a + b mod p (input tokens a, b, '='; prediction read at '=').
    Residual stream of width d_model, multi-head attention, ReLU MLP, no layer norm (the grokking
    set-up of Nanda et al., which the paper's modulo experiments follow)."""

    def __init__(self, p: int, d_model: int = 64, n_heads: int = 4, d_mlp: int = 256, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.act = ACTIVATIONS[activation]
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.embed = nn.Embedding(p + 1, d_model)  # token p is '='
        self.pos = nn.Parameter(torch.randn(3, d_model) / d_model ** 0.5)
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.attn_out = nn.Linear(d_model, d_model, bias=False)
        self.mlp_in = nn.Linear(d_model, d_mlp)
        self.mlp_out = nn.Linear(d_mlp, d_model)
        self.unembed = nn.Linear(d_model, p, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos                       # (n, 3, d)
        n, s, d = x.shape
        q, k, v = self.qkv(x).view(n, s, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / (d // self.n_heads) ** 0.5
        causal = torch.ones(s, s, dtype=torch.bool, device=x.device).tril()
        att = scores.masked_fill(~causal, float("-inf")).softmax(-1) @ v   # (n, h, s, d/h)
        x = x + self.attn_out(att.transpose(1, 2).reshape(n, s, d))
        x = x + self.mlp_out(self.act(self.mlp_in(x)))
        return self.unembed(x[:, -1])


class SmallCNN(nn.Module):
    """Two conv layers and a linear head for 8x8 one-channel images (the CPU stand-in for ResNet-9)."""

    def __init__(self, in_channels: int = 1, n_classes: int = 2, width: int = 16, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.act = ACTIVATIONS[activation]
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.head = nn.Linear(2 * width * 4 * 4, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv1(x))
        x = torch.nn.functional.avg_pool2d(self.act(self.conv2(x)), 2)
        return self.head(x.flatten(1))


def _conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False), nn.ReLU())


class _Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.block = nn.Sequential(_conv(c, c), _conv(c, c))

    def forward(self, x):
        return x + self.block(x)


class ResNet9(nn.Module):
    """ResNet-9 of the TRAK CIFAR quick-start (the paper's CIFAR2 model) with the batch norms removed."""

    def __init__(self, n_classes: int = 2):
        super().__init__()
        self.body = nn.Sequential(
            _conv(3, 64), _conv(64, 128, 5, stride=2, padding=2), _Residual(128),
            _conv(128, 256), nn.MaxPool2d(2), _Residual(256), _conv(256, 128, padding=0),
            nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.head = nn.Linear(128, n_classes, bias=False)

    def forward(self, x):
        return self.head(self.body(x))


def build_model(name: str, **kwargs) -> nn.Module:
    """`modulo_transformer` (p, d_model, n_heads, d_mlp), `small_cnn` or `resnet9` (n_classes)."""
    models = {"modulo_transformer": ModuloTransformer, "small_cnn": SmallCNN, "resnet9": ResNet9}
    if name not in models:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(models)}")
    return models[name](**kwargs)
