"""The paper-scale grokking run's pieces that need no long training: retraining stops at the configured
test accuracy (`generalise_acc`), the grokking Markdown (report.grokking_markdown) gives the phases, the
mean ± std over seeds with not-reached runs counted as the budget, and a long swap table is thinned to
readable columns; the curves-only plot is written without an EPK."""
import csv

import pandas as pd
import pytest
import torch

from tests.explaind.test_phases import curves
from tests.explaind.test_pipeline_experiments import recorded  # noqa: F401  (module fixture)
from xairepro.explaind import report
from xairepro.explaind.retrain_pipeline import retrain
from xairepro.explaind.train import accuracy


def test_retraining_stops_at_the_configured_test_accuracy(recorded):  # noqa: F811
    task, history = recorded
    final = history.final_params()
    test_acc = accuracy(task.model, final, task.data.x_test, task.data.y_test)
    assert 0 < test_acc < 1  # the tiny run does not grok: the default (1.0) never counts as generalised
    strict = retrain(task.model, task.optimizer, 0.02, final, task.data, task.batch_size, 2, 0)
    assert strict["steps_to_generalise"] == "" and strict["steps_run"] == 2
    loose = retrain(task.model, task.optimizer, 0.02, final, task.data, task.batch_size, 2, 0, test_acc)
    assert loose["steps_to_generalise"] == 0 and loose["steps_run"] == 0
    assert torch.equal(final, history.final_params())  # retraining does not touch the recorded run


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def grok_run(tmp_path):
    rows = curves()
    for r in rows:
        r["train_loss"] = f"{1.01 - float(r['train_acc']):.4g}"
        r["test_loss"] = f"{1.01 - float(r['test_acc']):.4g}"
    write(tmp_path / "training_curves.csv", rows)
    write(tmp_path / "swap.csv", [{"step": s, "variant": v, "accuracy": 0.5, "kl_to_final": 0.1,
                                   "step_model_accuracy": 0.25, "step_model_kl_to_final": 0.2}
                                  for s in range(0, 3101, 100) for v in ("pipeline", "decoder")])
    base = {"steps_run": 0, "max_steps": 500, "train_acc": 1, "test_acc": 1}
    write(tmp_path / "retrain_pipeline.csv",
          [{"variant": "scratch", "step_from": "", "seed": s, "steps_to_fit": 100, "steps_to_generalise": "", **base}
           for s in (0, 1, 2)] +
          [{"variant": "complement", "step_from": 3000, "seed": s, "steps_to_fit": 10, "steps_to_generalise": g, **base}
           for s, g in zip((0, 1, 2), (100, 200, 300))])
    return tmp_path


def test_grokking_markdown_gives_phases_and_mean_std_over_seeds(grok_run):
    text = report.grokking_markdown(grok_run)
    assert "| memorisation | [0, 400) |" in text
    assert "| cleanup | [1970, 3000) |" in text and "test acc. ≥ 0.99 at step 2070" in text
    line = {r.split(" |")[0]: r for r in text.splitlines() if r.startswith("| ")}
    assert "| 200 ± 82 (3/3 reached) |" in line["| complement kept from t = 3000"]
    # never generalised within the budget: counted as the budget, the mean marked as a lower bound
    assert "| ≥ 500 ± 0 (0/3 reached) |" in line["| scratch"]


def test_a_long_swap_table_is_thinned_and_keeps_the_last_step(grok_run):
    header = report.swap_table(grok_run / "swap.csv", max_columns=12)[0]
    steps = [int(c.strip(" |").split("= ")[1]) for c in header.split(" | ")[1:] if c.startswith("s = ")]
    assert len(steps) <= 12 and steps[0] == 0 and steps[-1] == 3100 and steps == sorted(steps)
    assert len(report.swap_table(grok_run / "swap.csv", max_columns=100)[0].split("s = ")) - 1 == 32


def test_mean_std_counts_not_reached_as_the_budget():
    assert report.mean_std(pd.Series([100.0, None]), 500) == "≥ 300 ± 200 (1/2 reached)"
    assert report.mean_std(pd.Series([100.0, 300.0]), 500) == "200 ± 100 (2/2 reached)"


