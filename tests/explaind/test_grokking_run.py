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
