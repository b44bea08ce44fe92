import re

import pytest

from xairepro.data.download import NORMALISERS
from xairepro.data.registry import DATASETS, UnknownDatasetError, get_dataset

PAPER_DATASETS = {"nations", "fb15k-237", "movielens-100k", "german-credit", "imdb", "sst2", "sst5",
                  "trec", "snli", "paws", "cifar-10", "ag-news", "glove-6b-50d", "glove-840b-300d"}
HASH = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")


def test_every_dataset_of_the_papers_is_registered():
    assert PAPER_DATASETS <= set(DATASETS)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_entry_is_complete(name):
    ds = get_dataset(name)
    assert ds.licence and ds.citation and ds.size and ds.description and ds.papers
    assert ds.canonical_url.startswith("https://") or ds.sources[0].kind == "package"
    for src in ds.sources + ds.mirror + ds.vendored:
        assert HASH.match(src.known_hash), (name, src)
    for sha in ds.files.values():
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
    for step in ds.normalise:
        assert step.partition(":")[0] in NORMALISERS


def test_movielens_is_never_vendored():
    # The GroupLens licence forbids redistribution.
    assert not get_dataset("movielens-100k").vendored


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(UnknownDatasetError, match="unknown dataset 'natons'.*nations"):
        get_dataset("natons")
