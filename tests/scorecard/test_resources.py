"""The measured resource table (xairepro.scorecard.resources): a law applied to hand-made benchmark files gives
the hand-computed extrapolation, start-up subtracted; requests below it are flagged; and every cluster rule of
the paper DAG has a law (a new rule without one fails here)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from xairepro.scorecard import resources as R

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(run: Path, path: str, cpu_s: float, peak_mb: float, wall_s: float = 99.0) -> None:
    file = run / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(HEADER + f"{wall_s}\t0:01:39\t{peak_mb}\t0\t0\t0\t0\t0\t10\t{cpu_s}\n")


def job(rule: str, size: int, runtime: int = 600, mem_mb: int = 100000, gpu: bool = False, method: str = "demo") -> R.Job:
    resources = {"runtime": str(runtime), "mem_mb": str(mem_mb), **({"gpu": "1"} if gpu else {})}
    return R.Job(rule, {"size": str(size)}, 1, resources, f"results/benchmarks/{method}/{rule}/size{size}.tsv", "torch")


@pytest.fixture
def demo_law(monkeypatch):
    """A rule whose W is its `size` wildcard and whose memory grows by one MiB per unit of W."""
    law = R.Law((), "size", lambda scale, w: float(w["size"]), "+ 1 MiB per unit", lambda scale, w: float(w["size"]) * R.MIB)
    monkeypatch.setitem(R.LAWS, "demo_step", law)
    monkeypatch.setitem(R.LAWS, "demo_gpu_step", law)
    return law


def measured_run(tmp_path: Path, rule: str = "demo_step") -> tuple[str, Path, list[R.Job], R.Scale]:
    """A smallest job of the method (CPU 1.0 s: the start-up) and `rule` at W = 10 (CPU 4.0 s, 300 MB) and
    W = 30 (CPU 8.0 s, 400 MB)."""
    run = tmp_path / "run"
    jobs = [job("demo_tiny", 1), job(rule, 10), job(rule, 30)]
    for j, (cpu, peak) in zip(jobs, [(1.0, 100.0), (4.0, 300.0), (8.0, 400.0)]):
        write_benchmark(run, j.benchmark, cpu, peak)
    return "run", run, jobs, R.Scale({}, R.Sizes())


def test_a_pair_of_benchmark_files_extrapolates_by_hand_with_the_start_up_subtracted(tmp_path, demo_law):
    run = tmp_path / "run"
    jobs = [job("demo_tiny", 1), job("demo_step", 10)]
    write_benchmark(run, jobs[0].benchmark, 1.0, 100.0)   # the smallest job of the method: start-up 1.0 s
    write_benchmark(run, jobs[1].benchmark, 21.0, 300.0)  # W = 10: 20 s beyond the start-up
    rows = R.table([job("demo_step", 1000)], R.Scale({}, R.Sizes()), [("run", run, jobs, R.Scale({}, R.Sizes()))])
    row = next(r for r in rows if r.rule == "demo_step")
    # 1.0 s start-up once, the 20 s beyond it scaled by 1000 / 10 (not the whole 21 s: that would be 2100 s)
    assert row.cpu_s == pytest.approx(1.0 + 20.0 * 100)
    assert row.peak_mb == pytest.approx(300.0 + (1000 - 10))  # + 1 MiB per unit of W
    assert "upper bound" in row.how


def test_two_sizes_are_fitted_and_extrapolated_by_hand(tmp_path, demo_law):
    rows = R.table([job("demo_step", 1000)], R.Scale({}, R.Sizes()), [measured_run(tmp_path)])
    row = next(r for r in rows if r.rule == "demo_step")
    # rests beyond the 1.0 s start-up: 3.0 s at W = 10, 7.0 s at W = 30 -> b = 0.2 s per unit, a = 1.0 s
    assert row.cpu_s == pytest.approx(1.0 + 1.0 + 0.2 * 1000)
    # the heaviest measured job (400 MB at W = 30) plus the bytes the paper's W adds: (1000 - 30) MiB
    assert row.peak_mb == pytest.approx(400.0 + 970.0)
    assert row.beyond == pytest.approx(1000 / 30)
    # the wall seconds (99 s in every file) play no part: the law reads CPU time
    assert "a + b·W, 2 jobs" in row.how


def test_a_request_below_the_extrapolation_is_flagged_and_one_above_is_not(tmp_path, demo_law):
    paper = [job("demo_step", 1000, runtime=5, mem_mb=2000),          # 300 s < 1.5 × 202 s; 2000 < 1.5 × 1370 MB
             job("demo_step", 10, runtime=600, mem_mb=100000)]       # far above its 4 s and 300 MB
    rows = {r.key: r for r in R.table(paper, R.Scale({}, R.Sizes()), [measured_run(tmp_path)]) if r.rule == "demo_step"}
    assert rows["1000"].flags == ["runtime", "mem_mb"]
    assert rows["1000"].needs() == (10, 3000)  # 1.5 × 202 s = 5.05 min -> 10 min; 1.5 × 1370 MB -> 3000 MB
    assert rows["10"].flags == []
    assert "runtime: needs 10 min" in R.flag_text(rows["1000"]) and "mem_mb: needs 3000" in R.flag_text(rows["1000"])


def test_a_gpu_rule_is_not_flagged_for_time_or_host_memory_but_says_what_the_gpu_must_do(tmp_path, demo_law):
    run = measured_run(tmp_path, "demo_gpu_step")
    rows = R.table([job("demo_gpu_step", 1000, runtime=1, mem_mb=10, gpu=True)], R.Scale({}, R.Sizes()), [run])
    row = next(r for r in rows if r.rule == "demo_gpu_step")
    assert row.cpu_s == pytest.approx(202.0) and row.flags == []
    assert "GPU ≥ 3× one core" in R.flag_text(row)  # 202 s of CPU in a 60 s runtime
    assert "GPU memory" in R.flag_text(row)


def test_a_single_small_job_is_not_extrapolated_and_a_work_dominated_one_is_an_upper_bound():
    too_small = R.fit([(10.0, 3.0)], start=1.0)           # 4 s CPU, under ten times the 1 s start-up
    assert isinstance(too_small, str) and "too little work" in too_small
    dominated = R.fit([(10.0, 19.0)], start=1.0)          # 20 s CPU
    assert dominated.slope == pytest.approx(1.9) and dominated.intercept == 0 and "upper bound" in dominated.how


def test_sizes_that_show_no_growth_give_no_extrapolation():
    flat = R.fit([(10.0, 3.0), (1000.0, 3.2)], start=1.0)
    assert isinstance(flat, str) and "does not grow" in flat
    through_origin = R.fit([(10.0, 1.0), (20.0, 5.0), (40.0, 9.0)], start=1.0)  # least squares: a < 0
    assert through_origin.intercept == 0 and through_origin.slope == pytest.approx((10 + 100 + 360) / (100 + 400 + 1600))


def test_a_benchmark_written_before_the_rule_had_a_seed_is_read_for_seed_0(tmp_path):
    assert R.legacy_benchmark("results/benchmarks/explaind/cifar2/seed0/epk.tsv") == "results/benchmarks/explaind/cifar2/epk.tsv"
    assert R.legacy_benchmark("results/benchmarks/ee/x/lig-2/train_explainer_seed0.tsv").endswith("lig-2/train_explainer.tsv")
    write_benchmark(tmp_path, "results/benchmarks/explaind/cifar2/epk.tsv", 5.0, 10.0)
    jobs = [R.Job("explaind_epk", {"task": "cifar2", "seed": s}, 1, {}, f"results/benchmarks/explaind/cifar2/seed{s}/epk.tsv",
                  "torch") for s in ("0", "1")]
    found = R.measure(tmp_path, jobs)
    assert [(j.wildcards["seed"], legacy) for j, _, legacy in found] == [("0", True)]


def test_parse_plan_reads_rule_wildcards_threads_resources_benchmark_and_environment():
    text = """
