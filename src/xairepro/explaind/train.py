"""Step explaind_train: train a task's model and record its history (history.py) and training curves.

    python -m xairepro.explaind.train --settings '<task section as JSON>' --seed 0 --dtype float32 \
        --data-dir data/digits --history results/explaind/digits2/seed0/history --curves .../training_curves.csv
"""
from __future__ import annotations

import argparse
import json

import torch

from xairepro.io import start_step, write_csv

from .history import train_with_history
from .task import add_task_arguments, task_from_args


def accuracy(model, theta, x, y) -> float:
    with torch.no_grad():
        return float((model.logits(theta, x).argmax(1) == y).double().mean())


def main(argv=None):
    log = start_step(__name__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_task_arguments(ap)
    ap.add_argument("--history", required=True)
    ap.add_argument("--curves", required=True)
    args = ap.parse_args(argv)
    settings = json.loads(args.settings)
    task = task_from_args(args)
    m, d = task.model, task.data
    log.info("%s: %d train / %d test, %d parameters, %d steps", d.description, len(d.x_train), len(d.x_test),
             m.n_params, len(task.lrs))
    rows = []

    def evaluate(step, theta):
        with torch.no_grad():
            loss = float(m.loss(theta, d.x_train, d.y_train))
            test_loss = float(m.loss(theta, d.x_test, d.y_test))
        rows.append({"step": step, "train_loss": f"{loss:.6g}", "test_loss": f"{test_loss:.6g}",
                     "train_acc": f"{accuracy(m, theta, d.x_train, d.y_train):.6g}",
                     "test_acc": f"{accuracy(m, theta, d.x_test, d.y_test):.6g}"})

    train_with_history(m, task.optimizer, d.x_train, d.y_train, task.lrs, task.batch_size, args.seed, args.history,
                       settings["checkpoint_every"], task.identity, evaluate, settings["eval_every"])
    write_csv(args.curves, rows)
    log.info("final: %s", rows[-1])


if __name__ == "__main__":
    main()
