"""Step explaind_retrain_pipeline: the paper's "retrain with pipeline" experiment on modulo addition.

For checkpoints t = k, 2k, ... of the recorded run we keep some parameter groups at θ_t,
re-initialise the others (torch seed = the retrain seed) as the authors do, every parameter N(0, σ²) with
σ = `retrain_init_std` (their inject_previous_step "random": randn × 0.1), or with the model's own
initialiser when `retrain_init_std` is null, and
retrain with the task's optimizer (fresh state, the task's constant lr, same training data and batch
order) until train accuracy is 1.0 and test accuracy at least `generalise_acc` (default 1.0, the
authors' stopping rule) or `retrain_max_epochs` epochs have run.
Variants: `pipeline` keeps the pipeline groups, `complement` keeps all other groups, `scratch`
re-initialises everything (independent of t, run once per seed). Accuracies are measured on the
whole training set and test split at θ before any update and after every epoch. With the model's own
initialiser, a retrain seed equal to the training seed is refused: its fresh model would be the recorded run's
own start (`scratch` would retrace the run, and the kept groups would meet their original partners).

Writes a CSV, one row per (variant, t, seed): steps (and epochs) until train accuracy reached 1.0
and until both reached 1.0 (empty: not reached within max_steps), and the last accuracies. Logs
"retraining i of N" and keeps finished retrainings in <out>.partial.jsonl, so a killed job resumes
with the next one (the paper's settings run ~300 retrainings of up to 501 epochs).
"""
from __future__ import annotations

import json

import torch

from xairepro.io import Resumable, start_step, write_csv

from .history import History, batch_schedule
from .pipeline import RETRAIN_INIT_STD
from .task import new_model, parse_pipeline_step
from .train import accuracy


def retrain(model, optimizer, lr: float, theta, data, batch_size: int, max_epochs: int, seed: int,
            generalise_acc: float = 1.0) -> dict:
    """Train from θ until train accuracy is 1.0 and test accuracy >= `generalise_acc` (checked at θ and
    after each epoch)."""
    n = len(data.x_train)
    per_epoch = 1 if batch_size == 0 else -(-n // batch_size)
    batches = batch_schedule(n, batch_size, max_epochs * per_epoch, seed)
    state = optimizer.init_state(theta)
    step, fit_step = 0, None

    def accuracies(theta):
        return (accuracy(model, theta, data.x_train, data.y_train), accuracy(model, theta, data.x_test, data.y_test))

    train_acc, test_acc = accuracies(theta)
    for epoch in range(max_epochs + 1):
        if fit_step is None and train_acc == 1.0:
            fit_step = step
        if (train_acc == 1.0 and test_acc >= generalise_acc) or epoch == max_epochs:
            break
        for _ in range(per_epoch):
            idx = next(batches)
            xb, yb = (data.x_train, data.y_train) if idx is None else (data.x_train[idx.long()], data.y_train[idx.long()])
            theta, state, _ = optimizer.step(theta, model.batch_grad(theta, xb, yb), state, lr)
            step += 1
        train_acc, test_acc = accuracies(theta)
    generalised = train_acc == 1.0 and test_acc >= generalise_acc
    return {"steps_to_fit": "" if fit_step is None else fit_step, "steps_to_generalise": step if generalised else "",
            "steps_run": step, "max_steps": max_epochs * per_epoch, "train_acc": f"{train_acc:.6g}",
            "test_acc": f"{test_acc:.6g}"}


def starts(model, history: History, optimizer, data, kept: list[str], every: int, seeds, reinit):
    """(variant, t, seed, θ_0) of every retraining: `reinit(seed)` gives a fresh θ."""
    model.group_mask(kept)  # unknown group names fail here, before any training
    ts = list(range(every, history.n_steps + 1, every))
    if not ts:
        raise ValueError(f"retrain_every={every} leaves no checkpoint t in 1..{history.n_steps}")
    complement = [g for g in model.names if g not in kept]
    checkpoints = dict(history.params_at(ts, model, optimizer, data.x_train, data.y_train))
    for seed in seeds:
        fresh = reinit(seed)
        yield "scratch", "", seed, fresh
        for t, theta_t in checkpoints.items():
            yield "pipeline", t, seed, model.splice(fresh, theta_t, kept)
            yield "complement", t, seed, model.splice(fresh, theta_t, complement)


def fresh_params(settings: dict, args, std: float | None):
    """seed -> a fresh θ: N(0, std²) for every parameter (the authors' re-initialisation), or, with std None,
    the model's own initialiser (its layers' defaults: e.g. an embedding of std 1)."""
    if std is None:
        return lambda seed: new_model(settings, seed, args.dtype, args.device).initial_params()
    like = new_model(settings, 0, args.dtype, args.device).initial_params()  # size, dtype and device of θ
    return lambda seed: (torch.randn(like.numel(), generator=torch.Generator().manual_seed(seed), dtype=like.dtype)
                         * std).to(like.device)


def main(argv=None):
    log = start_step(__name__)
    args, pipeline, task, history = parse_pipeline_step(__doc__, argv)
    settings = json.loads(args.settings)
    if settings["optimizer"]["schedule"] != "constant":
        raise ValueError("retrain_pipeline retrains at the task's constant learning rate: needs schedule constant")
    lr = float(settings["optimizer"]["lr"])
    every, seeds = pipeline["retrain_every"], pipeline["retrain_seeds"]
    std = pipeline.get("retrain_init_std", RETRAIN_INIT_STD)
    if std is None and args.seed in seeds:
        raise ValueError(f"retrain_seeds {seeds} contain the training seed {args.seed}: with the model's own initialiser "
                         "(retrain_init_std null) a fresh model under that seed is the recorded run's own start; use "
                         "retrain seeds that differ from the training seeds")
    total = len(seeds) * (1 + 2 * (history.n_steps // every))
    done = Resumable(args.out, vars(args), inputs=[args.history], log=log)
    rows = []
    for i, (variant, t, seed, theta) in enumerate(starts(
            task.model, history, task.optimizer, task.data, pipeline["groups"], every, seeds,
            fresh_params(settings, args, std)), 1):
        key = f"{variant}/{t}/{seed}"
        row = done.get(key)
        if row is None:
            result = retrain(task.model, task.optimizer, lr, theta, task.data, task.batch_size,
                             pipeline["retrain_max_epochs"], seed, pipeline.get("generalise_acc", 1.0))
            row = done.add(key, {"variant": variant, "step_from": t, "seed": seed, **result})
            log.info("retraining %d of %d: %s", i, total, row)
        else:
            log.info("retraining %d of %d: %s (finished before the restart)", i, total, key)
        rows.append(row)
    write_csv(args.out, rows)
    done.finish()


if __name__ == "__main__":
    main()