def test_the_curves_plot_needs_no_epk(grok_run):
    from xairepro.explaind import plot

    plot.main(["--title", "grok", "--curves", str(grok_run / "training_curves.csv"), "--out-curves", str(grok_run / "c.png")])
    assert (grok_run / "c.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="--out-curves"):
        plot.main(["--title", "grok", "--curves", str(grok_run / "training_curves.csv"), "--phases", "x.csv",
                   "--out-curves", str(grok_run / "c.png")])


def test_phase_shares_cancel_oscillation_within_the_window_and_the_run_summary_splits_data_from_decay(grok_run):
    """A component whose per-step terms alternate ±1 sums to 0 over a phase: per single step (window 1) it
    looks like the one that moved the logit most, summed over 50-step windows (the default, the authors'
    kernel interval) it moved nothing. Shares of a phase sum to 1; the report gives signed ± std and both
    shares, and per phase and component the split into data and weight-decay terms; data + decay = the change."""
    import json

    import numpy as np

    from xairepro.explaind import attribute
    n_points, n_steps = 2, 3000
    sc = np.zeros((n_points, n_steps, 2), np.float32)
    sc[:, :, 0] = np.where(np.arange(n_steps) % 2 == 0, 1.0, -1.0)   # cancels within every even window
    sc[:, :, 1] = 0.25
    sc[1, :, 1] = 0.75                                               # the points differ: std over points
    final, initial = sc.sum((1, 2)) + 1.0, np.ones(n_points, np.float32)
    data = np.array([[5.0, 3.0], [7.0, 1.0]], np.float32)
    decay = (final - initial) - data.sum(1)
    step_decay = np.zeros_like(sc)
    step_decay[:, :, 1] = 0.05                                       # weight decay's part of the steady one
    np.savez(grok_run / "epk.npz", initial=initial, final=final, data=data, data_total=data.sum(1), decay=decay,
             step_component=sc, step_decay=step_decay, weight=np.zeros(3, np.float32), groups=np.array(["moves", "steady"]), explained=np.array([0, 1]))
    fidelity = {"dataset": "modulo addition a+b mod 7", "integration_steps": 4, "n_steps": n_steps, "n_explained": 2,
                "relative_error": 1e-5, "max_abs_error": 1e-3}
    (grok_run / "fidelity.json").write_text(json.dumps(fidelity))
    out = {name: grok_run / f"{name}.csv" for name in ("phases", "components", "top_examples", "comparison")}
    args = ["--epk", str(grok_run / "epk.npz"), "--curves", str(grok_run / "training_curves.csv"),
            "--fidelity", str(grok_run / "fidelity.json"), "--task", "t", "--model", "m", "--top-k", "1",
            *[a for name, path in out.items() for a in (f"--{name.replace('_', '-')}", str(path))]]
    phase = {}
    for window in (1, 50):
        attribute.main(args + ["--share-window", str(window)])
        phases = pd.read_csv(out["phases"])
        for _, rows in phases[phases["component"] != "total"].groupby("phase"):
            assert rows["abs_share"].sum() == pytest.approx(1, abs=1e-5)
        phase[window] = phases[phases["phase"] == "memorisation"].set_index("component")   # steps [0, 400)
    assert phase[1].loc["moves", "attribution"] == 0 and phase[1].loc["steady", "attribution"] == 200  # (100+300)/2
    assert phase[1].loc["steady", "attribution_std"] == pytest.approx(141.421, rel=1e-4)
    assert phase[1].loc["moves", "abs_share"] == pytest.approx(400 / (400 + 200))
    assert phase[50].loc["moves", "abs_share"] == 0 and phase[50].loc["steady", "abs_share"] == 1
    assert phase[50].loc["moves", "net_abs_share"] == 0
    memo = phase[50]                                                 # 400 steps: decay 20, data 200 − 20
    assert (memo.loc["steady", "decay"], memo.loc["steady", "data"]) == (pytest.approx(20), pytest.approx(180))
    assert memo.loc["steady", "decay_std"] == pytest.approx(0, abs=1e-6)
    assert memo.loc["total", "decay"] == pytest.approx(20) and memo.loc["total", "data"] == pytest.approx(180)
    text = report.grokking_markdown(grok_run)
    assert "| moves | 0 ± 0 / 0% / 0% |" in text and "Σ |sum over 50 steps|" in text
    # per step: steady's data 0.25 − 0.05 = 0.2 (point 0) and 0.75 − 0.05 = 0.7 (point 1), decay 0.05 both
    assert memo.loc["steady", "decay_to_data_l1"] == pytest.approx(0.1 / 0.9, rel=1e-5)
    # moves: no decay; its data terms are ±1, so the ratio is 0 (not undefined)
    assert memo.loc["moves", "decay_to_data_l1"] == 0
    assert "| steady | 180 / 20 (0.11) |" in text and "| moves | 0 / 0 (0.00) |" in text
    assert "| total per step | 0.45 / 0.05 |" in text
    # the label logit's change: 750 and 2250; data 8 and 8, decay the rest
    assert "| logit change f(θ_T) − f(θ_0), mean ± std over points | 1500.0 ± 1060.7 |" in text
    assert "| of which training-data terms / weight-decay terms | 8 ± 0 / 1492 ± 1061 |" in text


def test_regularisation_table_shows_an_empty_phase_without_failing():
    """A run that never groks has an empty cleanup phase: its ratio is undefined (NaN in phases.csv), shown as –."""
    import numpy as np

    rows = [{"phase": phase, "start": start, "end": end, "component": c, "data": d, "decay": -d / 2,
             "decay_to_data_l1": np.nan if start == end else 0.5}
            for phase, start, end, d in (("memorisation", 0, 40, 2.0), ("cleanup", 40, 40, 0.0))
            for c in ("w", "total")]
    text = "\n".join(report.regularisation_table(pd.DataFrame(rows), ["memorisation", "cleanup"]))
    assert "| w | 2 / -1 (0.50) | 0 / -0 (–) |" in text and "| total per step | 0.05 / -0.025 | – |" in text
