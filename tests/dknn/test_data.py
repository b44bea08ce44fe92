"""Loaders of the DkNN datasets and word vectors, on tiny files written here."""
import json

import numpy as np
import pytest

from xairepro.dknn import data


def test_snli_loader_drops_unlabelled_pairs(tmp_path):
    rows = [
        {"gold_label": "entailment", "sentence1": "A man plays.", "sentence2": "Someone plays."},
        {"gold_label": "-", "sentence1": "A dog.", "sentence2": "A cat."},
        {"gold_label": "contradiction", "sentence1": "Kids sing, loudly!", "sentence2": "Nobody sings."},
    ]
    for split in ("train", "dev", "test"):
        (tmp_path / f"snli_1.0_{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    texts, labels = data.load_dataset("snli", tmp_path)["train"]
    assert labels == [0, 2]
    assert texts[0] == ["A", "man", "plays", ".", data.SEP, "Someone", "plays", "."]
    assert texts[1][:5] == ["Kids", "sing", ",", "loudly", "!"]


def test_trec_gets_a_seeded_disjoint_dev_split(tmp_path):
    (tmp_path / "TREC.train.all").write_text("".join(f"{i % 6} question number {i} ?\n" for i in range(50)))
    (tmp_path / "TREC.test.all").write_text("0 what is it ?\n")
    a, b = data.load_dataset("trec", tmp_path, seed=3), data.load_dataset("trec", tmp_path, seed=3)
    assert a == b
    train, dev = {" ".join(t) for t in a["train"][0]}, {" ".join(t) for t in a["dev"][0]}
    assert len(dev) == 5 and len(train) == 45 and not train & dev


def test_bad_lines_and_unknown_datasets_are_refused(tmp_path):
    (tmp_path / "stsa.binary.train").write_text("positive great film\n")
    with pytest.raises(ValueError, match="LABEL SENTENCE"):
        data.load_dataset("sst2", tmp_path)
    with pytest.raises(ValueError, match="unknown dknn dataset"):
        data.load_dataset("imdb", tmp_path)


def test_empty_sentence_is_an_error_and_oov_words_map_to_unk():
    vocab = data.build_vocab([["a", "good", "film"], ["a", "bad", "film"]])
    assert vocab[data.PAD] == 0 and vocab[data.UNK] == 1 and vocab["a"] == 2
    with pytest.raises(ValueError, match="empty sentence"):
        data.encode([], vocab)
    assert data.encode(["zyzzyva", "film"], vocab).tolist() == [1, vocab["film"]]
    assert data.oov_rate([["zyzzyva", "film"]], vocab) == 0.5
    assert data.units(["Hi", "you"], char_based=True, lowercase=True) == list("hi you")


def test_word_vectors_from_both_registry_layouts(tmp_path):
    vocab = {"<pad>": 0, "<unk>": 1, "film": 2, "Good": 3, "nope": 4}
    npy = tmp_path / "npy"
    npy.mkdir()
    np.save(npy / "vectors.npy", np.array([[1, 2], [3, 4]], np.float32))
    (npy / "words.txt").write_text("film\ngood\n")
    vectors, found = data.load_word_vectors(npy, vocab)
    assert found.tolist() == [False, False, True, True, False]
    assert vectors[3].tolist() == [3, 4]  # cased word falls back to the uncased vector
    txt = tmp_path / "txt"
    txt.mkdir()
    (txt / "glove.840B.300d.txt").write_text("film 0.5 1.5\nGood 2 3\nbad word 1 1 1\n")
    vectors, found = data.load_word_vectors(txt, vocab)
    assert found.tolist() == [False, False, True, True, False] and vectors[2].tolist() == [0.5, 1.5]