rule gr_eval:
    input: data/fb15k-237
    benchmark: results/benchmarks/gradient_rollback/fb15k-237/distmult/eval/shard9-of100.tsv
    wildcards: dataset=fb15k-237, model=distmult, shard=9, shards=100
    threads: 2
    resources: tmpdir=/tmp, runtime=240, mem_mb=10000, mem=10 GB, gpu=1
Shell command: xairepro-env tf@74bd475e3974 -m xairepro.gradient_rollback.evaluate --shard 9

rule gr_topk:
    wildcards: dataset=nations, model=distmult
    resources: tmpdir=/tmp, runtime=10, mem_mb=1000
"""
    eval_job, topk = R.parse_plan(text)
    assert (eval_job.rule, eval_job.threads, eval_job.env) == ("gr_eval", 2, "tf")
    assert eval_job.wildcards == {"dataset": "fb15k-237", "model": "distmult", "shard": "9", "shards": "100"}
    assert eval_job.resources["mem_mb"] == "10000" and eval_job.resources["gpu"] == "1"
    assert eval_job.benchmark.endswith("shard9-of100.tsv")
    assert (topk.rule, topk.benchmark, topk.threads) == ("gr_topk", None, 1)


@pytest.fixture(scope="module")
def paper_jobs() -> list[R.Job]:
    return R.paper_plan(REPO / "config" / "paper.yaml")


def test_every_cluster_rule_of_the_paper_dag_has_a_law_or_a_reason(paper_jobs):
    benchmarked = {j.rule for j in paper_jobs if j.benchmark}
    missing = sorted(benchmarked - set(R.LAWS) - set(R.NOT_EXTRAPOLATED))
    assert not missing, f"paper rules with a benchmark but no scaling law in xairepro.scorecard.resources: {missing}"
    # and every law computes a positive W (and no negative growth) for every paper job of its rule
    scale = R.Scale(R.load_config(REPO / "config" / "paper.yaml"), R.Sizes())
    for j in paper_jobs:
        if j.rule in R.LAWS:
            law = R.LAWS[j.rule]
            assert law.work(scale, j.wildcards) > 0, (j.rule, j.wildcards)
            assert law.grows(scale, j.wildcards) >= 0, (j.rule, j.wildcards)


def test_the_slurm_profile_gives_the_gpu_rules_their_gpu_in_the_plan(paper_jobs):
    gpu = {j.rule for j in paper_jobs if "gpu" in j.resources}
    assert {"explaind_epk", "rps_train", "ee_target_explain"} <= gpu and "gr_eval" not in gpu


def test_the_markdown_has_one_line_per_rule_and_a_line_per_paper(tmp_path, demo_law):
    rows = R.table([job("demo_step", 1000, runtime=5, mem_mb=2000), job("demo_tiny", 1)], R.Scale({}, R.Sizes()),
                   [measured_run(tmp_path)])
    text = R.markdown(rows, ["run"])
    assert "| demo_step | 1 | size |" in text and "mem_mb, runtime" in text
    assert "| demo_tiny | 1 | no law: no scaling law" in text
