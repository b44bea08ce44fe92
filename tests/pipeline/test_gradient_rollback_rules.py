"""The gradient_rollback rules end to end on Nations at a tiny size, in the tf environment (plots in the
torch environment); a forced rerun of training gives byte-identical metrics and tables."""
import csv
import json
import subprocess

import yaml

from tests.conftest import REPO

TINY = {"gradient_rollback": {"datasets": {"nations": {"dim": 4, "epochs": 1, "negatives": 13, "n_explain": 2,
                                                       "shards": 2}}, "ks": [1, "all"]}}
RUN = "results/gradient_rollback/nations/distmult"


def test_gradient_rollback_rules_run_in_the_tf_env_and_rerun_identically(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    targets = [f"{RUN}/{name}" for name in ("metrics.json", "comparison.csv", "pd_tc.png", "fidelity.png")]
    snakemake("--cores", "2", "--configfile", str(config), "--", *targets)
    run = snakemake.workdir / RUN
    outputs = ("metrics.json", "comparison.csv", "fidelity.csv", "explanations.json", "sets.json")
    first = {name: (run / name).read_bytes() for name in outputs}
    metrics = json.loads(first["metrics.json"])
    assert metrics["explained"] == 2 and set(metrics["scores"]) == {"GR-1", "NH-1", "GR-all", "NH-all"}
    assert all(0 <= s["PD"] <= 100 and 0 <= s["TC"] <= 100 for s in metrics["scores"].values())
    tf_python = REPO / ".venvs" / "tf" / "bin" / "python"
    for step in ("train", "explain", "eval/shard0-of2", "eval/shard1-of2"):
        log = (snakemake.workdir / f"results/logs/gradient_rollback/nations/distmult/{step}.log").read_text()
        assert f"interpreter {tf_python} " in log  # the rule ran in the tf env, where torch is not importable:
    no_torch = subprocess.run([str(tf_python), "-c", "import torch"], capture_output=True, text=True)
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr
    rows = list(csv.DictReader(open(run / "comparison.csv")))
    assert {r["experiment"] for r in rows} == {"table1_GR-1", "table1_NH-1", "table1_GR-all", "table1_NH-all"}
    assert [r["published"] for r in rows if r["experiment"] == "table1_GR-1" and r["metric"] == "PD"] == ["93"]
    assert (run / "pd_tc.png").read_bytes()[:4] == b"\x89PNG"
    snakemake("--cores", "2", "--configfile", str(config), "--forcerun", "gr_train", "--", *targets)
    assert {name: (run / name).read_bytes() for name in outputs} == first
