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
