"""The expensive target explainers and the Empirical Explainer (Schwarzenberg, Feldhus & Möller,
"Efficient Explanations from Empirical Explainers", BlackboxNLP 2021, arXiv 2103.15429).

A target explainer maps one input x (token ids) and the downstream classifier f to an attribution
map a(x) with one score per token, at the price of many passes through f:
- Layer Integrated Gradients on the word embeddings with n steps (captum), and
- Shapley Value Sampling over tokens with n sampled permutations (captum).
The Empirical Explainer e(x) is an encoder with a linear head that predicts a(x) in one forward
pass; it is trained with the mean squared error against a(x), padded positions masked out.
Both explain f's logit of its predicted class; an ablated token is replaced by the padding token
(special tokens such as [CLS]/[SEP] keep their ids in the baseline, so their attribution is 0).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from captum.attr import LayerIntegratedGradients, ShapleyValueSampling
from torch import nn


@dataclass
class Explanation:
    attributions: torch.Tensor  # (seq_len,) one score per token
    prediction: int  # the class explained: f's prediction
    delta: float | None = None  # completeness error (LIG only): sum(a) - (f(x) - f(baseline))


class _TargetExplainer:
    """Shared plumbing: the classifier's logits as the forward function and the baseline ids."""

    def __init__(self, model, tokenizer):
        self.model = model.eval()
        self.device = next(model.parameters()).device  # the caller places the model (GPU on a cluster)
        self.pad_id = tokenizer.pad_token_id
        # Structural tokens ([CLS], [SEP], <s>, ...) stay in the baseline; [UNK] is content.
        ablatable = {tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.mask_token_id}
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids) - ablatable), device=self.device)

    def _logits(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def baseline(self, input_ids: torch.Tensor) -> torch.Tensor:
        """x with every non-special token replaced by the padding token (the reference input)."""
        keep = torch.isin(input_ids, self.special_ids.to(input_ids.device))
        return torch.where(keep, input_ids, torch.full_like(input_ids, self.pad_id))

    def _prepare(self, input_ids, target):
        if input_ids.dim() != 1:
            raise ValueError(f"explain one instance at a time: input_ids must be 1-D, got shape {tuple(input_ids.shape)}")
        ids = input_ids.unsqueeze(0).to(self.device)
        mask = torch.ones_like(ids)
        if target is None:
            with torch.no_grad():
                target = int(self._logits(ids, mask).argmax(-1))
        return ids, mask, target


class LayerIntegratedGradientsExplainer(_TargetExplainer):
    """Integrated Gradients over the word-embedding layer, summed over the embedding dimension.

    a_i(x) = sum_d (E(x)_id - E(x')_id) * (1/n) sum_{k=1..n} dF(E(x') + k/n (E(x) - E(x')))/dE_id
    (Riemann/Gauss-Legendre steps as in captum), with E the word embeddings and x' the baseline.

    Args:
        model: a transformers sequence classifier.
        tokenizer: its tokenizer (padding and special token ids).
        n_steps: integration steps n (paper: 25 on AG News). Default: 25.
        internal_batch_size: interpolation points per forward pass (memory limit); None = all n.
        convergence_delta: also compute captum's completeness delta (two more forward passes);
            False leaves `delta` None and gives the same attributions.
    """

    name = "lig"

    def __init__(self, model, tokenizer, n_steps: int = 25, internal_batch_size: int | None = None,
                 convergence_delta: bool = True):
        super().__init__(model, tokenizer)
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        self.n_steps, self.internal_batch_size = n_steps, internal_batch_size
        self.convergence_delta = convergence_delta
        self._lig = LayerIntegratedGradients(self._logits, model.get_input_embeddings())

    def attribute(self, input_ids: torch.Tensor, target: int | None = None) -> Explanation:
        """Attributions of the token ids `input_ids` (1-D, no padding) for class `target`
        (default: the prediction), with captum's completeness delta."""
        ids, mask, target = self._prepare(input_ids, target)
        result = self._lig.attribute(
            ids, baselines=self.baseline(ids), target=target, additional_forward_args=(mask,),
            n_steps=self.n_steps, internal_batch_size=self.internal_batch_size,
            return_convergence_delta=self.convergence_delta)
        attributions, delta = result if self.convergence_delta else (result, None)
        return Explanation(attributions.sum(-1)[0].detach().cpu(), target, None if delta is None else float(delta))


    def attribute_batch(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                        target: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attributions of a right-padded batch (2-D ids, mask 0 at padding) in one captum call, for
        `target` (default: the predictions): (batch, seq_len) maps, 0 at padding, and the targets.
        Padding is masked in f's attention and equals the baseline, so each row's map is the one
        `attribute` gives for that sentence alone (up to float rounding)."""
        ids, mask = input_ids.to(self.device), attention_mask.to(self.device)
        if target is None:
            with torch.no_grad():
                target = self._logits(ids, mask).argmax(-1)
        attributions = self._lig.attribute(
            ids, baselines=self.baseline(ids), target=target, additional_forward_args=(mask,),
            n_steps=self.n_steps, internal_batch_size=self.internal_batch_size, return_convergence_delta=False)
        return (attributions.sum(-1) * mask).detach().cpu(), target.cpu()


class ShapleyValueSamplingExplainer(_TargetExplainer):
    """Shapley Value Sampling over tokens: the mean marginal contribution of token i to f's logit
    over n random token permutations (Strumbelj & Kononenko 2010), absent tokens = padding token.

    Args:
        model: a transformers sequence classifier.
        tokenizer: its tokenizer.
        n_samples: sampled permutations n (paper: 20). Default: 20.
        perturbations_per_eval: ablated inputs per forward pass (memory/speed trade-off).
    """

    name = "svs"

    def __init__(self, model, tokenizer, n_samples: int = 20, perturbations_per_eval: int = 32):
        super().__init__(model, tokenizer)
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        self.n_samples, self.perturbations_per_eval = n_samples, perturbations_per_eval
        self._svs = ShapleyValueSampling(self._logits)

    def attribute(self, input_ids: torch.Tensor, target: int | None = None, seed: int = 0) -> Explanation:
        """Attributions of `input_ids` (1-D) for `target` (default: the prediction); `seed` fixes
        the permutations, so a rerun gives the same map."""
        ids, mask, target = self._prepare(input_ids, target)
        torch.manual_seed(seed)
        with torch.no_grad():
            attributions = self._svs.attribute(
                ids, baselines=self.baseline(ids), target=target, additional_forward_args=(mask,),
                n_samples=self.n_samples, perturbations_per_eval=self.perturbations_per_eval,
                feature_mask=torch.arange(ids.shape[1], device=ids.device).unsqueeze(0))
        return Explanation(attributions[0].float().cpu(), target)


TARGET_EXPLAINERS = {cls.name: cls for cls in (LayerIntegratedGradientsExplainer, ShapleyValueSamplingExplainer)}


def parse_explainer(spec: str) -> tuple[str, int]:
    """'lig-25' -> ('lig', 25): the target explainer and its budget (steps or samples)."""
    match = re.fullmatch(r"([a-z]+)-([0-9]+)", spec)
    if not match or match.group(1) not in TARGET_EXPLAINERS or int(match.group(2)) < 1:
        raise ValueError(f"unknown explainer {spec!r}: use <name>-<budget> with name one of "
                         f"{', '.join(TARGET_EXPLAINERS)} and budget >= 1 (e.g. lig-25, svs-20)")
    return match.group(1), int(match.group(2))


def make_target_explainer(spec: str, model, tokenizer, budget: int | None = None, **options):
    """The target explainer named by `spec` ('lig-25'); `budget` overrides the steps/samples
    (used by the convergence curve)."""
    name, full_budget = parse_explainer(spec)
    budget = budget or full_budget
    if name == "lig":
        return LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=budget, **options)
    return ShapleyValueSamplingExplainer(model, tokenizer, n_samples=budget, **options)


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the real tokens only: padded positions (mask 0) never count,
    whatever values they hold."""
    mask = mask.to(predicted.dtype)
    return (((predicted - target) * mask) ** 2).sum() / mask.sum()


class EmpiricalExplainer(nn.Module):
    """e(x): a transformer encoder plus a linear head giving one attribution score per token.

    Args:
        encoder: a transformers encoder (AutoModel): as in the authors' code, a copy of the fine-tuned
            downstream model's encoder (train_explainer --encoder downstream), or pretrained weights of
            its family.

    Examples::

        ee = EmpiricalExplainer(AutoModel.from_pretrained(name))
        scores = ee(input_ids, attention_mask)          # (batch, seq_len), 0 at padding
        loss = masked_mse(scores, targets, attention_mask)
    """

    HEAD = "head.pt"

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Scores on the device of `input_ids` (the model runs where it was placed)."""
        device = self.head.weight.device
        mask = attention_mask.to(device)
        hidden = self.encoder(input_ids=input_ids.to(device), attention_mask=mask).last_hidden_state
        return (self.head(hidden).squeeze(-1) * mask).to(input_ids.device)

    def save(self, folder: str | Path) -> None:
        self.encoder.save_pretrained(folder)
        torch.save(self.head.state_dict(), Path(folder) / self.HEAD)

    @classmethod
    def load(cls, folder: str | Path) -> "EmpiricalExplainer":
        from transformers import AutoModel

        explainer = cls(AutoModel.from_pretrained(folder))
        explainer.head.load_state_dict(torch.load(Path(folder) / cls.HEAD))
        return explainer.eval()


def pad_batch(sequences: list[list[float]], pad_value: float = 0, dtype=torch.long, left: bool = False):
    """Pad to the longest sequence, on the right (or the left: XLNet's classifier reads the last position,
    so its tokenizer pads left); returns the tensor and the attention mask."""
    length = max(len(s) for s in sequences)
    values = torch.full((len(sequences), length), pad_value, dtype=dtype)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for i, s in enumerate(sequences):
        where = slice(length - len(s), length) if left else slice(0, len(s))
        values[i, where] = torch.tensor(s, dtype=dtype)
        mask[i, where] = 1
    return values, mask
