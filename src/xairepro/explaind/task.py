"""One place that turns a task section of the config into data, model, optimizer, learning-rate
schedule and the identity a training history is checked against."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import numpy as np
import torch

from .data import TaskData, load_task
from .functional import FlatModel, build_optimizer
from .history import History, train_fingerprint

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Keys of a task section that do not change the training run (so not part of its identity).
NOT_TRAINING = ("eval_every", "prune_fractions", "phase_threshold")


@dataclass
class Task:
    data: TaskData
    model: FlatModel
    optimizer: object
    lrs: list[float]
    batch_size: int
    identity: dict


def add_task_arguments(ap) -> None:
    """The flags that define a task's training run, shared by the train, epk and prune steps."""
    ap.add_argument("--settings", required=True, help="the task section of the config, as JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    ap.add_argument("--threads", type=int, default=1, help="torch threads (train and epk: the same, for an exact replay)")
    ap.add_argument("--data-dir", default=None, help="data/<dataset> (not needed for modulo addition)")
    ap.add_argument("--device", default="cpu", help="auto, cpu or cuda (train and epk: the same; CUDA runs with "
                                                    "deterministic algorithms, for a bit-stable replay)")


def task_from_args(args) -> "Task":
    from xairepro.device import resolve

    args.device = str(resolve(args.device, deterministic=True))  # auto -> cuda or cpu, said in the log
    torch.set_num_threads(args.threads)
    return build_task(json.loads(args.settings), args.seed, args.dtype, args.data_dir, args.device)


def parse_pipeline_step(description: str, argv) -> tuple[argparse.Namespace, dict, Task, History]:
    """The command line of the grokking pipeline experiments (swap, retrain_pipeline): the task's flags,
    --pipeline, --history and --out; returns the arguments, the pipeline section, the task and its
    recorded run."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_task_arguments(ap)
    ap.add_argument("--pipeline", required=True, help="the task's `pipeline` section of the config, as JSON")
    ap.add_argument("--history", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    task = task_from_args(args)
    return args, json.loads(args.pipeline), task, History(args.history, task.identity, args.device)


def lr_schedule(settings: dict, n_train: int) -> list[float]:
    """Per-step learning rates: constant for `schedule: constant` (settings['steps'] steps);
    `triangular` rises linearly from 0 to lr at `peak_epoch` and falls to 0 at the last of
    settings['epochs'] epochs (the paper's CIFAR2 schedule)."""
    opt = settings["optimizer"]
    if opt["schedule"] == "constant":
        return [float(opt["lr"])] * settings["steps"]
    if opt["schedule"] == "triangular":
        per_epoch = -(-n_train // settings["batch_size"])
        total = settings["epochs"] * per_epoch
        if not 0 < opt["peak_epoch"] < settings["epochs"]:
            raise ValueError(f"peak_epoch must be in (0, epochs={settings['epochs']}) (got {opt['peak_epoch']})")
        lrs = np.interp(np.arange(total), [0, opt["peak_epoch"] * per_epoch, total], [0.0, opt["lr"], 0.0])
        return [float(v) for v in lrs]
    raise ValueError(f"unknown schedule {opt['schedule']!r}; choose constant or triangular")


def new_model(settings: dict, seed: int, dtype: str, device: str = "cpu") -> FlatModel:
    """The task's model, initialised under torch seed `seed` (the training run's initialisation for
    its seed; retrain_pipeline's re-initialisations for theirs)."""
    from .models import build_model
    torch.manual_seed(seed)
    model_settings = dict(settings["model"])
    name = model_settings.pop("name")
    if name == "modulo_transformer":
        model_settings["p"] = settings["p"]
    else:
        model_settings["n_classes"] = 2
    return FlatModel(build_model(name, **model_settings).to(device), DTYPES[dtype])


def build_task(settings: dict, seed: int, dtype: str, data_dir: str | None, device: str = "cpu") -> Task:
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose float32 or float64")
    if settings["optimizer"]["schedule"] == "triangular" and settings["batch_size"] < 1:
        raise ValueError("the triangular schedule needs batch_size >= 1 (epochs of mini-batches)")
    data = load_task(settings, data_dir, seed)
    model = new_model(settings, seed, dtype, device)
    cast = (lambda t: t.to(DTYPES[dtype])) if data.x_train.is_floating_point() else (lambda t: t)
    data.x_train, data.x_test = cast(data.x_train), cast(data.x_test)
    fingerprint = train_fingerprint(data.x_train, data.y_train)
    data.x_train, data.y_train, data.x_test, data.y_test = (t.to(device) for t in
                                                            (data.x_train, data.y_train, data.x_test, data.y_test))
    identity = {"task": {k: v for k, v in settings.items() if k not in NOT_TRAINING}, "seed": seed, "dtype": dtype,
                "train_sha256": fingerprint, "n_params": model.n_params}
    identity = json.loads(json.dumps(identity))
    return Task(data, model, build_optimizer(settings["optimizer"]), lr_schedule(settings, len(data.x_train)),
                settings["batch_size"], identity)
