"""A tiny recorded training run in float64 (GELU models: smooth f, so the midpoint rule converges as
1/T²), shared by the tests."""
import pytest
import torch

from xairepro.explaind.data import modulo_addition
from xairepro.explaind.functional import AdamW, FlatModel, SGD
from xairepro.explaind.history import History, train_with_history
from xairepro.explaind.models import build_model

torch.set_num_threads(1)

OPTIMIZERS = {"sgd": (lambda: SGD(momentum=0.9, weight_decay=5e-3), 0.1),
              "adamw": (lambda: AdamW(betas=(0.9, 0.98), eps=1e-8, weight_decay=1.0), 1e-2)}


def make_run(tmp_path, optimizer_name, n_steps=12, checkpoint_every=5, batch_size=8, seed=0):
    data = modulo_addition(7, 30, seed)
    torch.manual_seed(seed)
    model = FlatModel(build_model("modulo_transformer", p=7, d_model=8, n_heads=2, d_mlp=16, activation="gelu"),
                      torch.float64)
    make_opt, lr = OPTIMIZERS[optimizer_name]
    identity = {"model": "tiny", "optimizer": optimizer_name, "seed": seed}
    path = tmp_path / f"history_{optimizer_name}"
    train_with_history(model, make_opt(), data.x_train, data.y_train, [lr] * n_steps, batch_size, seed, path,
                       checkpoint_every, identity)
    return model, make_opt(), History(path, identity), data, identity


@pytest.fixture(params=sorted(OPTIMIZERS))
def run(request, tmp_path):
    return make_run(tmp_path, request.param)
