"""The rehearsal (config/rehearsal.yaml on top of config/paper.yaml, README: Rehearsal): the paper DAG on
miniatures. Its plan covers every rule of the paper plan, with every dataset, model, architecture and
explainer (wildcard values up to their numbers); a dataset or model missing from its mirror stops the run
before any compute job, naming what is missing; and the whole run finishes green, offline, on CPU."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, run_snakemake

PAPER = ("--configfile", str(REPO / "config/paper.yaml"))
REHEARSAL = ("--configfile", str(REPO / "config/paper.yaml"), str(REPO / "config/rehearsal.yaml"))
# Wildcards that count (runs, seeds, shards): the rehearsal has fewer of them by design. An explainer's
# budget (lig-25 in the paper, lig-2 here) is a size too: compared without its number.
COUNTS = {"run", "seed", "ee_seed", "shard", "shards"}
SIZED = {"explainer"}
# What may run before the first compute job: downloads and the two input-free bookkeeping rules.
NOT_COMPUTE = re.compile(r"^(download_.*|software_versions|effective_config)$")


def _plan(workdir, *config) -> dict[str, set]:
    """rule -> set of its jobs' wildcards (counts left out, sized values without their number), from -n."""
    proc = run_snakemake(workdir, "-n", "--cores", "2", *config, timeout=300)
    plan, rule = {}, None
    for line in proc.stdout.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            rule = m.group(1)
            plan.setdefault(rule, set())
            continue
        m = re.match(r"^wildcards: (.*)$", line.strip())
        if m and rule:
            pairs = (kv.split("=", 1) for kv in m.group(1).split(", "))
            plan[rule].add(tuple(sorted((k, re.sub(r"\d+", "#", v) if k in SIZED else v)
                                        for k, v in pairs if k not in COUNTS)))
    assert plan, f"no job in the dry run:\n{proc.stdout[-2000:]}"
    return plan


def test_rehearsal_plans_every_rule_and_variant_of_the_paper(tmp_path):
    (tmp_path / "paper").mkdir(), (tmp_path / "rehearsal").mkdir()
    paper = _plan(tmp_path / "paper", *PAPER)
    rehearsal = _plan(tmp_path / "rehearsal", *REHEARSAL)
    missing_rules = sorted(set(paper) - set(rehearsal))
    assert not missing_rules, f"rules the paper config plans and the rehearsal does not: {missing_rules}"
    missing = {rule: sorted(paper[rule] - rehearsal[rule]) for rule in paper if paper[rule] - rehearsal[rule]}
    assert not missing, f"jobs (wildcards) the paper config plans and the rehearsal does not: {missing}"
    # the rehearsal stays a rehearsal: miniature mirror, its own checksums, CPU
    assert any(r.startswith("download_model_") for r in rehearsal)


def _mirror(path, *skip):
    cmd = [sys.executable, "-m", "xairepro.data.miniatures", str(path), *(("--skip", *skip) if skip else ())]
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("missing, expected", [
    ("snli", "mirror/snli/snli_1.0.zip"),
    ("paws", "mirror/paws/paws_wiki_labeled_final.tar.gz"),
    ("xlnet-base-cased", "mirror/models/xlnet-base-cased"),
])
def test_missing_from_the_mirror_stops_before_any_compute_job(tmp_path, missing, expected):
    """The workflow's onstart checks the mirror once the DAG is built: no job starts, whatever the scheduling
    order (a failing download alone would let a compute job start on a free core first)."""
    work = tmp_path / "work"
    _mirror(work / "mirror", missing)
    proc = run_snakemake(work, "--cores", "2", *REHEARSAL, check=False, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, "the run went on although the mirror lacks " + missing
    started = set(re.findall(r"^(?:local)?rule (\S+):$", out, flags=re.M))
    compute = sorted(r for r in started if not NOT_COMPUTE.match(r))
    assert not compute, f"compute jobs started before the missing {missing} stopped the run: {compute}"
    assert not (work / "results" / "benchmarks").exists()
    assert missing in out and expected in out and "nothing was started" in out, \
        f"no error naming {missing} and {expected}:\n{out[-3000:]}"


def test_rehearsal_mirror_is_refused_without_rehearsal(tmp_path):
    """The miniatures' own checksums are accepted only when the config says rehearsal: a real run
    pointed at the rehearsal mirror fails the registry's checksums."""
    _mirror(tmp_path / "mirror")
    proc = subprocess.run([sys.executable, "-m", "xairepro.data.download", "imdb", str(tmp_path / "imdb"),
                           "--mirror", str(tmp_path / "mirror")], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "XAIREPRO_REHEARSAL": ""})
    assert proc.returncode != 0 and "checksum mismatch" in proc.stderr
    assert not (tmp_path / "imdb").exists()


@pytest.mark.slow
def test_rehearsal_finishes_green(tmp_path):
    """The whole rehearsal, as `make rehearsal` runs it (budget: 20 min on 2 cores)."""
    work = tmp_path / "work"
    _mirror(work / "mirror")
    start = time.monotonic()
    proc = run_snakemake(work, "--cores", "2", *REHEARSAL, timeout=2400)
    minutes = (time.monotonic() - start) / 60
    assert "steps (100%) done" in proc.stdout + proc.stderr
    assert (work / "results" / "scorecard.csv").exists()
    print(f"rehearsal: {minutes:.1f} min")
