"""The same DAG through a real SLURM cluster (scripts/slurm_cluster.sh; CI installs and starts it):
compute jobs go through sbatch while local rules (downloads) run on the submitting node, outputs equal a
local run's, a slice of the paper DAG's rehearsal (miniature mirror, paper-only datasets) runs through it,
and GPU requests reach sbatch."""
import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO, run_snakemake

# Three CPU jobs of seconds each (ground-truth scores on German credit); their download is a local rule and
# is not submitted. (GPU jobs cannot run on the stand-in GPU: see test_gpu_request_reaches_sbatch.)
TARGETS = tuple(f"results/attribution_truth/credit_logistic/scores/{m}.npz" for m in ("if", "same_label", "random"))
GPU_TARGET = "results/rps_lje/german-credit/xgboost/run0/train_metrics.json"


@pytest.fixture(scope="module")
def slurm():
    if shutil.which("slurmctld") is None:
        pytest.skip("SLURM is not installed: `make test` installs slurm-wlm and munge when run as root")
    subprocess.run(["bash", str(REPO / "scripts" / "slurm_cluster.sh"), "start"], check=True)
    yield
    subprocess.run(["scancel", "--user", "root"], check=False)


def _outputs(work):
    import numpy as np

    return {t: np.load(work / t)["scores"].tobytes() for t in TARGETS}


def test_dag_runs_through_sbatch_and_equals_a_local_run(slurm, tmp_path):
    cluster, local = tmp_path / "cluster", tmp_path / "local"
    cluster.mkdir(), local.mkdir()
    proc = run_snakemake(cluster, "--profile", str(REPO / "profiles" / "slurm"), *TARGETS, timeout=600)
    out = proc.stdout + proc.stderr
    assert out.count("has been submitted with SLURM jobid") == len(TARGETS)
    job_logs = list((cluster / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(job_logs) == len(TARGETS)
    assert (cluster / "data/german-credit/MANIFEST.json").exists()  # downloaded on this node, not submitted
    run_snakemake(local, "--cores", "1", *TARGETS)
    assert _outputs(cluster) == _outputs(local)


# Two CPU compute jobs of the rehearsal on datasets only the paper config uses (FB15k-237 for GR in TF,
# SNLI for DkNN in Chainer), each after its download from the miniature mirror (a local rule).
REHEARSAL_SLICE = ("results/gradient_rollback/fb15k-237/distmult/train_metrics.json",
                   "results/dknn/snli/char_bilstm/seed0/train_log.json")


def test_a_rehearsal_slice_runs_through_sbatch(slurm, tmp_path):
    import sys

    work = tmp_path / "work"
    subprocess.run([sys.executable, "-m", "xairepro.data.miniatures", str(work / "mirror")], check=True,
                   capture_output=True, cwd=REPO, timeout=300)
    proc = run_snakemake(work, "--profile", str(REPO / "profiles" / "slurm"), "--configfile",
                         str(REPO / "config/paper.yaml"), str(REPO / "config/rehearsal.yaml"), "--",
                         *REHEARSAL_SLICE, timeout=900)
    out = proc.stdout + proc.stderr
    assert out.count("has been submitted with SLURM jobid") == len(REHEARSAL_SLICE)
    for dataset in ("fb15k-237", "snli"):   # staged from the mirror on this node, not submitted
        assert (work / "data" / dataset / "MANIFEST.json").exists()
    assert all((work / target).stat().st_size > 0 for target in REHEARSAL_SLICE)


def test_gpu_request_reaches_sbatch(slurm, tmp_path):
    """A GPU job cannot run on this GPU-less node's stand-in GPU for real, so sbatch is replaced by a
    shim that records the call and asks SLURM to validate it without running it (--test-only)."""
    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir(), work.mkdir()
    calls = tmp_path / "sbatch_calls.txt"
    real = shutil.which("sbatch")
    (bin_dir / "sbatch").write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n{real} --test-only "$@" >> {calls} 2>&1\n'
        'echo "test only: not submitted" >&2\nexit 1\n')
    (bin_dir / "sbatch").chmod(0o755)
    # rps_train's request, with 2 CPUs per GPU as this 2-core node has (the profile's 4 would not fit it)
    proc = run_snakemake(work, "--profile", str(REPO / "profiles" / "slurm"),
                         "--set-resources", "rps_train:gpu=1", "rps_train:cpus_per_gpu=2", "--", GPU_TARGET, check=False, timeout=300,
                         env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert proc.returncode != 0  # the shim refuses to submit
    recorded = calls.read_text()
    assert "--gpus=1" in recorded and "--cpus-per-gpu=2" in recorded
    assert "to start at" in recorded  # SLURM accepted the request (stand-in GPU on the node)
