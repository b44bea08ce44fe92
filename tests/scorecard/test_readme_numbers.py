"""The README's result numbers are generated: every block between `make readme-results` markers must
equal the committed result file it cites (docs/results/NAME.md), so a number typed or edited by hand,
or a block left behind after the results changed, fails here."""
from pathlib import Path

import pytest

from xairepro.scorecard.readme import blocks, check, main, markers

ROOT = Path(__file__).resolve().parents[2]


def test_every_readme_block_equals_the_result_file_it_cites():
    readme = (ROOT / "README.md").read_text()
    assert set(blocks(readme)) >= {"results", "rps_lje", "explaind", "mislabel", "attribution_truth"}
    assert check(readme, ROOT / "docs" / "results") == []


def _readme(tmp_path, number):
    start, end = markers("dknn")
    (tmp_path / "cited").mkdir(exist_ok=True)
    (tmp_path / "cited" / "dknn.md").write_text("| ECE | 9.09 |\n")
    return f"intro\n{start}\n| ECE | {number} |\n{end}\nmore\n"


def test_a_number_edited_by_hand_is_named(tmp_path):
    assert check(_readme(tmp_path, "9.09"), tmp_path / "cited") == []
    problems = check(_readme(tmp_path, "9.1"), tmp_path / "cited")
    assert len(problems) == 1 and "'dknn'" in problems[0] and "9.1" in problems[0]


def test_a_block_without_its_file_and_a_file_without_its_block_are_errors(tmp_path):
    readme = _readme(tmp_path, "9.09")
    (tmp_path / "cited" / "dknn.md").rename(tmp_path / "cited" / "orphan.md")
    problems = check(readme, tmp_path / "cited")
    assert any("does not exist" in p for p in problems) and any("orphan.md" in p for p in problems)


def test_regenerating_writes_the_cited_copy_and_the_block(tmp_path):
    start, end = markers("results")
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{start}\nold\n{end}\n")
    (tmp_path / "score.md").write_text("| new | 1.5 |\n")
    main([str(tmp_path / "score.md"), str(readme), "--snapshots", str(tmp_path / "cited")])
    assert (tmp_path / "cited" / "results.md").read_text() == "| new | 1.5 |\n"
    assert "| new | 1.5 |" in readme.read_text() and check(readme.read_text(), tmp_path / "cited") == []
    with pytest.raises(SystemExit) as exit_code:
        main(["--check", str(readme), "--snapshots", str(tmp_path)])  # no copies there
    assert exit_code.value.code == 1
