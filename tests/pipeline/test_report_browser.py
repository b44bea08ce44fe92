"""Open the Snakemake report in a real headless browser (Debian's chromium) and check what it renders."""
import shutil
import subprocess

import pytest

from conftest import REPO

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=8000", "--window-size=1400,1000"]


def chromium(tmp_path, *args):
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed: `make test` installs it when run as root")
    proc = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def build_report(snakemake, *targets):
    snakemake("--cores", "2", *targets)
    snakemake("--report", "results/report.html", *targets)
    return snakemake.workdir / "results" / "report.html"


def test_report_renders_the_scorecard_and_software(snakemake, tmp_path):
    targets = ["results/scorecard.csv", "results/software/tf.txt", "results/software/chainer.txt"]
    report = build_report(snakemake, *targets)
    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert "1. Scorecard" in dom and "6. Software" in dom
    assert "XAI Repro reproduces five explainability papers" in dom
    shot = snakemake.workdir / "results" / "report_screenshot.png"
    chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert shot.stat().st_size > 10_000
