"""Each data-attribution method's scores s_i(t) (n_train, n_test) on a torch task, from the project's own
code (and dattri's for the peer methods), oriented so that s_i(t) > 0 says "training on i raises f(x_t)",
f = the margin toward t's true label.

- lje, rps_l2: xairepro.rps_lje.explainers on the last layer; importance[i, t] is point i's share of the
  class-1 logit, so it is multiplied by +1 / −1 for true label 1 / 0. RPS-l2 is the RPS-LJE authors'
  variant (the l2 refit is fitted to the model's own predictions). Under both metrics RPS-LJE ranks as the
  influence function does up to γ: its Θ̃·φ_t/n term is the same for every i, and LOO Spearman ranks
  within a test point while LDS compares subsets of one size.
- if: the last-layer influence function with the test loss at t's true label. Its value is the
  first-order rise of that loss when i is left out, which is a positive multiple (|σ(f_t) − y_t|) of the
  fall of the margin: the same ranking over i as the margin's influence, so the same Spearman and LDS.
- explaind: the exact path kernel of a recorded last-layer SGD run on φ (as in the mislabel benchmark:
  the networks' own runs are not recorded), data attribution A(x_t, i) of the logit of t's true label.
- dknn: for each test point, +1 for each of its k nearest training points (standardized φ) that carries
  t's label, −1 for one that does not, 0 for the rest: DkNN's neighbour vote seen as data attribution.
- dattri_if, dattri_tracin, dattri_trak: dattri 0.3.0's explicit-Hessian influence function (whole model),
  TracIn over the per-epoch checkpoints (the CNN; the logistic model has only its optimum), both with the
  training loss and the test loss at the true label, and TRAK (projected gradients of the margin, final
  model, as Park et al. 2023); dattri's sign already says "i lowers the test loss" / "raises the margin".
- same_label: +1 for a training point with t's label, −1 otherwise: the trivial lookup baseline. On a
  classifier the output on a subset follows the subset's class balance, which this alone captures.
- random: seeded standard normal scores, the trivial baseline (LDS and LOO Spearman ≈ 0).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xairepro.attribution_truth.tasks import Data, Model, last_layer
from xairepro.mislabel.scorers import recorded_last_layer_run, standardize
from xairepro.attribution_truth.pipeline import TORCH_METHODS
from xairepro.rps_lje.explainers import make_explainer

METHODS = TORCH_METHODS


def scores(method: str, model: Model, data: Data, settings: dict, seed: int) -> np.ndarray:
    """(n_train, n_test) scores of `method` for the model trained on all training points."""
    sign = np.where(data.y_test == 1, 1.0, -1.0)[None, :]
    if method == "random":
        return np.random.default_rng(seed).standard_normal((len(data.y_train), len(data.y_test)))
    if method == "same_label":
        return np.where(data.y_train[:, None] == data.y_test[None, :], 1.0, -1.0)
    if method in ("lje", "rps_l2", "if"):
        phi, phi_test, theta = last_layer(model, data)
        explainer = make_explainer(method, gamma=settings["gamma"], lmbda=settings["lmbda"],
                                   epochs=settings["rps_l2_epochs"], damping=settings["damping"])
        if method == "if":
            explainer.l2 = settings.get("l2", 0.0)
        explainer.fit(phi, data.y_train, theta)
        if method == "if":
            return explainer.importance(phi_test, data.y_test)
        return explainer.importance(phi_test) * sign
    if method == "explaind":
        return explaind_scores(model, data, settings, seed)
    if method == "dknn":
        return neighbour_scores(model, data, settings["dknn_k"])
    if method.startswith("dattri_"):
        return dattri_scores(method.removeprefix("dattri_"), model, data, settings, seed)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def neighbour_scores(model: Model, data: Data, k: int) -> np.ndarray:
    from xairepro.dknn.explainer import DkNN

    phi, phi_test, _ = last_layer(model, data)
    phi, phi_test = standardize(phi[:, :-1]), standardize(phi_test[:, :-1], phi[:, :-1])  # without the bias 1
    dknn = DkNN(k=k, index="brute").fit([phi], data.y_train, n_class=2)
    (neighbours,) = dknn.neighbours([phi_test])
    out = np.zeros((len(data.y_train), len(data.y_test)))
    for t, idx in enumerate(neighbours):
        out[idx, t] = np.where(data.y_train[idx] == data.y_test[t], 1.0, -1.0)
    return out


def explaind_scores(model: Model, data: Data, settings: dict, seed: int) -> np.ndarray:
    phi, phi_test, _ = last_layer(model, data)
    phi, phi_test = standardize(phi[:, :-1]), standardize(phi_test[:, :-1], phi[:, :-1])
    x, y = torch.as_tensor(phi), torch.as_tensor(data.y_train)
    run = settings["explaind"]
    with recorded_last_layer_run(x, y, run["epochs"], run["batch_size"], run["lr"], seed, "attribution_truth") as epk:
        result = epk.attribute(torch.as_tensor(phi_test), torch.as_tensor(data.y_test))
    return np.asarray(result.data).T  # (n_test, n_train) -> (n_train, n_test)


def dattri_scores(kind: str, model: Model, data: Data, settings: dict, seed: int) -> np.ndarray:
    from dattri.algorithm.influence_function import IFAttributorExplicit
    from dattri.algorithm.tracin import TracInAttributor
    from dattri.algorithm.trak import TRAKAttributor
    from dattri.task import AttributionTask
    from torch.utils.data import DataLoader, TensorDataset

    net = model.net
    dtype = next(net.parameters()).dtype
    sample_dims = data.x_train.ndim - 1

    def logits(params, x):
        # dattri calls these on single samples (vmap) and on batches; the network wants a batch
        batch = x if x.dim() > sample_dims else x.unsqueeze(0)
        return torch.func.functional_call(net, params, batch).reshape(-1)

    def loss(params, batch):
        x, y = batch
        logit = logits(params, x)
        return nn.functional.binary_cross_entropy_with_logits(logit, y.reshape(-1).to(logit.dtype))

    def margin(params, batch):  # TRAK's f: the log-odds of the correct class
        x, y = batch
        logit = logits(params, x)
        return torch.where(y.reshape(-1) == 1, logit, -logit).sum()

    def correct_probability(params, batch):
        x, y = batch
        logit = logits(params, x)
        return torch.sigmoid(torch.where(y.reshape(-1) == 1, logit, -logit)).squeeze()

    final = {k: v.detach().clone() for k, v in net.state_dict().items()}
    checkpoints = model.checkpoints if kind == "tracin" and model.checkpoints else [final]
    # TRAK's features are gradients of the margin (train and test), weighted by 1 − p (Park et al. 2023);
    # the influence function and TracIn use the training loss.
    task = AttributionTask(loss_func=margin if kind == "trak" else loss, model=net, checkpoints=checkpoints)
    train = TensorDataset(torch.as_tensor(data.x_train, dtype=dtype), torch.as_tensor(data.y_train))
    test = TensorDataset(torch.as_tensor(data.x_test, dtype=dtype), torch.as_tensor(data.y_test))
    loader = lambda d: DataLoader(d, batch_size=len(d), shuffle=False)  # noqa: E731
    torch.manual_seed(seed)
    if kind == "if":
        attributor = IFAttributorExplicit(task=task, regularization=settings["damping"])
        attributor.cache(loader(train))
    elif kind == "tracin":
        lrs = model.checkpoint_lrs or [1.0]
        attributor = TracInAttributor(task=task, weight_list=torch.tensor(lrs, dtype=dtype), normalized_grad=False)
    elif kind == "trak":
        attributor = TRAKAttributor(task=task, correct_probability_func=correct_probability,
                                    projector_kwargs={"proj_dim": settings["trak_dim"], "device": "cpu"},
                                    regularization=settings["damping"])
        attributor.cache(loader(train))
    else:
        raise ValueError(f"unknown dattri method {kind!r}")
    out = attributor.attribute(loader(test)) if kind == "trak" else attributor.attribute(loader(train), loader(test))
    return out.detach().double().numpy()
