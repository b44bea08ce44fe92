"""The mislabel benchmark's rules: planned by both configs, and a tiny German-credit run end to end
whose table has every method, beside the rps_lje curves it shares its tasks with."""
import csv
import json

from tests.pipeline.test_rps_lje_rules import rps_config

RULES = ("mislabel_score", "mislabel_debug", "mislabel_summarize", "mislabel_report")


def test_both_configs_plan_the_benchmark(snakemake, repo):
    for extra in ([], ["--configfile", str(repo / "config" / "paper.yaml")]):
        out = snakemake("-n", "results/mislabel/summary.csv", *extra).stdout
        for rule in RULES:
            assert rule in out


def test_unknown_scorer_is_a_config_error(snakemake, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("mislabel: {scorers: [tracin], dknn_k: 10, explaind: {epochs: 1, batch_size: 8, lr: 0.1}}\n")
    proc = snakemake("-n", "--configfile", str(config), check=False)
    assert proc.returncode != 0
    assert "tracin" in proc.stdout + proc.stderr


def test_tiny_german_credit_benchmark(snakemake, repo, tmp_path, mirror):
    config = rps_config(repo, tmp_path, models=["xgboost"], runs=1, checked_step=0.2,
                        xgboost={"n_estimators": 8, "eta": 0.3, "max_depth": 3, "features": "margin", "runs": 1})
    snakemake("--cores", "1", "results/mislabel/summary.csv", "--configfile", config,
              "--config", f"data_mirror={mirror}", "methods=[rps_lje,mislabel]", timeout=600)
    work = snakemake.workdir
    rows = list(csv.DictReader(open(work / "results/mislabel/summary.csv")))
    assert [r["order"] for r in rows] == ["lje", "rps_l2", "if", "explaind", "dknn", "loss", "random"]
    auc = {r["order"]: float(r["flips_found_auc_mean"]) for r in rows}
    assert all(0 < v < 1 for v in auc.values())
    # Flips stand out on German credit (30% flipped): each scorer that looks at the labels beats the random
    # order. RPS-l2 as published fits the model's own predictions, so its |α| never sees a label. (Exact
    # margin features: with the authors' per-tree probabilities a small eta-0.3 booster leaves LJE at random.)
    assert min(v for k, v in auc.items() if k not in ("random", "rps_l2")) > auc["random"], auc
    comparison = list(csv.DictReader(open(work / "results/mislabel/comparison.csv")))
    assert {r["metric"] for r in comparison} == {f"flips_found_auc_{r['order']}" for r in rows}
    assert (work / "results/mislabel/german-credit/xgboost/debugging.png").stat().st_size > 0
    scores = json.loads((work / "results/mislabel/german-credit/xgboost/run0/scores_explaind.json").read_text())
    assert scores["epk_relative_error"] < 1e-8
