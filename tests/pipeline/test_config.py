"""Config validation, dry runs, unknown targets and lint: what a user sees before anything runs."""
import subprocess
import sys
from pathlib import Path

import yaml


def test_default_and_paper_configs_validate_and_plan(snakemake, repo):
    snakemake("-n")
    snakemake("-n", "--configfile", str(repo / "config" / "paper.yaml"))


def test_side_run_configs_validate_and_plan(snakemake, repo):
    """The configs of the runs made apart (README: paper-scale grokking, EE on IMDB) stay valid."""
    for name in ("grokking.yaml", "ee_imdb.yaml"):
        snakemake("-n", "--configfile", str(repo / "config" / name))


def test_unknown_key_is_named(snakemake):
    proc = snakemake("-n", "--config", "epochz=3", check=False)
    assert proc.returncode != 0
    assert "epochz" in proc.stderr + proc.stdout
    assert "Additional properties are not allowed" in proc.stderr + proc.stdout


def test_bad_value_names_key_and_allowed_values(snakemake):
    proc = snakemake("-n", "--config", "methods=[gradient_rolback]", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0
    assert "gradient_rolback" in out and "methods" in out
    assert ("methods.0: 'gradient_rolback' is not allowed (allowed: 'gradient_rollback', 'rps_lje', "
            "'empirical_explainers', 'explaind', 'dknn', 'mislabel', 'attribution_truth')") in out


def test_schema_errors_are_one_line_each_without_the_schema(snakemake):
    proc = snakemake("-n", "--config", "epochz=3", "methods=[dknn, gradient_rolback]", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0
    error = out[out.index("invalid config:"):]
    problems = [line for line in error.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2, error
    assert problems[0].startswith("  - (top level): Additional properties are not allowed ('epochz' was unexpected)")
    assert problems[1].startswith("  - methods.1: 'gradient_rolback' is not allowed")
    assert "description" not in out and len(out.splitlines()) < 60  # no dump of the ~200-line schema


def test_an_override_file_replaces_the_lists_of_what_runs(snakemake, tmp_path):
    """--configfile merges mappings into config/config.yaml, so what runs is chosen by lists, which it replaces:
    a file naming only FB15k-237 and digits2 plans neither Nations nor modulo."""
    override = tmp_path / "mine.yaml"
    override.write_text(yaml.safe_dump({
        "methods": ["gradient_rollback", "explaind"],
        "gradient_rollback": {"run": ["fb15k-237"], "datasets": {"fb15k-237": {
            "dim": 100, "epochs": 1, "negatives": 500, "credit": "hrt", "n_explain": 10, "shards": 2, "mem_mb": 10000}}},
        "explaind": {"run": ["digits2"]},
    }))
    out = snakemake("-n", "--configfile", str(override)).stdout
    assert "results/gradient_rollback/fb15k-237/distmult/metrics.json" in out
    assert "results/explaind/digits2/comparison.csv" in out
    assert "results/gradient_rollback/nations" not in out and "results/explaind/modulo" not in out


def test_a_run_list_naming_a_dataset_without_settings_is_a_clear_error(snakemake):
    proc = snakemake("-n", "--config", "gradient_rollback={'run': ['movielens-100k']}", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0
    assert "'movielens-100k' is not in the config" in out and "gradient_rollback.datasets" in out


def test_an_output_outside_the_config_names_the_key_to_set(snakemake):
    proc = snakemake("-n", "results/gradient_rollback/fb15k-237/distmult/metrics.json", check=False)
    out = proc.stderr + proc.stdout
    assert proc.returncode != 0
    assert "gradient_rollback dataset 'fb15k-237' is not in the config" in out
    assert "`gradient_rollback.datasets`" in out and "configured: nations" in out
    assert "KeyError" not in out
    proc = snakemake("-n", "results/rps_lje/cifar-10/cnn/run0/train.npz", check=False)
    assert "`rps_lje.cnn.dataset: cifar-10`" in proc.stderr + proc.stdout
    proc = snakemake("-n", "results/explaind/cifar2/seed0/epk.npz", check=False)
    assert "explaind task 'cifar2' is not in the config" in proc.stderr + proc.stdout


def test_unknown_target_is_a_clear_error(snakemake):
    proc = snakemake("-n", "data/not-a-dataset/train.txt", check=False)
    assert proc.returncode != 0
    assert "MissingRuleException" in proc.stderr + proc.stdout or "No rule to produce" in proc.stderr + proc.stdout


def test_lint_has_no_findings(repo, snakemake):
    proc = snakemake("--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_workflow_files_are_snakefmt_clean(repo):
    """snakefmt (settings in pyproject.toml) would change nothing."""
    snakefmt = Path(sys.executable).with_name("snakefmt")
    proc = subprocess.run([str(snakefmt), "--check", "Snakefile", "workflow/"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# Rules that only tabulate, plot or record: every other rule trains, retrains or explains and must say
# how long it took and how much memory it used (benchmark:).
NO_BENCHMARK = {"dknn_plot", "dknn_seeds", "ee_visualize", "explaind_attribute", "explaind_seeds", "explaind_plot",
                "explaind_plot_pruning", "explaind_plot_pipeline", "gr_topk", "gr_table", "gr_table1", "gr_plot",
                "mislabel_summarize", "mislabel_report",
                "scorecard", "software_versions", "effective_config", "rps_summarize", "rps_report", "truth_evaluate",
                "truth_report", "explaind_report"}


def test_every_rule_that_computes_has_a_benchmark(repo):
    import re

    rules = {}
    for path in (repo / "workflow" / "rules").glob("*.smk"):
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.S | re.M):
            rules[match.group(1)] = "\n    benchmark:\n" in match.group(2)
    assert {"rps_debug", "mislabel_debug", "gr_eval", "explaind_retrain_pipeline", "dknn_calibrate"} <= set(rules)
    assert NO_BENCHMARK <= set(rules), NO_BENCHMARK - set(rules)
    missing = sorted(name for name, has in rules.items() if not has and name not in NO_BENCHMARK)
    assert not missing, f"rules without benchmark: {missing}"
