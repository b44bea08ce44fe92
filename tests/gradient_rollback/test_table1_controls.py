"""The control rows of Table 1: random-k (as many triples as NH-k, drawn from the whole training set) and none
(delete nothing and retrain), their PD/TC counting, and the summary's rows for them."""
import json

import numpy as np
import pytest

from xairepro.gradient_rollback import table1, topk
from xairepro.gradient_rollback.explain import neighbourhood
from xairepro.gradient_rollback.table import scores

# Two components sharing no entity or relation: {0..4} with relations {0, 1}, {5..7} with {2}.
TRAIN = np.array([[0, 0, 1], [1, 0, 2], [2, 1, 3], [3, 1, 4], [0, 1, 4], [2, 0, 2], [4, 0, 1], [1, 1, 0],
                  [5, 2, 6], [6, 2, 7], [7, 2, 5]])
KS = [1, 10, "all"]


def record(test_index):
    hood = neighbourhood(TRAIN, 5, 2, 6).tolist()  # the component {5, 6, 7}: triples 8, 9, 10
    return {"test_index": test_index, "explanations": [[9, 0.3], [8, 0.1]], "neighbourhood": hood}


@pytest.mark.parametrize("mode", ["ours", "authors"])
def test_random_k_draws_as_many_as_nh_k_uniformly_from_the_whole_training_set(mode):
    hood = set(record(0)["neighbourhood"])
    assert hood == {8, 9, 10}
    seen = set()
    for test_index in range(200):
        sets = topk.deletion_sets(record(test_index), KS, seed=3, mode=mode, n_train=len(TRAIN))
        assert sets == topk.deletion_sets(record(test_index), KS, seed=3, mode=mode, n_train=len(TRAIN))
        # the controls leave GR and NH as they were without them
        without = topk.deletion_sets(record(test_index), KS, seed=3, mode=mode)
        assert {k: v for k, v in sets.items() if k[:2] in ("GR", "NH")} == without
        assert sets["none"] == []
        for k in KS:
            drawn = sets[f"random-{k}"]
            assert len(drawn) == len(sets[f"NH-{k}"]) and len(set(drawn)) == len(drawn) and drawn == sorted(drawn)
            assert all(0 <= x < len(TRAIN) for x in drawn)
        seen |= set(sets["random-1"])
    assert seen == set(range(len(TRAIN)))  # every training triple, not only the neighbourhood's 3
    draws = [topk.deletion_sets(record(0), KS, seed=s, mode=mode, n_train=len(TRAIN))["random-1"] for s in range(20)]
    assert len({tuple(d) for d in draws}) > 1  # the seed changes the draw


def test_none_counts_any_change_while_an_empty_deletion_set_elsewhere_counts_as_neither():
    explained = [{"test_index": 0, "probability": 0.5, "prediction": 3},
                 {"test_index": 1, "probability": 0.4, "prediction": 2}]
    retrained = [
        {"test_index": 0, "setting": "none", "deleted": 0, "probability_after": 0.3, "top1_after": 5},
        {"test_index": 1, "setting": "none", "deleted": 0, "probability_after": 0.4, "top1_after": 2},
        {"test_index": 0, "setting": "NH-1", "deleted": 0, "probability_after": 0.3, "top1_after": 5},
        {"test_index": 1, "setting": "NH-1", "deleted": 0, "probability_after": 0.4, "top1_after": 2},
    ]
    result = scores(explained, retrained)
    assert result["none"] == {"PD": 50.0, "TC": 50.0, "n": 2, "mean_deleted": 0.0}
    assert result["NH-1"]["PD"] == result["NH-1"]["TC"] == 0.0


def fake(mode, seed, none_pd):
    cell = lambda pd: {"PD": pd, "TC": 20.0}  # noqa: E731
    return {"mode": mode, "seed": seed, "dataset": "nations", "model": "distmult", "explained": 201, "seconds": 10.0,
            "best_epoch": None, "test_mrr": 0.3, "uncredited_change_share": 0.0, "fidelity_pearson_gr1": 0.5,
            "scores": {"GR-1": cell(93.0), "NH-1": cell(54.0), "GR-all": cell(100.0), "NH-all": cell(82.0),
                       "random-1": cell(50.0), "random-all": cell(80.0), "none": cell(none_pd)}}


