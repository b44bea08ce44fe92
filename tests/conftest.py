"""Shared fixtures: the repository root, the shared data mirror, and a snakemake runner that works in
a scratch directory so tests never touch the user's results/ or data/."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "data"  # CI clones the repo beside shared/


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"the offline data mirror {MIRROR} is not here (CI has it beside the clone)")
    return MIRROR


def run_snakemake(workdir: Path, *args: str, timeout: int = 900, env: dict | None = None,
                  check: bool = True) -> subprocess.CompletedProcess:
    """Run the repository's workflow with `workdir` as working directory; output is captured."""
    snakemake = Path(sys.executable).with_name("snakemake")
    cmd = [str(snakemake), "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture
def snakemake(tmp_path):
    """snakemake(*args) in a fresh scratch working directory (tmp_path/work)."""
    work = tmp_path / "work"
    work.mkdir()

    def _run(*args, **kwargs):
        return run_snakemake(work, *args, **kwargs)

    _run.workdir = work
    return _run
