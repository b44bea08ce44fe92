"""A workflow that survives moves and clusters: a moved checkout, a switch between the local venvs and
--sdm conda, or a mirror set after a run never reruns a finished job; a changed pin reruns exactly its
environment's jobs; and the workflow parses with nothing but Snakemake installed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
# Small targets in two environments: a download and the effective config (torch env), a software listing (tf).
TARGETS = ["data/nations", "results/config.yaml", "results/software/tf.txt"]


def copy_checkout(dest: Path) -> Path:
    """What a clone would hold (tracked and untracked, not ignored), with the venvs of this checkout."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    (dest / ".venvs").symlink_to(REPO / ".venvs")
    return dest


def smk(checkout: Path, *args: str, env: dict | None = None, check: bool = True) -> str:
    """snakemake run in `checkout` as a user would (cwd there, its own Snakefile and profile)."""
    proc = subprocess.run([str(SNAKEMAKE), "--cores", "1", *args], cwd=checkout, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})
    out = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{out[-4000:]}")
    return out


def planned_rules(out: str) -> set[str]:
    return {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith(("rule ", "localrule "))}


def stand_in_conda(folder: Path) -> dict:
    """A `conda` executable answering the three queries Snakemake makes in a dry run under --sdm conda (this
    machine has no conda); nothing is created, so it is only good for planning."""
    folder.mkdir()
    info = {"conda_version": "24.7.1", "platform": "linux-64", "root_prefix": str(folder),
            "conda_prefix": str(folder), "envs_dirs": [str(folder / "envs")]}
    script = folder / "conda"
    script.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        case "$*" in
          "info --json") echo '{json.dumps(info)}' ;;
          "--version") echo "conda 24.7.1" ;;
          "config --get channel_priority --json") echo '{{"get": {{"channel_priority": "strict"}}}}' ;;
          *) echo "stand-in conda: $* is not supported" >&2; exit 1 ;;
        esac
        """))
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.slow
def test_moved_checkout_deployment_switch_and_late_mirror_rerun_nothing_but_a_pin_change_does(tmp_path):
    first = copy_checkout(tmp_path / "first")
    smk(first, "--", *TARGETS)
    assert "Nothing to be done" in smk(first, "-n", "--", *TARGETS)

    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(first, moved)
    assert "Nothing to be done" in smk(moved, "-n", "--", *TARGETS), "a moved checkout plans jobs again"

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    late = smk(moved, "-n", "--config", f"data_mirror={mirror}", "--", *TARGETS)
    assert "Nothing to be done" in late, "setting data_mirror after a run plans jobs again"

    conda = smk(moved, "-n", "--sdm", "conda", "--", *TARGETS, env=stand_in_conda(tmp_path / "conda"))
    assert "Nothing to be done" in conda, "switching to --sdm conda plans jobs again"

    # A changed pin of the tf env reruns the tf env's job, not the torch env's download ...
    pins = moved / "envs" / "tf.txt"
    pins.write_text(pins.read_text().replace("tqdm==4.70.1", "tqdm==4.70.0"))
    assert planned_rules(smk(moved, "-n", "--", *TARGETS)) == {"software_versions"}
    # ... and the launcher refuses to run it in a venv built for the old pins, saying what to do.
    failed = smk(moved, "--", *TARGETS, check=False)
    log = (moved / "results/logs/software/tf.log").read_text()
    assert "built for pins" in log and "make envs" in log, failed[-2000:]


def test_make_envs_notices_a_moved_checkout(tmp_path):
    """setup_env.sh --check (what `make envs` runs before deciding to rebuild) passes for this checkout's
    venvs and fails in a copy that uses them from another place."""
    for env in ("tf", "chainer", "torch"):
        here = subprocess.run(["bash", "scripts/setup_env.sh", "--check", env], cwd=REPO,
                              capture_output=True, text=True)
        assert here.returncode == 0, here.stdout + here.stderr
    moved = copy_checkout(tmp_path / "moved")
    there = subprocess.run(["bash", "scripts/setup_env.sh", "--check", "tf"], cwd=moved,
                           capture_output=True, text=True)
    assert there.returncode == 1 and "stale" in there.stdout, there.stdout + there.stderr
    assert f"root={REPO}" in there.stdout


@pytest.fixture(scope="session")
def bare_snakemake(tmp_path_factory):
    """A venv with only the pinned Snakemake (and what it depends on): no xairepro, no torch."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pin = next(line for line in (REPO / "envs/torch.txt").read_text().splitlines() if line.startswith("snakemake=="))
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pin],
                   check=True, capture_output=True, timeout=900)
    assert subprocess.run([str(venv / "bin/python"), "-c", "import xairepro"], capture_output=True).returncode != 0
    return venv / "bin" / "snakemake"


@pytest.mark.slow
@pytest.mark.parametrize("configfile", [None, "config/paper.yaml"])
def test_workflow_parses_with_only_snakemake_installed(bare_snakemake, tmp_path, configfile):
    args = ["-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n", "--quiet", "rules"]
    if configfile:
        args += ["--configfile", str(REPO / configfile)]
    # not even the project's venvs: the interpreters are looked up only when a job runs
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    proc = subprocess.run([str(bare_snakemake), *args], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "download_nations" in proc.stdout + proc.stderr
