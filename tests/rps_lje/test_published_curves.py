"""The paper's whole debugging curves in src/xairepro/published_numbers.csv: every point is read, a
missing one is an error that names it, and the effect rows agree with the curves they come from."""
import pytest

import xairepro.rps_lje.summarize as summarize
from xairepro.published import rows as published_rows


@pytest.mark.parametrize("dataset, model, points", [("cifar-10", "cnn", 4 * 8), ("digits", "cnn", 4 * 8),
                                                    ("imdb", "rnn", 4 * 8), ("german-credit", "xgboost", 3 * 20)])
def test_every_published_point_is_read(dataset, model, points):
    curves = summarize.published_curves(dataset, model)
    assert len(curves) == points and curves["test_accuracy"].notna().all()
    assert curves[curves["checked_fraction"] <= 0.4]["flips_found_run0"].notna().all()
    # spot checks against shared/papers/published_numbers.md (addendum 2a/2b)
    at = curves.set_index(["order", "checked_fraction"])
    if model == "xgboost":
        assert at.loc[("lje", 0.4), "test_accuracy"] == 0.744 and at.loc[("random", 0.95), "test_accuracy"] == 0.771
        assert at.loc[("if", 1.0), "test_accuracy"] == 0.785 and at.loc[("lje", 0.4), "flips_found_run0"] == 0.487


def test_a_missing_published_point_is_an_error_naming_it(monkeypatch):
    kept = tuple(r for r in published_rows() if not (r["dataset"] == "imdb" and r["metric"] == "test_accuracy_if@0.25"))
    monkeypatch.setattr(summarize, "published_rows", lambda: kept)
    with pytest.raises(ValueError, match=r"imdb/rnn debugging_curve points test_accuracy_if@0.25"):
        summarize.published_curves("imdb", "rnn")


def test_the_paper_effect_rows_are_the_curves_differences():
    values = {(r["dataset"], r["experiment"], r["metric"]): float(r["published"]) for r in published_rows()
              if r["paper"] == "rps_lje"}
    gaps = {k: v for k, v in values.items() if k[1] == "debugging_gap_40pct"}
    assert len(gaps) == 8  # CNN and RNN: LJE, RPS-l2, IF; XGBoost: LJE, IF
    for (dataset, _, metric), gap in gaps.items():
        order = metric.removeprefix("test_accuracy_gap_")
        curve = lambda o: values[(dataset, "debugging_curve", f"test_accuracy_{o}@0.40")]
        assert gap == pytest.approx(curve(order) - curve("random"), abs=1e-9)
        # and the 40% rows the scorecard compares agree with the curves (3 decimals there)
        assert values[(dataset, "debugging_40pct", f"test_accuracy_{order}")] == pytest.approx(curve(order), abs=6e-4)
