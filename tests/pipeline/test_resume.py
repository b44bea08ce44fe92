"""A run killed in the middle of a job starts again where it stopped: finished outputs stay as they
were, the interrupted job is redone, and it never leaves a half-written output behind."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, run_snakemake


def test_killed_run_resumes_without_redoing_finished_outputs(mirror, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    mirror_cfg = f"data_mirror={mirror}"
    run_snakemake(work, "--cores", "1", "--config", mirror_cfg, "--", "data/nations")
    nations_mtime = (work / "data/nations/MANIFEST.json").stat().st_mtime_ns

    # imdb takes ~20 s to verify and unpack 50k files: interrupt the whole run (Ctrl-C: SIGINT to the
    # process group, the job included) while it is busy. (After a SIGKILL of snakemake itself, its
    # lock stays: `snakemake --unlock` first, as the README says.)
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--cores", "1", "--config", mirror_cfg, "--", "data/nations", "data/imdb"]
    # A shell starts background jobs with SIGINT ignored, and children inherit that: restore the default,
    # or the Ctrl-C below would be ignored and the run would simply finish.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = work / "results/logs/data/imdb.log"
    deadline = time.time() + 120
    while not (log.exists() and "fetching" in log.read_text()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    assert proc.poll() is None, "the imdb job finished before it could be killed"
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait()
    assert not (work / "data/imdb").exists()  # nothing that looks complete

    rerun = run_snakemake(work, "--cores", "1", "--config", mirror_cfg, "--", "data/nations", "data/imdb")
    assert "rule download_nations" not in rerun.stdout + rerun.stderr  # not planned again
    assert (work / "data/nations/MANIFEST.json").stat().st_mtime_ns == nations_mtime
    assert (work / "data/imdb/MANIFEST.json").exists()
    assert not list((work / "data").glob(".imdb.partial-*"))
