"""Config validation, dry runs, unknown targets and lint: what a user sees before anything runs."""


def test_default_and_paper_configs_validate_and_plan(snakemake, repo):
    snakemake("-n")
    snakemake("-n", "--configfile", str(repo / "config" / "paper.yaml"))


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
    assert "is not one of ['gradient_rollback', 'rps_lje', 'empirical_explainers', 'explaind', 'dknn', 'mislabel']" in out


def test_unknown_target_is_a_clear_error(snakemake):
    proc = snakemake("-n", "data/not-a-dataset/train.txt", check=False)
    assert proc.returncode != 0
    assert "MissingRuleException" in proc.stderr + proc.stdout or "No rule to produce" in proc.stderr + proc.stdout


def test_lint_has_no_findings(repo, snakemake):
    proc = snakemake("--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr
