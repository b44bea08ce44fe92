"""The Empirical Explainers' dataset loaders on files the test writes in the dataset's real format."""
import pytest

from xairepro.empirical_explainers.data import READERS, load_split, num_labels

HEADER = "id\tsentence1\tsentence2\tlabel\n"


def _paws(folder, rows_by_file):
    """PAWS-Wiki Labeled (Final) as data/paws holds it after download: {train,dev,test}.tsv, tab-separated,
    a header row, tokenised text, no quoting."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in rows_by_file.items():
        (folder / f"{name}.tsv").write_text(HEADER + "".join("\t".join(map(str, r)) + "\n" for r in rows),
                                            encoding="utf-8")
    return folder


def test_paws_pairs_splits_and_labels(tmp_path):
    train = [(i, f"Katz was born in {1940 + i} .", f"In {1940 + i} Katz was born .", i % 2) for i in range(1, 9)]
    dev = [(101, 'He said " no " and left .', "He left and said no .", 0),   # a bare '"' is text, not quoting
           (102, "The body parts are similar .", "The body pieces are similar .", 1)]
    test = [(201, "Flights from New York to Florida .", "Flights from Florida to New York .", 0)]
    folder = _paws(tmp_path / "paws", {"train": train, "dev": dev, "test": test})

    assert num_labels("paws") == 2 and READERS["paws"][2]  # binary; dev.tsv is the validation split
    validation = load_split("paws", folder, "validation", None, 0)
    assert sorted(validation) == [(('He said " no " and left .', "He left and said no ."), 0),
                                  (("The body parts are similar .", "The body pieces are similar ."), 1)]
    assert load_split("paws", folder, "test", None, 0) == [(("Flights from New York to Florida .",
                                                             "Flights from Florida to New York ."), 0)]
    whole = load_split("paws", folder, "train", None, 0)
    assert sorted(whole) == sorted(((s1, s2), label) for _, s1, s2, label in train)  # all of train.tsv, no held-out
    assert load_split("paws", folder, "train", 3, 0) == whole[:3] == load_split("paws", folder, "train", 3, 0)
    with pytest.raises(ValueError, match="fewer than the 3 asked for"):
        load_split("paws", folder, "validation", 3, 0)


def test_paws_files_not_in_the_format_are_named(tmp_path):
    folder = _paws(tmp_path / "paws", {"dev": [(1, "A .", "B .", 2)]})
    with pytest.raises(ValueError, match=r"dev.tsv, line 2: .*label 0 or 1"):
        load_split("paws", folder, "validation", None, 0)
    (folder / "dev.tsv").write_text("1\tA .\tB .\t1\n")  # no header row
    with pytest.raises(ValueError, match="expected the header"):
        load_split("paws", folder, "validation", None, 0)
    (folder / "dev.tsv").write_text(HEADER + "1\tA .\t1\n")  # a column missing
    with pytest.raises(ValueError, match="line 2"):
        load_split("paws", folder, "validation", None, 0)
