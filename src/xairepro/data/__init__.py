"""Dataset registry and verified download (see registry.py for the entries)."""
from xairepro.data.registry import DATASETS, Dataset, Source, get_dataset

__all__ = ["DATASETS", "Dataset", "Source", "get_dataset"]
