import os

import pytest

from xairepro.published import rows as published_rows
from xairepro.scorecard.build import build, markdown, verdict
from xairepro.scorecard.readme import END, START, splice

HEADER = "paper,experiment,dataset,model,metric,published,ours,source\n"


def _table(tmp_path, lines):
    path = tmp_path / "table.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    return path


def test_verdict_flips_to_off_outside_the_tolerance():
    assert verdict("93", "90", "5") == "one run, no verdict: within ±5"
    assert verdict("93", "98", "5") == "one run, no verdict: within ±5"
    assert verdict("93", "87", "5") == "one run, no verdict: off by -6"
    assert verdict("93", "92", "5", "1", "3") == "reproduced (±2.5)"       # 3 runs: t(2) 4.30 × 1 / √3
    assert verdict("93", "", "5") == "not run"
    assert verdict("", "0.8", "") == "no published value"


def test_scorecard_has_one_row_per_published_number_of_the_methods_that_ran(tmp_path):
    table = _table(tmp_path, [
        "gradient_rollback,table1_GR-1,nations,distmult,PD,93,91,run",
        "gradient_rollback,table1_GR-1,nations,distmult,TC,38,20,run",
        "gradient_rollback,fidelity,nations,distmult,pearson,,0.9,run",
        "gradient_rollback,fidelity,nations,distmult,secondary_metric,0.75,0.9,a secondary source",
    ])
    rows = build([table])
    gr_published = [r for r in published_rows() if r["paper"] == "gradient_rollback"]
    assert {r["paper"] for r in rows} == {"gradient_rollback"}  # methods that did not run are left out
    assert len(rows) == len(gr_published) + 2
    by_key = {(r["experiment"], r["metric"]): r for r in rows}
    assert by_key[("table1_GR-1", "PD")]["verdict"] == "one run, no verdict: within ±5"
    assert by_key[("table1_GR-1", "TC")]["verdict"] == "one run, no verdict: off by -18"
    assert by_key[("table1_NH-1", "PD")]["verdict"] == "not run"
    assert by_key[("fidelity", "pearson")]["verdict"] == "no published value"
    # a value a table brings from a secondary source is shown, without a verdict
    secondary = by_key[("fidelity", "secondary_metric")]
    assert (secondary["published"], secondary["verdict"]) == ("0.75", "secondary value, no verdict")
    assert "2 from one run" in markdown(rows) and "1 beside a secondary value" in markdown(rows)


def test_readme_block_is_replaced_between_the_markers():
    readme = f"intro\n{START}\nold numbers\n{END}\noutro\n"
    assert splice(readme, "| new |\n") == f"intro\n{START}\n| new |\n{END}\noutro\n"
    with pytest.raises(ValueError, match="results markers"):
        splice("no markers", "x")


def test_a_fixed_tolerance_is_compared_with_our_whole_seed_interval():
    # 4 runs, std 1: standard error 0.5, 95% t interval (3 df) ± 1.59
    assert verdict("93", "90", "5", "1", "4") == "reproduced (±1.6)"     # 88.4..91.6 inside 88..98
    assert verdict("93", "85", "5", "1", "4") == "off by -8 (±1.6)"      # 83.4..86.6 all outside
    assert verdict("93", "89", "5", "1", "4").startswith("inconclusive")  # 87.4..90.6 straddles 88
    # with 3 seeds the t quantile (4.30), not 2, sets the width: ±2.5 here, not ±1.2
    assert verdict("93", "90", "5", "1", "3").startswith("inconclusive")
    # a std 10 times larger: the same mean cannot be called reproduced
    assert verdict("93", "90", "5", "10", "4").startswith("inconclusive")


def test_spread_verdict_uses_the_standard_error_of_our_mean_over_runs():
    # 10 runs, std 0.01: standard error 0.00316, 95% t interval ±2.262 SE = ±0.0072
    assert verdict("0.744", "0.749", "2se", "0.01", "10") == "reproduced (±0.0072)"
    assert verdict("0.744", "0.754", "2se", "0.01", "10").startswith("off by +0.01")
    # the paper's value is one run: our run-to-run std is the yardstick (±0.02)
    assert verdict("0.487", "0.50", "2sd", "0.01", "3") == "reproduced (±0.02)"
    assert verdict("0.487", "0.53", "2sd", "0.01", "3").startswith("off by")
    assert verdict("0.744", "0.749", "2se", "", "1") == "one run, no verdict: off by +0.005"


def test_a_gap_smaller_than_our_spread_is_inconclusive_not_reproduced():
    # paper effect +0.014; 3 runs with std 0.015 give ±0.037 (t interval): cannot confirm or refute it
    assert verdict("0.014", "0.012", "2se", "0.015", "3", metric="test_accuracy_gap_lje").startswith("inconclusive")
    # 10 runs with std 0.01 give ±0.0072 < 0.014: a verdict either way
    assert verdict("0.014", "0.012", "2se", "0.01", "10", metric="test_accuracy_gap_lje").startswith("reproduced")
    assert verdict("0.014", "-0.005", "2se", "0.01", "10", metric="test_accuracy_gap_lje").startswith("off by")
    # an interval that excludes the paper's effect is "off", however wide it is
    assert verdict("0.014", "-0.06", "2se", "0.04", "10", metric="test_accuracy_gap_lje").startswith("off by")