def test_summary_shows_the_control_rows_once_per_mode_without_marks():
    rows, markdown = table1.summarize([fake("ours", 1, 0.0), fake("ours", 2, 0.0), fake("authors", 1, 12.0)])
    controls = [r for r in rows if r["setting"].startswith(("random", "none"))]
    assert len(controls) == 2 * 3 * 2 and all(r["published"] is None and r["verdict"] is None for r in controls)
    assert "| ours | random | 50.0 ± 0.0 | 20.0 ± 0.0 | 80.0 ± 0.0 | 20.0 ± 0.0 |" in markdown
    assert "| ours | none | 0.0 ± 0.0 | 20.0 ± 0.0 | 0.0 ± 0.0 | 20.0 ± 0.0 |" in markdown
    assert "| authors | none | 12.0 ± 0.0 | 20.0 ± 0.0 | 12.0 ± 0.0 | 20.0 ± 0.0 |" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| ours |")]
    assert [line.split(" | ")[1] for line in table] == ["NH", "GR", "random", "none"]
    assert "none deletes nothing and retrains once per prediction" in markdown
    assert "- ours: 5 of 8 cell means within ±5" in markdown  # GR and NH only: the controls have no paper value
    assert "none PD/TC per seed 0.0/20.0, 0.0/20.0;" in markdown and "none PD/TC per seed 12.0/20.0;" in markdown


def test_a_table1_run_in_mode_ours_retrains_to_the_same_model_when_nothing_is_deleted(tmp_path):
    """End to end on a tiny graph: the controls are evaluated, and with nothing deleted the retraining
    (fixed schedule, lazy Adam) gives back exactly the explained probability, so none has PD = TC = 0."""
    rng = np.random.default_rng(0)
    triples = [(f"e{h}", f"r{r}", f"e{t}") for h, r, t in zip(rng.integers(0, 8, 60), rng.integers(0, 2, 60),
                                                                rng.integers(0, 8, 60))]
    triples += [(f"e{i}", "r0", f"e{(i + 1) % 8}") for i in range(8)]  # every entity in train
    data = tmp_path / "data"
    data.mkdir()
    for name, part in (("train", triples[8:]), ("valid", triples[:3]), ("test", triples[3:8])):
        (data / f"{name}.txt").write_text("".join("\t".join(t) + "\n" for t in part))
    out = tmp_path / "run"
    table1.main(["run", "--dataset", "nations", "--data-dir", str(data), "--model", "distmult", "--mode", "ours",
                 "--seed", "5", "--n-explain", "0", "--ks", "1", "all", "--out-dir", str(out), "--out",
                 str(out / "run.json"), "--dim", "4", "--epochs", "2", "--negatives", "3"])
    result = json.loads((out / "run.json").read_text())
    assert set(result["scores"]) == {"GR-1", "NH-1", "GR-all", "NH-all", "random-1", "random-all", "none"}
    assert result["scores"]["none"] == {"PD": 0.0, "TC": 0.0, "n": 5, "mean_deleted": 0.0}
    explained = {r["test_index"]: r for r in json.loads((out / "explanations.json").read_text())["explained"]}
    retrained = json.loads((out / "eval" / "shard0-of1.json").read_text())["retrained"]
    nothing = [r for r in retrained if r["setting"] == "none"]
    assert len(nothing) == 5
    assert all(r["probability_after"] == explained[r["test_index"]]["probability"] for r in nothing)
    deleted = {(r["test_index"], r["setting"]): r["deleted"] for r in retrained}
    assert all(deleted[i, f"random-{k}"] == deleted[i, f"NH-{k}"] for i in explained for k in (1, "all"))
    table1.main(["summary", "--runs", str(out / "run.json"), "--csv", str(tmp_path / "t.csv"),
                 "--md", str(tmp_path / "t.md")])
    markdown = (tmp_path / "t.md").read_text()
    assert "| ours | none | 0.0 ± 0.0 | 0.0 ± 0.0 | 0.0 ± 0.0 | 0.0 ± 0.0 |" in markdown
    assert "| ours | random |" in markdown
