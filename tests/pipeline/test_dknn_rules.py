"""The dknn rules end to end on a tiny SST-2 setting, in the chainer environment: one run per seed, the
scorecard table is their mean ± std, and a forced rerun gives byte-identical metrics."""
import csv
import json
import statistics
import subprocess

import pytest
import yaml

from tests.conftest import REPO

TINY = {"dknn": {"models": ["cnn"], "word_vectors": None, "epochs": 2, "max_train": 200, "seeds": [0, 1],
                 "n_calib": 60, "k": 5, "n_interpret": 2, "unit": 32, "embed_size": 16, "temperature_epochs": 5}}


def test_dknn_rules_run_in_the_chainer_env_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    run = snakemake.workdir / "results/dknn/sst2/cnn"
    seeds = TINY["dknn"]["seeds"]
    targets = [f"results/dknn/sst2/cnn/seed{s}/{name}" for s in seeds
               for name in ("metrics.json", "reliability.png", "saliency.html")] + ["results/dknn/sst2/cnn/comparison.csv"]
    snakemake("--cores", "2", "--configfile", str(config), "--", *targets)
    first = {s: (run / f"seed{s}" / "metrics.json").read_bytes() for s in seeds}
    assert first[0] != first[1]  # the seed reaches the training
    for seed in seeds:
        metrics = json.loads(first[seed])
        assert 0 <= metrics["accuracy_dknn"] <= 100 and 0 <= metrics["ece_dknn_credibility"] <= 100
        assert 0 <= metrics["ece_dknn_vote_fraction"] <= 100
        assert metrics["n_indexed"] == 200 and metrics["n_calibration"] == 60 and metrics["k"] == 5
        log = (snakemake.workdir / f"results/logs/dknn/sst2/cnn/seed{seed}/train.log").read_text()
        chainer_python = REPO / ".venvs" / "chainer" / "bin" / "python"
        assert f"interpreter {chainer_python} " in log  # the rule ran in the chainer env, where numpy < 2:
        numpy = subprocess.run([str(chainer_python), "-c", "import numpy; print(numpy.__version__)"],
                               capture_output=True, text=True, check=True).stdout
        assert numpy.startswith("1.")
        assert (run / f"seed{seed}" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
        assert "<table>" in (run / f"seed{seed}" / "saliency.html").read_text()
    with open(run / "comparison.csv", newline="") as f:
        combined = {r["metric"]: r for r in csv.DictReader(f)}
    accuracies = [json.loads(first[s])["accuracy_dknn"] for s in seeds]
    assert float(combined["accuracy_dknn"]["ours"]) == pytest.approx(statistics.fmean(accuracies), rel=1e-5)
    assert float(combined["accuracy_dknn"]["ours_std"]) == pytest.approx(statistics.stdev(accuracies), rel=1e-5)
    assert combined["accuracy_dknn"]["runs"] == "2"
    snakemake("--cores", "2", "--configfile", str(config), "--forcerun", "dknn_train", "--", *targets)
    assert {s: (run / f"seed{s}" / "metrics.json").read_bytes() for s in seeds} == first
