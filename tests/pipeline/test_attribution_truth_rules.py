"""The attribution ground truth's rules: planned by both configs, and a tiny German-credit run end to end
(sharded retraining, one score job per method, evaluation, report) whose table ranks every method."""
import csv

import yaml

RULES = ("truth_retrain", "truth_score", "truth_evaluate", "truth_report")


def test_both_configs_plan_the_ground_truth(snakemake, repo):
    for extra in ([], ["--configfile", str(repo / "config" / "paper.yaml")]):
        out = snakemake("-n", "results/attribution_truth/summary.md", *extra).stdout
        for rule in RULES:
            assert rule in out
        assert "results/attribution_truth/nations_distmult/scores/gr.npz" in out


def test_tiny_german_credit_ground_truth(snakemake, tmp_path):
    config = tmp_path / "truth.yaml"
    config.write_text(yaml.safe_dump({"methods": ["attribution_truth"], "attribution_truth": {
        "run": ["credit_logistic"], "test_points": 5, "loo_points": 6, "loo_seeds": 1, "lds_subsets": 8, "shards": 2}}))
    snakemake("--cores", "2", "results/attribution_truth/summary.md", "--configfile", str(config), timeout=900)
    work = snakemake.workdir
    rows = list(csv.DictReader(open(work / "results/attribution_truth/summary.csv")))
    assert {r["method"] for r in rows} == {"lje", "rps_l2", "if", "explaind", "dknn", "dattri_if", "dattri_tracin",
                                           "dattri_trak", "same_label", "random"}
    for r in rows:
        assert -1 <= float(r["lds_mean"]) <= 1 and float(r["seconds"]) >= 0 and float(r["peak_mib"]) > 0
        assert (r["test_points"], r["lds_subsets"], r["loo_points"]) == ("5", "8", "6")
    # On the logistic regression dattri's explicit influence function and ours compute the same quantity
    dattri_if = next(r for r in rows if r["method"] == "dattri_if")
    assert dattri_if["agreement_with"] == "if" and float(dattri_if["agreement"]) > 0.99
    assert (work / "results/attribution_truth/credit_logistic/truth.png").stat().st_size > 0
    assert "random (baseline)" in (work / "results/attribution_truth/summary.md").read_text()
    assert not list(work.glob("results/attribution_truth/**/*.partial.jsonl"))
    again = snakemake("-n", "results/attribution_truth/summary.md", "--configfile", str(config))
    assert "Nothing to be done" in again.stdout + again.stderr
