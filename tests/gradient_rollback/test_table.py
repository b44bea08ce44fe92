"""PD, TC and fidelity from hand-made shards (signs, strict comparisons, empty sets), and the explanation
candidates are exactly the training triples that share h, r or t̂ with the prediction."""
import numpy as np
import pytest

from xairepro.gradient_rollback.explain import neighbourhood
from xairepro.gradient_rollback.table import fidelity, scores

EXPLAINED = [{"test_index": 0, "probability": 0.5, "prediction": 3, "explanations": [[11, 0.2], [12, 0.1]]},
             {"test_index": 1, "probability": 0.4, "prediction": 2, "explanations": [[13, 0.05]]}]
RETRAINED = [
    # GR-1: prediction 0 drops and changes its top-1; prediction 1 keeps exactly its probability (not a drop)
    {"test_index": 0, "setting": "GR-1", "deleted": 1, "probability_after": 0.3, "top1_after": 5},
    {"test_index": 1, "setting": "GR-1", "deleted": 1, "probability_after": 0.4, "top1_after": 2},
    # NH-1: an empty set counts as neither, even though the retrained numbers differ; a rise is no drop
    {"test_index": 0, "setting": "NH-1", "deleted": 0, "probability_after": 0.1, "top1_after": 4},
    {"test_index": 1, "setting": "NH-1", "deleted": 2, "probability_after": 0.5, "top1_after": 7},
]


def test_pd_and_tc_count_strict_drops_and_changes_over_all_predictions():
    result = scores(EXPLAINED, RETRAINED)
    assert result["GR-1"] == {"PD": 50.0, "TC": 50.0, "n": 2, "mean_deleted": 1.0}
    assert result["NH-1"] == {"PD": 0.0, "TC": 50.0, "n": 2, "mean_deleted": 1.0}


def test_fidelity_pairs_the_top_explanations_delta_with_the_retrained_drop():
    pairs = fidelity(EXPLAINED, RETRAINED)
    assert [(p["test_index"], p["gr_delta"]) for p in pairs] == [(0, 0.2), (1, 0.05)]
    assert pairs[0]["retrained_delta"] == pytest.approx(0.2)   # 0.5 before, 0.3 after: a drop is positive
    assert pairs[1]["retrained_delta"] == pytest.approx(0.0)


def test_candidates_are_exactly_the_triples_sharing_h_r_or_the_predicted_tail():
    rng = np.random.default_rng(0)
    train = np.stack([rng.integers(0, 12, 300), rng.integers(0, 4, 300), rng.integers(0, 12, 300)], axis=1)
    for h, r, t_hat in [(1, 0, 2), (5, 3, 5), (11, 2, 0)]:
        expected = {i for i, (a, b, c) in enumerate(train.tolist()) if {a, c} & {h, t_hat} or b == r}
        assert set(neighbourhood(train, h, r, t_hat).tolist()) == expected


def test_table1_summary_means_stds_and_the_five_point_band():
    from xairepro.gradient_rollback.table1 import summarize

    def fake(mode, seed, gr1_pd, nh1_tc):
        return {"mode": mode, "seed": seed, "dataset": "nations", "model": "distmult", "explained": 201,
                "seconds": 10.0, "best_epoch": None, "test_mrr": 0.3, "uncredited_change_share": 0.0,
                "fidelity_pearson_gr1": 0.5, "scores": {"GR-1": {"PD": gr1_pd, "TC": 38.0}, "NH-1": {"PD": 54.0, "TC": nh1_tc}}}

    rows, markdown = summarize([fake("ours", 1, 90.0, 10.0), fake("ours", 2, 96.0, 14.0), fake("authors", 1, 80.0, 18.0)])
    by = {(r["mode"], r["setting"], r["metric"]): r for r in rows}
    gr1 = by[("ours", "GR-1", "PD")]
    assert (gr1["mean"], gr1["std"], gr1["seeds"], gr1["published"]) == (93.0, pytest.approx(4.24, abs=0.01), 2, 93.0)
    assert gr1["within_5"] and not by[("ours", "NH-1", "TC")]["within_5"]  # 12 vs 18: 6 points off
    assert not by[("authors", "GR-1", "PD")]["within_5"] and by[("authors", "NH-1", "TC")]["within_5"]
    # two seeds with std 4.2: the mean is on the paper's value, but the t interval (±38) straddles the band
    assert gr1["verdict"].startswith("inconclusive") and by[("ours", "GR-1", "TC")]["verdict"] == "reproduced (±0)"
    assert by[("authors", "GR-1", "PD")]["verdict"] == "one run, no verdict: off by -13"
    assert "| ours | GR | 93.0 ± 4.2 (93) ? | 38.0 ± 0.0 (38) ✔ |" in markdown
    assert "- ours: 3 of 4 cell means within ±5; with the seed interval 2 reproduced, 2 inconclusive, 0 off" in markdown
    assert "cells within ±5 per seed: 1: 3, 2: 4" in markdown  # NH-1 TC: 10 is out, 14 in (18 ± 5)
    assert "| authors | GR | 80.0 ± 0.0 (93) | 38.0 ± 0.0 (38) |" in markdown  # one seed: no mark
    assert "- authors: 3 of 4 cell means within ±5" in markdown
