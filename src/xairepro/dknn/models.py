"""Chainer text classifiers of the DkNN paper (Wallace et al. 2018, section 3): an encoder (word CNN
with filter widths 3/4/5 x 100 maps, word LSTM, word BiLSTM or character BiLSTM), then MLP layers
of `unit` (300) ReLU units, then a linear output. `layers()` returns the activations the DkNN
indexes: the encoder's output and every MLP hidden layer."""
from __future__ import annotations

import json
from pathlib import Path

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from tqdm import tqdm

MODELS = ("cnn", "lstm", "bilstm", "char_bilstm")


class TextClassifier(chainer.Chain):
    """kind: one of MODELS. Padding is id -1 (a zero embedding), so batches of uneven lengths
    give the same outputs as one sentence at a time for the recurrent encoders."""

    def __init__(self, kind: str, n_vocab: int, n_class: int, embed_size: int, unit: int = 300,
                 mlp_layers: int = 1, dropout: float = 0.4, widths: tuple[int, ...] = (3, 4, 5),
                 maps: int = 100):
        if kind not in MODELS:
            raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
        super().__init__()
        self.kind, self.dropout, self.widths = kind, dropout, tuple(widths)
        with self.init_scope():
            self.embed = L.EmbedID(n_vocab, embed_size, ignore_label=-1)
            if kind == "cnn":
                self.convs = chainer.ChainList(*[L.Convolution2D(1, maps, ksize=(w, embed_size)) for w in widths])
                encoded = maps * len(widths)
            else:
                rnn = L.NStepLSTM if kind == "lstm" else L.NStepBiLSTM
                self.rnn = rnn(1, embed_size, unit, dropout)
                encoded = unit if kind == "lstm" else 2 * unit
            sizes = [encoded] + [unit] * mlp_layers
            self.mlp = chainer.ChainList(*[L.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
            self.out = L.Linear(sizes[-1], n_class)

    def embed_texts(self, xs: list[np.ndarray]) -> list[chainer.Variable]:
        """One (length, embed_size) embedding matrix per text: gradient saliency differentiates these."""
        lengths = np.cumsum([len(x) for x in xs])[:-1]
        return list(F.split_axis(self.embed(np.concatenate(xs)), lengths, axis=0))

    def layers(self, embedded: list[chainer.Variable]) -> list[chainer.Variable]:
        """[encoder output, MLP hidden layer 1, ..., logits], each of shape (batch, size)."""
        if self.kind == "cnn":
            h = F.concat([self._conv_max(embedded, conv, w) for conv, w in zip(self.convs, self.widths)], axis=1)
        else:
            hy, _, _ = self.rnn(None, None, embedded)
            h = hy[-1] if self.kind == "lstm" else F.concat([hy[-2], hy[-1]], axis=1)
        acts = [h]
        for linear in self.mlp:
            h = F.relu(linear(F.dropout(h, self.dropout)))
            acts.append(h)
        acts.append(self.out(F.dropout(h, self.dropout)))
        return acts

    @staticmethod
    def _conv_max(embedded, conv, width):
        """ReLU of the max over the windows lying inside each text (a text shorter than the filter
        is zero-padded to its width), so a text's features do not depend on the rest of the batch."""
        lengths = np.array([max(len(e), width) for e in embedded])
        h = conv(F.pad_sequence(embedded, length=lengths.max(), padding=0.0)[:, None])  # (B, maps, T-w+1, 1)
        inside = np.arange(h.shape[2])[None, :] <= (lengths - width)[:, None]
        inside = np.broadcast_to(inside[:, None, :, None], h.shape)
        h = F.where(inside, h, np.full(h.shape, -1e30, h.dtype))
        return F.relu(F.max(h, axis=(2, 3)))

    def forward(self, xs: list[np.ndarray]) -> chainer.Variable:
        return self.layers(self.embed_texts(xs))[-1]


def build_model(args: dict, n_vocab: int, n_class: int) -> TextClassifier:
    return TextClassifier(args["model"], n_vocab, n_class, args["embed_size"], args["unit"],
                          args["mlp_layers"], args["dropout"])


def load_trained(model_dir: str | Path) -> tuple[TextClassifier, dict, dict]:
    """The model, vocabulary and args written by xairepro.dknn.train into model_dir."""
    model_dir = Path(model_dir)
    args = json.loads((model_dir / "args.json").read_text())
    vocab = json.loads((model_dir / "vocab.json").read_text())
    model = build_model(args, len(vocab), args["n_class"])
    chainer.serializers.load_npz(model_dir / "best_model.npz", model)
    return model, vocab, args


def activations(model: TextClassifier, xs: list[np.ndarray], batch_size: int = 256,
                desc: str | None = None) -> list[np.ndarray]:
    """Every layer of `layers()` for every text, in evaluation mode: a list of (n, size) float32
    arrays, the last being the logits."""
    if not xs:
        raise ValueError("no texts to run the model on")
    out = None
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        for start in tqdm(range(0, len(xs), batch_size), desc=desc, disable=desc is None):
            acts = [a.array for a in model.layers(model.embed_texts(xs[start:start + batch_size]))]
            out = [[a] for a in acts] if out is None else [o + [a] for o, a in zip(out, acts)]
    return [np.concatenate(o).astype(np.float32) for o in out]
