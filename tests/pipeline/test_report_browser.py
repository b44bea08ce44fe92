"""Open the Snakemake report in a real headless browser (Debian's chromium) and check what it renders:
the scorecard on top, a method's figures, the software versions."""
import shutil
import subprocess

import pytest
import yaml

from tests.pipeline.test_dknn_rules import TINY

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


def test_report_renders_scorecard_figures_and_software(snakemake, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "methods": ["dknn"]}))
    args = ["--configfile", str(config)]
    snakemake("--cores", "2", *args)  # rule all: the dknn targets, the scorecard, the software versions
    snakemake("--report", "results/report.html", *args)
    report = snakemake.workdir / "results" / "report.html"
    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    for category in ("1. Scorecard", "6. DkNN", "8. Software"):
        assert category in dom
    assert "reliability.png" in dom and "saliency.html" in dom
    assert "XAI Repro reproduces five explainability papers" in dom
    shot = snakemake.workdir / "results" / "report_screenshot.png"
    chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert shot.stat().st_size > 10_000
