"""The dknn rules end to end on a tiny SST-2 setting, in the chainer environment; a forced rerun
gives byte-identical metrics."""
import json
import subprocess

import yaml

from tests.conftest import REPO

TINY = {"dknn": {"models": ["cnn"], "word_vectors": None, "epochs": 2, "max_train": 200,
                 "n_calib": 60, "k": 5, "n_interpret": 2, "unit": 32, "embed_size": 16, "temperature_epochs": 5}}


def test_dknn_rules_run_in_the_chainer_env_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    run = snakemake.workdir / "results/dknn/sst2"
    targets = [f"results/dknn/sst2/{m}/{name}" for m in TINY["dknn"]["models"]
               for name in ("metrics.json", "reliability.png", "saliency.html", "comparison.csv")]
    snakemake("--cores", "2", "--configfile", str(config), "--", *targets)
    first = {m: (run / m / "metrics.json").read_bytes() for m in TINY["dknn"]["models"]}
    for model in TINY["dknn"]["models"]:
        metrics = json.loads(first[model])
        assert 0 <= metrics["accuracy_dknn"] <= 100 and 0 <= metrics["ece_dknn_credibility"] <= 100
        assert 0 <= metrics["ece_dknn_vote_fraction"] <= 100
        assert metrics["n_indexed"] == 200 and metrics["n_calibration"] == 60 and metrics["k"] == 5
        log = (snakemake.workdir / f"results/logs/dknn/sst2/{model}/train.log").read_text()
        chainer_python = REPO / ".venvs" / "chainer" / "bin" / "python"
        assert f"interpreter {chainer_python} " in log  # the rule ran in the chainer env, where numpy < 2:
        numpy = subprocess.run([str(chainer_python), "-c", "import numpy; print(numpy.__version__)"],
                               capture_output=True, text=True, check=True).stdout
        assert numpy.startswith("1.")
        assert (run / model / "reliability.png").read_bytes()[:4] == b"\x89PNG"
        assert "<table>" in (run / model / "saliency.html").read_text()
        header = (run / model / "comparison.csv").read_text().splitlines()[0]
        assert header == "paper,experiment,dataset,model,metric,published,ours,ours_std,runs,source"
    snakemake("--cores", "2", "--configfile", str(config), "--forcerun", "dknn_train", "--", *targets)
    assert {m: (run / m / "metrics.json").read_bytes() for m in TINY["dknn"]["models"]} == first
