"""The same DAG through a real SLURM cluster (scripts/slurm_cluster.sh; CI installs and starts it):
jobs go through sbatch, outputs equal a local run's, and GPU requests reach sbatch."""
import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO, run_snakemake

TARGETS = ("data/nations", "data/german-credit", "data/sst2")


@pytest.fixture(scope="module")
def slurm():
    if shutil.which("slurmctld") is None:
        pytest.skip("SLURM is not installed: `make test` installs slurm-wlm and munge when run as root")
    subprocess.run(["bash", str(REPO / "scripts" / "slurm_cluster.sh"), "start"], check=True)
    yield
    subprocess.run(["scancel", "--user", "root"], check=False)


def _manifests(work):
    return {t: json.loads((work / t / "MANIFEST.json").read_text())["files"] for t in TARGETS}


def test_dag_runs_through_sbatch_and_equals_a_local_run(slurm, tmp_path):
    cluster, local = tmp_path / "cluster", tmp_path / "local"
    cluster.mkdir(), local.mkdir()
    proc = run_snakemake(cluster, "--profile", str(REPO / "profiles" / "slurm"), *TARGETS, timeout=600)
    out = proc.stdout + proc.stderr
    assert out.count("has been submitted with SLURM jobid") == len(TARGETS)
    job_logs = list((cluster / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(job_logs) == len(TARGETS)
    run_snakemake(local, "--cores", "1", *TARGETS)
    assert _manifests(cluster) == _manifests(local)


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
    proc = run_snakemake(work, "--profile", str(REPO / "profiles" / "slurm"),
                         "--set-resources", "download_nations:gpu=1", "download_nations:cpus_per_gpu=2",
                         "--", "data/nations", check=False, timeout=300,
                         env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert proc.returncode != 0  # the shim refuses to submit
    recorded = calls.read_text()
    assert "--gpus=1" in recorded and "--cpus-per-gpu=2" in recorded
    assert "to start at" in recorded  # SLURM accepted the request (stand-in GPU on the node)