def test_reference_curve_points_are_not_scorecard_rows(tmp_path):
    table = _table(tmp_path, ["rps_lje,debugging_40pct,german-credit,xgboost,test_accuracy_lje,0.744,0.75,run"])
    rows = build([table])
    assert rows and not any(r["experiment"] == "debugging_curve" for r in rows)
    assert any(r["experiment"] == "debugging_gap_40pct" and r["verdict"] == "not run" for r in rows)


def test_per_seed_tables_combine_into_mean_std_and_runs():
    from xairepro.scorecard.seeds import combine

    def table(acc, ece):
        key = {"paper": "dknn", "experiment": "accuracy", "dataset": "sst2", "model": "cnn", "published": "", "source": "s"}
        return [{**key, "metric": "accuracy_dknn", "ours": str(acc)}, {**key, "metric": "ece", "ours": str(ece)}]

    rows = {r["metric"]: r for r in combine([table(80, 9), table(82, 12), table(84, 9)])}
    assert rows["accuracy_dknn"]["ours"] == "82" and rows["accuracy_dknn"]["ours_std"] == "2"
    assert rows["ece"]["ours"] == "10" and float(rows["ece"]["ours_std"]) == pytest.approx(3 ** 0.5)
    assert rows["ece"]["runs"] == "3"
    one = combine([table(80, 9)])[0]
    assert one["ours_std"] == "" and one["runs"] == "1"
    with pytest.raises(ValueError, match="same numbers"):
        combine([table(80, 9), table(80, 9)[:1]])


def test_timings_table_sums_the_benchmark_files_per_method_and_step(tmp_path):
    from xairepro.scorecard.timings import make_run, markdown, rows

    head = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for seed, (s, rss) in enumerate([(10.0, 100), (30.0, 300)]):
        path = tmp_path / "dknn" / "sst2" / f"seed{seed}" / "train.tsv"
        path.parent.mkdir(parents=True)
        path.write_text(head + f"{s}\t0:00:10\t{rss}\t1\t1\t1\t1\t1\t1\t1\n")
    (tmp_path / "make_run.txt").write_text("730 2 193 of 193 steps\n")
    table = rows(tmp_path)
    assert table == [{"method": "dknn", "step": "train", "jobs": 2, "total_s": 40.0, "max_s": 30.0, "max_rss_mb": 300}]
    text = markdown(table, make_run(tmp_path))
    assert "12 min 10 s with 2 cores for 193 of 193 steps" in text and "| dknn | train | 2 | 40 | 30.0 | 300 |" in text
    assert "ran after it" not in text  # both jobs are older than the run's record
    later = tmp_path / "dknn" / "sst2" / "seed1" / "train.tsv"
    os.utime(later, (later.stat().st_atime, (tmp_path / "make_run.txt").stat().st_mtime + 60))
    assert "Of the jobs below, 1 ran after it" in make_run(tmp_path)  # a step rerun alone is not in that wall time
    with pytest.raises(ValueError, match="no benchmark files"):
        rows(tmp_path / "dknn" / "none")


def test_timings_count_what_seeds_past_the_second_cost(tmp_path):
    """Seeds are ranked per step by number (seed42 < seed43 < seed44; run10 after run9); files without a seed or
    run number, and the first two of each step, are not counted."""
    from xairepro.scorecard.timings import markdown, past_second_seed, rows

    head = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {"gr/seed43/t.tsv": 1.0, "gr/seed42/t.tsv": 2.0, "gr/seed44/t.tsv": 4.0,
             "rps/run9/debug.tsv": 8.0, "rps/run10/debug.tsv": 16.0, "rps/run2/debug.tsv": 32.0,
             "ee/train_explainer_seed0.tsv": 64.0, "ee/train_explainer_seed1.tsv": 128.0,
             "ee/train_explainer_seed2.tsv": 256.0, "truth/shard0-of2.tsv": 512.0}
    for name, s in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(head + f"{s}\t0:00:10\t1\t1\t1\t1\t1\t1\t1\t{2 * s}\n")  # CPU: 2 threads
    assert past_second_seed(tmp_path) == (3, 4.0 + 16.0 + 256.0, 2 * (4.0 + 16.0 + 256.0))
    text = markdown(rows(tmp_path), extra_seeds=past_second_seed(tmp_path), cores=2)
    assert "the third and later seeds or runs of a step (3 jobs, runs made apart included) took 4.6 min of job time " \
           "and 9.2 min of CPU time: on 2 busy cores about 4.6 min of wall time" in text
