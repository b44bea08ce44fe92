import pytest

from xairepro.published import rows as published_rows
from xairepro.scorecard.build import build, markdown, verdict
from xairepro.scorecard.readme import END, START, splice

HEADER = "paper,experiment,dataset,model,metric,published,ours,source\n"


def _table(tmp_path, lines):
    path = tmp_path / "table.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    return path


def test_verdict_flips_to_off_outside_the_tolerance():
    assert verdict("93", "90", "5") == "reproduced"
    assert verdict("93", "98", "5") == "reproduced"
    assert verdict("93", "87", "5") == "off by -6"
    assert verdict("93", "", "5") == "not run"
    assert verdict("", "0.8", "") == "no published value"


def test_scorecard_has_one_row_per_published_number_of_the_methods_that_ran(tmp_path):
    table = _table(tmp_path, [
        "gradient_rollback,table1_GR-1,nations,distmult,PD,93,91,run",
        "gradient_rollback,table1_GR-1,nations,distmult,TC,38,20,run",
        "gradient_rollback,fidelity,nations,distmult,pearson,,0.9,run",
    ])
    rows = build([table])
    gr_published = [r for r in published_rows() if r["paper"] == "gradient_rollback"]
    assert {r["paper"] for r in rows} == {"gradient_rollback"}  # methods that did not run are left out
    assert len(rows) == len(gr_published) + 1
    by_key = {(r["experiment"], r["metric"]): r for r in rows}
    assert by_key[("table1_GR-1", "PD")]["verdict"] == "reproduced"
    assert by_key[("table1_GR-1", "TC")]["verdict"] == "off by -18"
    assert by_key[("table1_NH-1", "PD")]["verdict"] == "not run"
    assert by_key[("fidelity", "pearson")]["verdict"] == "no published value"
    assert "1 reproduced, 1 off" in markdown(rows)


def test_readme_block_is_replaced_between_the_markers():
    readme = f"intro\n{START}\nold numbers\n{END}\noutro\n"
    assert splice(readme, "| new |\n") == f"intro\n{START}\n| new |\n{END}\noutro\n"
    with pytest.raises(ValueError, match="results markers"):
        splice("no markers", "x")


def test_spread_verdict_uses_the_standard_error_of_our_mean_over_runs():
    # 10 runs, std 0.01: standard error 0.00316, tolerance ±0.0063
    assert verdict("0.744", "0.749", "2se", "0.01", "10") == "reproduced (±0.0063)"
    assert verdict("0.744", "0.754", "2se", "0.01", "10").startswith("off by +0.01")
    # the paper's value is one run: our run-to-run std is the yardstick (±0.02)
    assert verdict("0.487", "0.50", "2sd", "0.01", "3") == "reproduced (±0.02)"
    assert verdict("0.487", "0.53", "2sd", "0.01", "3").startswith("off by")
    assert verdict("0.744", "0.749", "2se", "", "1").startswith("one run, no spread")


def test_a_gap_smaller_than_our_spread_is_inconclusive_not_reproduced():
    # paper effect +0.014; 3 runs with std 0.015 give ±0.017: cannot confirm or refute it
    assert verdict("0.014", "0.012", "2se", "0.015", "3", metric="test_accuracy_gap_lje").startswith("inconclusive")
    # 10 runs with std 0.01 give ±0.0063 < 0.014: a verdict either way
    assert verdict("0.014", "0.012", "2se", "0.01", "10", metric="test_accuracy_gap_lje").startswith("reproduced")
    assert verdict("0.014", "-0.005", "2se", "0.01", "10", metric="test_accuracy_gap_lje").startswith("off by")
    # an interval that excludes the paper's effect is "off", however wide it is
    assert verdict("0.014", "-0.06", "2se", "0.04", "10", metric="test_accuracy_gap_lje").startswith("off by")


def test_reference_curve_points_are_not_scorecard_rows(tmp_path):
    table = _table(tmp_path, ["rps_lje,debugging_40pct,german-credit,xgboost,test_accuracy_lje,0.744,0.75,run"])
    rows = build([table])
    assert rows and not any(r["experiment"] == "debugging_curve" for r in rows)
    assert any(r["experiment"] == "debugging_gap_40pct" and r["verdict"] == "not run" for r in rows)
