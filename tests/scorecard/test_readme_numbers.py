"""The README's result numbers are generated: every block between `make readme-results` markers must
equal the committed result file it cites (docs/results/NAME.md), so a number typed or edited by hand,
or a block left behind after the results changed, fails here. So does a measured number in the prose
around the blocks that no block prints (the token rules are in xairepro.scorecard.readme's docstring)."""
from pathlib import Path

import pytest

from xairepro.scorecard.readme import block_problems, blocks, check, main, markers, unsourced_numbers

ROOT = Path(__file__).resolve().parents[2]


def test_every_readme_block_equals_the_result_file_it_cites():
    readme = (ROOT / "README.md").read_text()
    assert set(blocks(readme)) >= {"results", "rps_lje", "explaind", "mislabel", "attribution_truth"}
    assert block_problems(readme, ROOT / "docs" / "results") == []


def test_every_measured_number_in_the_readme_prose_is_in_a_block():
    """All sections, the Empirical Explainers one included: each finding names its line."""
    readme = (ROOT / "README.md").read_text()
    assert unsourced_numbers(readme, ROOT / "docs" / "results", ROOT) == []


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


# --- measured numbers in the prose ---

BLOCK = """The last run took 16 min 53 s for 201 steps; fidelity Pearson 0.82; 8.2× faster; GR-1 TC 30.9 ± 0.9.

| step | wall s | peak MB |
|---|---|---|
| train | 863 | 562 |
"""


def _checkout(tmp_path, prose: str) -> tuple[str, Path]:
    """A README whose block `run` holds BLOCK, its committed copy, and config/ and envs/ to be exempt by."""
    start, end = markers("run")
    (tmp_path / "docs" / "results").mkdir(parents=True, exist_ok=True)
    (tmp_path / "docs" / "results" / "run.md").write_text(BLOCK)
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.yaml").write_text("rps: {flip_fraction: 0.2, lr: 1.0e-3, damping: '1e-4'}\n"
                                                     "speed: {ratio: 1.5}\n")
    (tmp_path / "envs").mkdir(exist_ok=True)
    (tmp_path / "envs" / "torch.txt").write_text("torch==2.13.0\n")
    return f"# Title\n\n{start}\n{BLOCK.strip()}\n{end}\n\n{prose}\n", tmp_path / "docs" / "results"


def _findings(tmp_path, prose: str) -> list[str]:
    readme, snapshots = _checkout(tmp_path, prose)
    assert block_problems(readme, snapshots) == []
    return unsourced_numbers(readme, snapshots, tmp_path)


def test_a_prose_number_in_no_block_is_named_with_its_line(tmp_path):
    problems = _findings(tmp_path, "GR-1 fidelity is 0.82.\nThe run took 17 min on 2 cores.")
    readme, _ = _checkout(tmp_path, "GR-1 fidelity is 0.82.\nThe run took 17 min on 2 cores.")
    line = readme.splitlines().index("The run took 17 min on 2 cores.") + 1
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"README line {line}: '17 min'") and "make readme-results" in problems[0]


def test_a_number_a_block_prints_passes_in_any_form_the_token_rules_allow(tmp_path):
    prose = ("It took 16 min 53 s (train: 863 s, 562 MB), 8.2× faster; GR-1 TC was 30.9±0.9, Pearson 0.82.\n"
             "| ours | 0.82 |")
    assert _findings(tmp_path, prose) == []


@pytest.mark.parametrize("prose, token", [
    ("Pearson 0.83 now.", "'0.83'"),                     # an old decimal after the block changed
    ("train took 863 min", "'863 min'"),                 # the block's 863 is seconds, not minutes
    ("and 8.1× faster", "'8.1×'"),
    ("PD/TC about 53/17 per seed", "'about 53/17'"),     # an approximate pair
    ("| NH | 40/0 |", "'40/0'"),                         # a hand-typed table cell
    ("lost 87–88 % of it", "'87–88 %'"),                 # a range takes the unit after it
    ("the ratio is 1.5×", "'1.5×'"),                     # ratios are measured even when a setting equals them
    ("a bare number in code: `0.1234`", "'0.1234'"),      # a code span that is only a number is no code
])
def test_unsourced_tokens_are_reported(tmp_path, prose, token):
    problems = _findings(tmp_path, prose)
    assert len(problems) == 1 and token in problems[0], problems


def test_code_settings_paper_values_versions_names_and_labels_are_exempt(tmp_path):
    prose = "\n".join([
        "```", "loss 0.1234 and 99 min", "```",                 # fenced code
        "`--lr 0.0437`, `atol=1e-11`",                          # code spans that hold code
        "lr 1e-3, damping 1e-4, flip 20% of the labels",        # config values (a percentage as a fraction)
        "the paper's 0.954 and 0.0292",                         # published_numbers.csv
        "torch 2.13, dattri 0.3.0, TF v2.1, Python 2021",       # versions, a year (plain integer)
        "ResNet-20, LIG-10, arXiv 2505.20076, glove.840B.300d",  # names
        "in 3 of 12 cells, 201 triples",                        # plain integers are not tokens
        "more steps than the paper (paper: ~200, 0.748 at T = 10)",  # a labelled paper value
        "<!-- a comment with 0.777 -->",
    ])
    assert _findings(tmp_path, prose) == []


def test_check_runs_the_prose_rule_and_exits_1(tmp_path):
    readme, snapshots = _checkout(tmp_path, "It took 45 min.")
    (tmp_path / "README.md").write_text(readme)
    assert len(check(readme, snapshots, tmp_path)) == 1
    with pytest.raises(SystemExit) as exit_code:
        main(["--check", str(tmp_path / "README.md"), "--snapshots", str(snapshots)])
    assert exit_code.value.code == 1
