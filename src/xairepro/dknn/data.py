"""Datasets, vocabularies and word vectors of the DkNN experiments.

Every dataset comes from a registry folder (data/<name>/, made by rule download_<name>) and is
returned as splits of `(texts, labels)`, a text being a list of tokens. SST-2/SST-5/TREC are
'label sentence' lines (Kim 2014's preprocessing); SNLI is the official jsonl release, where a pair
becomes one token sequence `premise <sep> hypothesis` and examples without a gold label ('-') are
dropped, as in the corpus's own instructions.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATASETS = ("sst2", "sst5", "trec", "snli")
SNLI_LABELS = ("entailment", "neutral", "contradiction")
PAD, UNK, SEP = "<pad>", "<unk>", "<sep>"
# Names shown in saliency maps (TREC's class ids are kept as numbers).
LABEL_NAMES = {"sst2": ["negative", "positive"],
               "sst5": ["very negative", "negative", "neutral", "positive", "very positive"],
               "snli": list(SNLI_LABELS)}
# TREC ships no validation split: this share of its training file becomes one (seeded).
TREC_DEV_FRACTION = 0.1


def _read_label_lines(path: Path) -> tuple[list[list[str]], list[int]]:
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            label, _, sentence = line.partition(" ")
            if not label.isdigit() or not sentence.strip():
                raise ValueError(f"{path}:{n}: expected 'LABEL SENTENCE', got {line[:60]!r}")
            texts.append(sentence.split())
            labels.append(int(label))
    return texts, labels


def read_snli(path: Path) -> tuple[list[list[str]], list[int]]:
    """One snli_1.0_<split>.jsonl file: (premise <sep> hypothesis tokens, label index)."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            if row["gold_label"] not in SNLI_LABELS:  # '-': the annotators did not agree
                continue
            texts.append(_snli_tokens(row["sentence1"]) + [SEP] + _snli_tokens(row["sentence2"]))
            labels.append(SNLI_LABELS.index(row["gold_label"]))
    return texts, labels


def _snli_tokens(sentence: str) -> list[str]:
    # The jsonl holds raw sentences; split punctuation off like the SST preprocessing does.
    for mark in ".,!?;:\"()":
        sentence = sentence.replace(mark, f" {mark} ")
    return sentence.split()


def load_dataset(name: str, data_dir: str | Path, seed: int = 0) -> dict[str, tuple[list[list[str]], list[int]]]:
    """Splits 'train', 'dev', 'test' of a registry dataset, each (texts, labels)."""
    data_dir = Path(data_dir)
    if name not in DATASETS:
        raise ValueError(f"unknown dknn dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir} does not exist: build it with `snakemake data/{name}`")
    if name in ("sst2", "sst5"):
        prefix = "stsa.binary" if name == "sst2" else "stsa.fine"
        return {s: _read_label_lines(data_dir / f"{prefix}.{s}") for s in ("train", "dev", "test")}
    if name == "snli":
        return {s: read_snli(data_dir / f"snli_1.0_{s}.jsonl") for s in ("train", "dev", "test")}
    texts, labels = _read_label_lines(data_dir / "TREC.train.all")
    order = np.random.RandomState(seed).permutation(len(texts))
    n_dev = int(round(TREC_DEV_FRACTION * len(texts)))
    pick = lambda idx: ([texts[i] for i in idx], [labels[i] for i in idx])  # noqa: E731
    return {"train": pick(sorted(order[n_dev:])), "dev": pick(sorted(order[:n_dev])),
            "test": _read_label_lines(data_dir / "TREC.test.all")}


def units(tokens: list[str], char_based: bool, lowercase: bool) -> list[str]:
    """What the model reads: the words, or the characters of the space-joined words."""
    if lowercase:
        tokens = [t.lower() for t in tokens]
    return list(" ".join(tokens)) if char_based else list(tokens)


def build_vocab(texts: list[list[str]], min_count: int = 1) -> dict[str, int]:
    """Unit -> id; 0 is <pad> (never seen in data, kept for padding), 1 is <unk>."""
    counts: dict[str, int] = {}
    for text in texts:
        for unit in text:
            counts[unit] = counts.get(unit, 0) + 1
    vocab = {PAD: 0, UNK: 1}
    for unit in sorted(counts, key=lambda u: (-counts[u], u)):
        if counts[unit] >= min_count and unit not in vocab:
            vocab[unit] = len(vocab)
    return vocab


def encode(text: list[str], vocab: dict[str, int]) -> np.ndarray:
    """Ids of a text's units; unknown units become <unk>. An empty text is an error (there is
    nothing to classify or to leave out)."""
    if len(text) == 0:
        raise ValueError("empty sentence: DkNN needs at least one token to classify")
    return np.array([vocab.get(u, vocab[UNK]) for u in text], dtype=np.int32)


def oov_rate(texts: list[list[str]], vocab: dict[str, int]) -> float:
    n = sum(len(t) for t in texts)
    return sum(u not in vocab for t in texts for u in t) / max(n, 1)


def load_word_vectors(vectors_dir: str | Path, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for the words of `vocab` from a registry GloVe folder: glove-6b-50d (words.txt +
    vectors.npy) or glove-840b-300d (glove.840B.300d.txt). Returns (vectors of shape
    (len(vocab), dim), mask of the rows found); rows not found are zero, the caller initialises them."""
    vectors_dir = Path(vectors_dir)
    if (vectors_dir / "vectors.npy").exists():
        table = np.load(vectors_dir / "vectors.npy", mmap_mode="r")
        words = (vectors_dir / "words.txt").read_text(encoding="utf-8").split("\n")[: len(table)]
        row_of = {w: i for i, w in enumerate(words)}
        out = np.zeros((len(vocab), table.shape[1]), np.float32)
        found = np.zeros(len(vocab), bool)
        for word, i in vocab.items():
            j = row_of.get(word, row_of.get(word.lower()))
            if j is not None:
                out[i], found[i] = table[j], True
        return out, found
    txt = sorted(vectors_dir.glob("*.txt"))
    if not txt:
        raise FileNotFoundError(f"{vectors_dir} holds neither vectors.npy nor a GloVe .txt file")
    out, found = None, np.zeros(len(vocab), bool)
    with open(txt[0], encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.rstrip("\n").partition(" ")
            i = vocab.get(word)
            if i is None or found[i]:
                continue
            vec = np.array(rest.split(" "), np.float32)
            if out is None:
                out = np.zeros((len(vocab), len(vec)), np.float32)
            if len(vec) == out.shape[1]:  # a few 840B lines are words containing spaces
                out[i], found[i] = vec, True
    if out is None:
        raise ValueError(f"no word of the vocabulary is in {txt[0]}")
    return out, found


def encode_texts(texts: list[list[str]], vocab: dict[str, int], args: dict) -> list[np.ndarray]:
    """Token lists -> id arrays the way the model of `args` (args.json) was trained."""
    return [encode(units(t, args["char_based"], args["lowercase"]), vocab) for t in texts]
