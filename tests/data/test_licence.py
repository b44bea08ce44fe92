"""LICENSE lists every registry dataset with the licence the registry records for it."""
from tests.conftest import REPO
from xairepro.data.registry import DATASETS


def test_licence_file_lists_every_dataset_licence():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    listed = {line[2:].split(": ", 1)[0]: line[2:].split(": ", 1)[1] for line in text.splitlines()
              if line.startswith("- ")}
    assert listed == {name: d.licence for name, d in DATASETS.items()}
