"""The debugging step on a hand-made task: orders rank highest first, flips found count what was
checked, fixing all restores the clean labels, and the training-loss baseline looks at the labels."""
import csv

import numpy as np
import torch

from xairepro.rps_lje import debug


def make_task(tmp_path, n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    y_clean = (x[:, 0] > 0).astype(np.int64)
    flipped = np.zeros(n, dtype=bool)
    flipped[:8] = True  # the first 8 points carry the wrong label
    noisy = np.where(flipped, 1 - y_clean, y_clean)
    phi = np.hstack([x, np.ones((n, 1))])
    weights = np.array([4.0, 0.0, 0.0])  # a model that learnt the clean rule: flips have a high loss
    x_test = rng.normal(size=(30, 2))
    phi_test = np.hstack([x_test, np.ones((30, 1))])
    np.savez(tmp_path / "train.npz", phi_train=phi, phi_test=phi_test, weights=weights, y_train=noisy,
             y_clean=y_clean, flipped=flipped, y_test=(x_test[:, 0] > 0).astype(np.int64), logit_train=phi @ weights,
             inputs_train=phi, inputs_test=phi_test)
    torch.save({"kind": "network"}, tmp_path / "model.pt")
    # an explainer that puts the flips last, one that puts them first
    np.savez(tmp_path / "worst.npz", self_importance=np.arange(n, dtype=float))
    np.savez(tmp_path / "best.npz", self_importance=-np.arange(n, dtype=float))
    return tmp_path


def test_orders_rank_highest_first_and_count_the_flips_they_check(tmp_path):
    task = make_task(tmp_path)
    out = tmp_path / "debugging.csv"
    debug.main(["--train", str(task / "train.npz"), "--model-file", str(task / "model.pt"), "--scores",
                f"worst={task / 'worst.npz'}", f"best={task / 'best.npz'}", "--run", "0", "--step", "0.1",
                "--retrain-max", "0.4", "--retrain-start", "last_layer", "--out", str(out)])
    rows = {(r["order"], float(r["checked_fraction"])): r for r in csv.DictReader(open(out))}
    assert {o for o, _ in rows} == {"worst", "best", "loss", "random"}
    # "best" has the flips (points 0..7, 20% of 40) first: all found once 20% is checked
    assert float(rows[("best", 0.1)]["flips_found"]) == 0.5 and float(rows[("best", 0.2)]["flips_found"]) == 1.0
    assert float(rows[("worst", 0.4)]["flips_found"]) == 0.0 and float(rows[("worst", 0.9)]["flips_found"]) == 0.5
    # the training loss of the noisy labels under a model of the clean rule puts the flips first too
    assert float(rows[("loss", 0.2)]["flips_found"]) == 1.0
    # retrained up to 40% and at 100%, not in between; fixing every flip gives the same model for all orders
    assert rows[("best", 0.5)]["test_accuracy"] == "" and rows[("best", 0.4)]["test_accuracy"] != ""
    assert len({rows[(o, 1.0)]["test_accuracy"] for o in ("worst", "best", "loss", "random")}) == 1
    assert len({rows[(o, 0.0)]["test_accuracy"] for o in ("worst", "best", "loss", "random")}) == 1
    # what fixing the flips is worth: the best order at 20% equals fixing all, the worst one equals none
    assert rows[("best", 0.2)]["test_accuracy"] == rows[("best", 1.0)]["test_accuracy"]
    assert rows[("worst", 0.4)]["test_accuracy"] == rows[("worst", 0.0)]["test_accuracy"]
