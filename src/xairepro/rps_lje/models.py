"""The three classifiers of the RPS-LJE paper and their last-layer features φ(x).

Every network ends in one linear unit (binary task): f(x) = w·h(x) + b. Its explainer features are
φ(x) = [h(x), 1] with weights Θ = [w, b]. For XGBoost, φ(x) = [t_1(x)+β, …, t_K(x)+β, 2β] (per-tree
margins, each including the base margin β, and a bias column), Θ = [1, …, 1, −(K−1)/2], so Θ·φ(x)
= Σ_k t_k(x) + β is the booster's margin.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .data import tokenize


class SmallCNN(nn.Module):
    """Two conv layers for 8x8 digit images (the offline stand-in for ResNet-20 on CIFAR)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16, 1)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(-1)


class _BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet20(nn.Module):
    """ResNet-20 for 32x32 images (He et al. 2016, sec. 4.2): 3 stages of 3 basic blocks, 16/32/64 channels."""

    def __init__(self):
        super().__init__()
        layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for block in range(3):
                layers.append(_BasicBlock(cin, cout, stride if block == 0 else 1))
                cin = cout
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(64, 1)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(-1)


class BiLSTM(nn.Module):
    """Bi-LSTM over frozen pretrained word vectors; h(x) = the last layer's final hidden states of both
    directions. The authors' IMDB model: 2 layers, hidden 256, dropout 0.5 between layers."""

    def __init__(self, embeddings: np.ndarray, hidden: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(torch.as_tensor(embeddings, dtype=torch.float32),
                                                  freeze=True, padding_idx=0)
        self.lstm = nn.LSTM(embeddings.shape[1], hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(2 * hidden, 1)

    def features(self, tokens):
        lengths = (tokens != 0).sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return torch.cat([h_n[-2], h_n[-1]], dim=1)

    def forward(self, tokens):
        return self.head(self.features(tokens)).squeeze(-1)


def default_device() -> str:
    """The device set for this process by `use_device` (the step's --device), else auto."""
    return _DEVICE[0] or ("cuda" if torch.cuda.is_available() else "cpu")


_DEVICE: list = [None]


def use_device(setting: str, log=None) -> str:
    """Resolve the step's --device (auto | cpu | cuda) once; training and retraining then use it."""
    from xairepro.device import resolve

    _DEVICE[0] = str(resolve(setting, log))
    return _DEVICE[0]


def build_network(architecture: str, **kwargs) -> nn.Module:
    """A network of the experiment by name (the debugging step rebuilds the trained one from this)."""
    if architecture == "small_cnn":
        return SmallCNN()
    if architecture == "resnet20":
        return ResNet20()
    if architecture == "bilstm":
        embeddings = np.zeros((kwargs["vocab_size"], kwargs["embed_dim"]), dtype=np.float32)  # loaded with the state
        return BiLSTM(embeddings, kwargs["hidden"], kwargs.get("layers", 1), kwargs.get("dropout", 0.0))
    raise ValueError(f"unknown architecture {architecture!r}; choose small_cnn, resnet20 or bilstm")


def glove_vocabulary(texts: list[str], glove_dir: str | Path):
    """Token ids of `texts` (0 = padding, 1 = unknown) and the embedding matrix of the words they use,
    from GloVe 6B-50d (words.txt + vectors.npy of the registry folder)."""
    glove_dir = Path(glove_dir)
    words = (glove_dir / "words.txt").read_text(encoding="utf-8").split("\n")
    index = {w: i for i, w in enumerate(words)}
    vectors = np.load(glove_dir / "vectors.npy", mmap_mode="r")
    used = sorted({w for t in texts for w in tokenize(t) if w in index})
    vocab = {w: i + 2 for i, w in enumerate(used)}
    embeddings = np.zeros((len(used) + 2, vectors.shape[1]), dtype=np.float32)
    embeddings[2:] = vectors[[index[w] for w in used]]
    return vocab, embeddings


def encode(texts: list[str], vocab: dict[str, int], max_len: int) -> np.ndarray:
    ids = np.zeros((len(texts), max_len), dtype=np.int64)
    for row, text in enumerate(texts):
        tokens = [vocab.get(w, 1) for w in tokenize(text)][:max_len] or [1]
        ids[row, :len(tokens)] = tokens
    return ids


def train_network(model: nn.Module, x: np.ndarray, y: np.ndarray, *, optimizer: str, lr: float, epochs: int,
                  batch_size: int, seed: int, weight_decay: float = 0.0, progress: bool = True) -> nn.Module:
    """Minibatch training with the binary cross-entropy (SGD with momentum 0.9 or Adam); the batch
    order and dropout follow `seed`, so the same start, labels and seed give the same model."""
    torch.manual_seed(seed)
    device = next(model.parameters()).device  # the caller moves the model (GPU on a cluster)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = (torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay) if optimizer == "sgd"
           else torch.optim.Adam(params, lr=lr, weight_decay=weight_decay))
    x, y = torch.as_tensor(x), torch.as_tensor(y, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in tqdm(range(epochs), desc="train epochs", disable=not progress):
        for batch in torch.randperm(len(y), generator=generator).split(batch_size):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[batch].to(device)), y[batch].to(device))
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def network_features(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """φ(x) = [h(x), 1] in float64."""
    model.eval()
    device = next(model.parameters()).device
    h = torch.cat([model.features(b.to(device)).cpu() for b in torch.as_tensor(x).split(batch_size)]).double().numpy()
    return np.hstack([h, np.ones((len(h), 1))])


@torch.no_grad()
def network_accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Test accuracy of the binary network (logit > 0 means label 1)."""
    model.eval()
    device = next(model.parameters()).device
    logits = torch.cat([model(b.to(device)).cpu() for b in torch.as_tensor(x).split(batch_size)])
    return float(((logits > 0).numpy() == np.asarray(y)).mean())


def network_weights(model: nn.Module) -> np.ndarray:
    """Θ = [w, b] of the last linear unit."""
    return np.concatenate([model.head.weight.detach().cpu().double().numpy().ravel(),
                           model.head.bias.detach().cpu().double().numpy()])


def xgboost_base_margin(booster) -> float:
    """β: the booster's base score on the margin (logit) scale."""
    raw = json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"]
    p = float(str(raw).strip("[]"))
    return float(np.log(p / (1 - p)))


XGBOOST_FEATURES = ("probability", "margin")


def xgboost_features(booster, x: np.ndarray, kind: str = "margin") -> tuple[np.ndarray, np.ndarray]:
    """(φ(x) (n, K+1), Θ (K+1,)): the booster as a "last layer" over its K trees, Θ = [1, …, 1, −(K−1)/2].

    margin:      φ = [t_1+β, …, t_K+β, 2β]: Θ·φ(x) is exactly the booster's margin Σ_k t_k(x) + β.
    probability: φ = [σ(β+t_1), …, σ(β+t_K), 1], the authors' features (echoyi/RPS_LJE
                 models/Xgboost/train.py: one `predict_proba` per tree and a column of ones). Then
                 Θ·φ = 1/2 + Σ_k (σ(β+t_k) − 1/2), which the explainers treat as the logit: for small
                 tree outputs about 1/2 + margin/4, not the booster's margin.
    """
    import xgboost as xgb

    if kind not in XGBOOST_FEATURES:
        raise ValueError(f"xgboost features must be one of {', '.join(XGBOOST_FEATURES)}, got {kind!r}")
    data = xgb.DMatrix(x)
    n_trees = booster.num_boosted_rounds()
    per_tree = np.column_stack([booster.predict(data, output_margin=True, iteration_range=(k, k + 1))
                                for k in range(n_trees)]).astype(np.float64)  # β + t_k(x)
    beta = xgboost_base_margin(booster)
    weights = np.concatenate([np.ones(n_trees), [-(n_trees - 1) / 2]])
    if kind == "probability":
        return np.column_stack([1 / (1 + np.exp(-per_tree)), np.ones(len(x))]), weights
    return np.column_stack([per_tree, np.full(len(x), 2 * beta)]), weights
