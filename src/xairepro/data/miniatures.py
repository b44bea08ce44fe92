"""Miniature copies of the paper's datasets and models, laid out as a data mirror, for the rehearsal.

    python -m xairepro.data.miniatures OUT_DIR [--skip NAME ...]

Writes, deterministically (fixed seeds, archive timestamps and owners):
- every non-packaged dataset of the registry in its real format, at the mirror location the registry
  names (FB15k-237 tarball of CRLF tsv files, MovieLens ml-100k tarball with u.data/u1.base/u1.test,
  IMDB aclImdb tarball of {train,test}/{pos,neg} review files, SNLI zip of jsonl files, PAWS tarball of
  final/*.tsv files, CIFAR-10 tarball of python pickle batches, AG News csv files, GloVe 840B zip of a text
  file, SST-2/SST-5/TREC label lines), a few dozen to a few hundred instances each, with words that depend
  on the label so the tiny models have something to learn;
- every Hugging Face model of xairepro.data.models as a tiny randomly initialised model of the same
  family (same `AutoModel` classes and tokenizer classes: RoBERTa byte-level BPE, ELECTRA and BERT
  WordPiece), saved with save_pretrained into models/<name>/;
- SHA256SUMS (every file, `sha256sum -c` format) and REHEARSAL.json: per dataset the mirror sources with
  their sha256 and the sha256 of the files the pipeline reads (the tree digest for IMDB), per model its
  files' sha256 and a revision naming the generator. The download rules accept REHEARSAL.json only when the
  config says `rehearsal: true` (config/rehearsal.yaml); see xairepro.data.download.

`--skip NAME` leaves a dataset or model out (the test that a missing one stops the run uses it).
Nations, German credit and digits are small and vendored/packaged: the rehearsal uses the real ones.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import logging
import pickle
import random
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from xairepro.data.download import REHEARSAL_FILE, file_hash, tree_digest

log = logging.getLogger("xairepro.data.miniatures")
SEED = 0
GENERATOR = "xairepro.data.miniatures v1"

# Label-dependent words: each class draws most words from its own list, the rest from a shared one.
_SHARED = ("the a of and to in is it that this with for on as was at by an be from his her they have one "
           "story film movie world time people year day team game news market report city country").split()
_CLASS_WORDS = [
    "good great fine best love excellent wonderful happy brilliant superb".split(),
    "bad worst awful boring poor terrible dull weak sad horrible".split(),
    "sports match goal player coach league season win cup score".split(),
    "business stock price bank company profit trade sales deal oil".split(),
    "science space computer software research study data internet phone chip".split(),
    "question who what where when how why which name city".split(),
]


def _sentence(rng: random.Random, label: int, n_classes: int, length: tuple[int, int] = (5, 12)) -> str:
    words = _CLASS_WORDS[label % len(_CLASS_WORDS)] if n_classes > 1 else _SHARED
    n = rng.randint(*length)
    return " ".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(_SHARED) for _ in range(n))


def _vocabulary() -> list[str]:
    return sorted(set(_SHARED) | {w for ws in _CLASS_WORDS for w in ws})


# --- deterministic archives --------------------------------------------------------------------

def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(members[name]), 1577836800, 0o644, 0, 0
            tar.addfile(info, io.BytesIO(members[name]))
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue())


def _zip(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, members[name])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- datasets: each returns (mirror sources, files the pipeline reads -> sha256, tree digest) ----

def _label_lines(rng: random.Random, n: int, n_classes: int) -> bytes:
    return "".join(f"{i % n_classes} {_sentence(rng, i % n_classes, n_classes)}\n" for i in range(n)).encode()


def _sst_like(out: Path, rng: random.Random, prefix: str, splits: dict[str, int], n_classes: int):
    sources, files = [], {}
    for split, n in splits.items():
        data = _label_lines(rng, n, n_classes)
        name = f"{prefix}.{split}"
        (out / "sst").mkdir(parents=True, exist_ok=True)
        (out / "sst" / name).write_bytes(data)
        sources.append({"location": f"sst/{name}", "known_hash": "sha256:" + _sha(data)})
        files[name] = _sha(data)
    return sources, files, None


def _fb15k(out: Path, rng: random.Random):
    entities = [f"/m/0e{i:02d}" for i in range(30)]
    relations = [f"/rel/r{i}" for i in range(6)]
    triples = sorted({(rng.choice(entities), rng.choice(relations), rng.choice(entities)) for _ in range(400)})
    rng.shuffle(triples)
    parts = {"train.txt": triples[:300], "valid.txt": triples[300:330], "test.txt": triples[330:360]}
    members = {name: "".join(f"{h}\t{r}\t{t}\r\n" for h, r, t in rows).encode() for name, rows in parts.items()}
    path = out / "fb15k-237" / "FB15k-237.tar.gz"
    _tar_gz(path, members)
    return ([{"location": "fb15k-237/FB15k-237.tar.gz", "known_hash": "sha256:" + file_hash(path), "unpack": "tar"}],
            {name: _sha(data) for name, data in members.items()}, None)


def _movielens(out: Path, rng: random.Random):
    users, movies = 30, 40
    ratings = sorted({(rng.randint(1, users), rng.randint(1, movies)) for _ in range(360)})
    rows = [(u, m, 1 + (u + m) % 5, 874965758 + i) for i, (u, m) in enumerate(ratings)]
    line = lambda r: "\t".join(map(str, r)) + "\n"  # noqa: E731
    order = list(range(len(rows)))
    rng.shuffle(order)
    test = set(order[: len(rows) // 5])
    members = {
        "ml-100k/u.data": "".join(line(r) for r in rows).encode(),
        "ml-100k/u1.base": "".join(line(r) for i, r in enumerate(rows) if i not in test).encode(),
        "ml-100k/u1.test": "".join(line(r) for i, r in enumerate(rows) if i in test).encode(),
        # latin-1 like the real file (one accented title), normalised to utf-8 by the download
        "ml-100k/u.item": "".join(f"{m}|Film {m} (1995)|01-Jan-1995||http://example.org/{m}|0\n"
                                  for m in range(1, movies + 1)).replace("Film 1 ", "Café 1 ").encode("latin-1"),
        "ml-100k/u.user": "".join(f"{u}|{20 + u}|{'MF'[u % 2]}|other|00000\n" for u in range(1, users + 1)).encode(),
    }
    path = out / "movielens-100k" / "ml-100k.tar.gz"
    _tar_gz(path, members)
    return ([{"location": "movielens-100k/ml-100k.tar.gz", "known_hash": "sha256:" + file_hash(path),
              "unpack": "tar", "strip": "ml-100k/"}],
            {name.split("/", 1)[1]: _sha(members[name]) for name in ("ml-100k/u.data", "ml-100k/u.item", "ml-100k/u.user")},
            None)


def _imdb(out: Path, rng: random.Random, per_class: int = 40):
    members = {"aclImdb/README": b"Miniature of the Large Movie Review Dataset v1.0 (rehearsal).\n",
               "aclImdb/imdb.vocab": ("\n".join(_vocabulary()) + "\n").encode()}
    for split in ("train", "test"):
        for label, polarity in enumerate(("neg", "pos")):
            for i in range(per_class):
                text = ". ".join(_sentence(rng, 1 - label, 2, (8, 20)) for _ in range(3)) + ".<br /><br />The end."
                members[f"aclImdb/{split}/{polarity}/{i}_{(2 if label == 0 else 9)}.txt"] = text.encode()
    path = out / "imdb" / "aclImdb.tar.gz"
    _tar_gz(path, members)
    # the tree digest the registry gives the unpacked aclImdb/ folder, computed the same way
    staging = out / ".imdb-staging"
    for name, data in members.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    digest = tree_digest(staging, "aclImdb")
    for p in sorted(staging.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    staging.rmdir()
    return ([{"location": "imdb/aclImdb.tar.gz", "known_hash": "sha256:" + file_hash(path), "unpack": "tar"}],
            {}, ["aclImdb", digest])


def _snli(out: Path, rng: random.Random):
    labels = ("entailment", "neutral", "contradiction")
    members = {}
    for split, n in (("train", 120), ("dev", 30), ("test", 30)):
        rows = []
        for i in range(n):
            label = labels[i % 3] if i % 17 else "-"  # a few without gold label, as in the real files
            premise = _sentence(rng, i % 3, 3).capitalize() + "."
            rows.append(json.dumps({"annotator_labels": [label], "captionID": f"{i}.jpg#0", "gold_label": label,
                                    "pairID": f"{split}{i}", "sentence1": premise,
                                    "sentence2": _sentence(rng, i % 3, 3).capitalize() + "."}) + "\n")
        members[f"snli_1.0/snli_1.0_{split}.jsonl"] = "".join(rows).encode()
    path = out / "snli" / "snli_1.0.zip"
    _zip(path, members)
    return ([{"location": "snli/snli_1.0.zip", "known_hash": "sha256:" + file_hash(path), "unpack": "zip",
              "strip": "snli_1.0/"}],
            {name.split("/", 1)[1]: _sha(data) for name, data in members.items()}, None)


def _paws(out: Path, rng: random.Random):
    # PAWS-Wiki Labeled (Final): final/{train,dev,test}.tsv in a tarball, tab-separated with a header, tokenised
    # text (a space before the full stop); label 1 = paraphrase, 0 = different meaning.
    members = {}
    for split, n in (("train", 120), ("dev", 30), ("test", 30)):
        rows = ["id\tsentence1\tsentence2\tlabel\n"]
        for i in range(n):
            label = i % 2
            rows.append(f"{i + 1}\t{_sentence(rng, label, 2).capitalize()} .\t"
                        f"{_sentence(rng, label, 2).capitalize()} .\t{label}\n")
        members[f"final/{split}.tsv"] = "".join(rows).encode()
    path = out / "paws" / "paws_wiki_labeled_final.tar.gz"
    _tar_gz(path, members)
    return ([{"location": "paws/paws_wiki_labeled_final.tar.gz", "known_hash": "sha256:" + file_hash(path),
              "unpack": "tar", "strip": "final/"}],
            {name.split("/", 1)[1]: _sha(data) for name, data in members.items()}, None)


def _cifar(out: Path, rng: random.Random, per_class_batch: int = 3, per_class_test: int = 6):
    np_rng = np.random.RandomState(SEED)
    means = np_rng.randint(40, 216, size=(10, 3))  # each class its own mean colour

    def batch(per_class: int, name: str) -> bytes:
        labels = [c for c in range(10) for _ in range(per_class)]
        np_rng.shuffle(labels)
        images = np.stack([np.clip(np_rng.normal(means[c][:, None], 40, size=(3, 1024)), 0, 255) for c in labels])
        data = {b"batch_label": name.encode(), b"labels": [int(c) for c in labels],
                b"data": images.reshape(len(labels), 3072).astype(np.uint8),
                b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
        return pickle.dumps(data, protocol=2)

    members = {f"cifar-10-batches-py/data_batch_{i}": batch(per_class_batch, f"training batch {i} of 5") for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = batch(per_class_test, "testing batch 1 of 1")
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(
        {b"label_names": [n.encode() for n in "airplane automobile bird cat deer dog frog horse ship truck".split()],
         b"num_cases_per_batch": 10 * per_class_batch, b"num_vis": 3072}, protocol=2)
    path = out / "cifar-10" / "cifar-10-python.tar.gz"
    _tar_gz(path, members)
    return ([{"location": "cifar-10/cifar-10-python.tar.gz", "known_hash": "sha256:" + file_hash(path),
              "unpack": "tar", "strip": "cifar-10-batches-py/"}],
            {name.split("/", 1)[1]: _sha(data) for name, data in members.items()}, None)


def _ag_news(out: Path, rng: random.Random):
    sources, files = [], {}
    for name, n in (("train.csv", 200), ("test.csv", 40)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for i in range(n):
            label = i % 4
            writer.writerow([label + 1, _sentence(rng, label + 2, 4, (3, 6)).title(),
                             _sentence(rng, label + 2, 4) + " \\ more at 11"])
        data = buffer.getvalue().encode()
        (out / "ag-news").mkdir(parents=True, exist_ok=True)
        (out / "ag-news" / name).write_bytes(data)
        sources.append({"location": f"ag-news/{name}", "known_hash": "sha256:" + _sha(data)})
        files[name] = _sha(data)
    return sources, files, None


def _glove_840b(out: Path, rng: random.Random, dim: int = 300):
    np_rng = np.random.RandomState(SEED + 1)
    words = _vocabulary() + [w.capitalize() for w in _vocabulary()] + list(".,!?;:\"()'") + ["<sep>"]
    text = "".join(f"{w} " + " ".join(f"{v:.5f}" for v in np_rng.normal(0, 0.4, dim)) + "\n" for w in words)
    data = text.encode()
    path = out / "glove-840b-300d" / "glove.840B.300d.zip"
    _zip(path, {"glove.840B.300d.txt": data})
    return ([{"location": "glove-840b-300d/glove.840B.300d.zip", "known_hash": "sha256:" + file_hash(path),
              "unpack": "zip"}], {"glove.840B.300d.txt": _sha(data)}, None)


DATASET_MAKERS = {
    "fb15k-237": _fb15k,
    "movielens-100k": _movielens,
    "imdb": _imdb,
    "snli": _snli,
    "paws": _paws,
    "cifar-10": _cifar,
    "ag-news": _ag_news,
    "glove-840b-300d": _glove_840b,
    "sst2": lambda out, rng: _sst_like(out, rng, "stsa.binary", {"train": 120, "dev": 40, "test": 40}, 2),
    "sst5": lambda out, rng: _sst_like(out, rng, "stsa.fine", {"train": 150, "dev": 40, "test": 40}, 5),
    "trec": lambda out, rng: _sst_like(out, rng, "TREC", {"train.all": 150, "test.all": 40}, 6),
}


# --- models --------------------------------------------------------------------------------------

_TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _wordpiece_vocab() -> dict[str, int]:
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *list(".,!?;:\"()'\\-"), *_vocabulary(),
             *(f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"), *"abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = {}
    for w in words:
        vocab.setdefault(w, len(vocab))
    return vocab


def _save_model(folder: Path, family: str) -> None:
    import torch
    import transformers
    from transformers import AutoModel

    torch.manual_seed(SEED)
    if family == "roberta":
        from tokenizers import ByteLevelBPETokenizer

        rng = random.Random(SEED)
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator([_sentence(rng, i % 6, 6) for i in range(600)], vocab_size=400, min_frequency=1,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
        staging = folder.parent / f".{folder.name}-bpe"
        staging.mkdir(parents=True, exist_ok=True)
        bpe.save_model(str(staging))
        merges = [tuple(line.split(" ")) for line in (staging / "merges.txt").read_text().splitlines()[1:] if line.strip()]
        tokenizer = transformers.RobertaTokenizerFast(vocab=bpe.get_vocab(), merges=merges, model_max_length=512)
        for p in staging.iterdir():
            p.unlink()
        staging.rmdir()
        config = transformers.RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=514, type_vocab_size=1,
                                            pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2, **_TINY)
    elif family in ("electra", "bert"):
        cls = transformers.ElectraTokenizerFast if family == "electra" else transformers.BertTokenizerFast
        tokenizer = cls(vocab=_wordpiece_vocab(), do_lower_case=family == "electra", model_max_length=512)
        if family == "electra":
            config = transformers.ElectraConfig(vocab_size=len(tokenizer), embedding_size=16,
                                                max_position_embeddings=512, **_TINY)
        else:
            config = transformers.BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **_TINY)
    elif family == "xlnet":
        # A unigram vocabulary in XLNet's sentencepiece convention ("▁" starts a word), given to the fast
        # tokenizer directly, so no sentencepiece model (nor the sentencepiece package) is needed.
        specials = ["<unk>", "<s>", "</s>", "<cls>", "<sep>", "<pad>", "<mask>"]
        words = [w for w in _wordpiece_vocab() if not w.startswith(("[", "##"))]
        pieces = [(t, 0.0) for t in specials] + [(f"▁{w}", -5.0) for w in words] + \
                 [(c, -10.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789.,!?;:\"()'\\-"] + [("▁", -8.0)]
        seen, vocab = set(), []
        for piece, score in pieces:
            if piece not in seen:
                seen.add(piece)
                vocab.append((piece, score))
        tokenizer = transformers.XLNetTokenizerFast(vocab=vocab, unk_id=0, model_max_length=512)
        config = transformers.XLNetConfig(vocab_size=len(tokenizer), d_model=32, n_layer=2, n_head=2, d_inner=64,
                                          pad_token_id=tokenizer.pad_token_id)
    else:
        raise ValueError(f"no miniature for model family {family!r}")
    folder.mkdir(parents=True, exist_ok=True)
    AutoModel.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


# --- the mirror ------------------------------------------------------------------------------------

def generate(out: Path, skip: tuple[str, ...] = ()) -> dict:
    from xairepro.data.models import MIRROR_FOLDER, MODELS

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    declared = {"kind": "xairepro-rehearsal-mirror", "generator": GENERATOR, "datasets": {}, "models": {}}
    for name, make in DATASET_MAKERS.items():
        if name in skip:
            continue
        sources, files, digest = make(out, random.Random(f"{SEED}-{name}"))
        declared["datasets"][name] = {"mirror": sources, "files": files, "tree_digest": digest}
        log.info("dataset %s: %s", name, ", ".join(s["location"] for s in sources))
    for name, model in MODELS.items():
        if name in skip:
            continue
        folder = out / MIRROR_FOLDER / name
        _save_model(folder, model.family)
        if not folder.exists():
            continue
        files = {p.relative_to(folder).as_posix(): file_hash(p) for p in sorted(folder.rglob("*")) if p.is_file()}
        declared["models"][name] = {"revision": f"rehearsal: random init, {GENERATOR}", "files": files}
        log.info("model %s (%s): %d files", name, model.family, len(files))
    (out / REHEARSAL_FILE).write_text(json.dumps(declared, indent=1, sort_keys=True) + "\n")
    sums = [f"{file_hash(p)}  {p.relative_to(out).as_posix()}\n" for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "SHA256SUMS"]
    (out / "SHA256SUMS").write_text("".join(sums))
    return declared


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--skip", nargs="*", default=[], help="datasets or models to leave out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    generate(args.out_dir, tuple(args.skip))


if __name__ == "__main__":
    main()
