"""Training history: bad input gives clear errors; the replay is exact; the CIFAR2 loader."""
import pickle

import numpy as np
import pytest
import torch

from xairepro.explaind.data import cifar2, modulo_addition
from xairepro.explaind.history import History, HistoryError
from tests.explaind.explaind_helpers import make_run


def test_replay_reproduces_training_bit_for_bit(tmp_path):
    model, opt, hist, data, _ = make_run(tmp_path, "sgd")
    for c in range(hist.n_chunks):
        _, theta_end = hist.replay_chunk(c, model, opt, data.x_train, data.y_train)
        expected = torch.load(hist.chunk_files()[c + 1])["params"] if c + 1 < hist.n_chunks else hist.final_params()
        assert torch.equal(theta_end, expected)


def test_history_of_another_config_is_rejected(tmp_path):
    _, _, hist, _, identity = make_run(tmp_path, "adamw")
    with pytest.raises(HistoryError, match="different model/config/data.*optimizer"):
        History(hist.path, {**identity, "optimizer": "sgd"})


def test_missing_step_file_is_reported(tmp_path):
    _, _, hist, _, identity = make_run(tmp_path, "sgd")
    hist.chunk_files()[1].unlink()
    with pytest.raises(HistoryError, match="missing chunk_00001.pt"):
        History(hist.path, identity)


def test_replay_with_other_data_is_caught(tmp_path):
    model, opt, hist, data, _ = make_run(tmp_path, "sgd")
    with pytest.raises(HistoryError, match="does not reproduce"):
        hist.replay_chunk(0, model, opt, data.x_train.flip(0), data.y_train.flip(0))


def test_rerun_overwrites_nothing_on_failure(tmp_path):
    model, opt, hist, data, identity = make_run(tmp_path, "sgd")
    before = {f.name: f.read_bytes() for f in hist.path.iterdir()}
    from xairepro.explaind.history import train_with_history
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_with_history(model, opt, data.x_train, data.y_train, [0.1] * 3, 8, 0, hist.path, 0, identity)
    assert {f.name: f.read_bytes() for f in hist.path.iterdir()} == before


def test_modulo_data():
    d = modulo_addition(11, 40, 0)
    assert len(d.x_train) == 40 and len(d.x_test) == 121 - 40
    assert torch.equal(d.y_train, (d.x_train[:, 0] + d.x_train[:, 1]) % 11)
    assert (d.x_train[:, 2] == 11).all()


def test_cifar2_loader_on_fake_batches(tmp_path):
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [3, 5, 0, 3, 9, 5]
        batch = {b"data": rng.integers(0, 256, (6, 3072), dtype=np.uint8), b"labels": labels}
        with open(tmp_path / name, "wb") as f:
            pickle.dump(batch, f)
    d = cifar2(tmp_path)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (4, 3, 32, 32)
    assert d.y_train.tolist() == [0, 1, 0, 1] * 5
    assert torch.allclose(d.x_train.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    (tmp_path / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="download_cifar-10"):
        cifar2(tmp_path)
