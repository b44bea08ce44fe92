"""Label flipping, the CIFAR batch loader, and XGBoost's tree-output features."""
import pickle

import numpy as np
import pytest
import xgboost as xgb

from xairepro.rps_lje.data import CIFAR_AUTOMOBILE, CIFAR_HORSE, fix_labels, flip_labels, load_cifar_horse_car
from xairepro.rps_lje.models import xgboost_features
from xairepro.rps_lje.train import check_model_dataset


def test_flipping_is_reproducible_and_fixing_all_restores_clean_labels():
    clean = np.random.default_rng(0).integers(0, 2, 500)
    noisy, flipped = flip_labels(clean, 0.2, seed=7)
    again, flipped_again = flip_labels(clean, 0.2, seed=7)
    np.testing.assert_array_equal(noisy, again)
    np.testing.assert_array_equal(flipped, flipped_again)
    assert flipped.sum() == 100 and np.all(noisy[flipped] != clean[flipped]) and np.all(noisy[~flipped] == clean[~flipped])
    assert not np.array_equal(flip_labels(clean, 0.2, seed=8)[1], flipped)
    np.testing.assert_array_equal(fix_labels(noisy, flipped, np.arange(500)), clean)
    partial = fix_labels(noisy, flipped, np.arange(100))
    assert np.sum(partial != clean) == flipped[100:].sum()


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_flip_fraction_outside_open_interval_is_rejected(fraction):
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        flip_labels(np.zeros(10, dtype=int), fraction, seed=0)


def test_unknown_model_or_dataset_is_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        check_model_dataset("transformer", "digits")
    with pytest.raises(ValueError, match="runs on"):
        check_model_dataset("xgboost", "digits")


def test_cifar_loader_keeps_horse_and_automobile(tmp_path):
    rng = np.random.default_rng(0)

    def write(name, labels):
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        with open(tmp_path / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels}, f)
        return data

    train = write("data_batch_1", [CIFAR_HORSE, 3, CIFAR_AUTOMOBILE, CIFAR_HORSE, 9])
    write("data_batch_2", [CIFAR_AUTOMOBILE, 0])
    write("test_batch", [2, CIFAR_HORSE, CIFAR_AUTOMOBILE])
    x_train, y_train, x_test, y_test = load_cifar_horse_car(tmp_path)
    assert x_train.shape == (4, 3, 32, 32) and x_test.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(y_train, [1, 0, 1, 0])
    np.testing.assert_array_equal(y_test, [1, 0])
    np.testing.assert_allclose(x_train.mean((0, 2, 3)), 0, atol=1e-5)  # normalised per channel
    # Pixel order is preserved: the first kept image is the first horse of batch 1.
    raw = train[0].reshape(3, 32, 32).astype(np.float32) / 255
    assert np.corrcoef(raw.ravel(), x_train[0].ravel())[0, 1] > 0.99
    with pytest.raises(FileNotFoundError, match="CIFAR-10"):
        load_cifar_horse_car(tmp_path / "missing")


def test_xgboost_linear_model_equals_margin():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    y = (x[:, 0] - x[:, 1] + rng.normal(size=300) > 0.7).astype(int)  # imbalanced: base score ≠ 0.5
    booster = xgb.XGBClassifier(n_estimators=12, max_depth=3, n_jobs=1).fit(x, y).get_booster()
    phi, weights = xgboost_features(booster, x)
    assert phi.shape == (300, 13) and weights[-1] == -(12 - 1) / 2 and np.all(weights[:-1] == 1)
    margin = booster.predict(xgb.DMatrix(x), output_margin=True)
    np.testing.assert_allclose(phi @ weights, margin, rtol=0, atol=1e-5)
    # the authors' features: one probability per tree and a column of ones, same weights
    prob, prob_weights = xgboost_features(booster, x, "probability")
    np.testing.assert_array_equal(prob_weights, weights)
    assert prob.shape == (300, 13) and np.all(prob[:, -1] == 1) and np.all((prob[:, :-1] > 0) & (prob[:, :-1] < 1))
    per_tree = np.column_stack([booster.predict(xgb.DMatrix(x), output_margin=True, iteration_range=(k, k + 1))
                                for k in range(12)])
    np.testing.assert_allclose(prob @ weights, 0.5 + np.sum(1 / (1 + np.exp(-per_tree)) - 0.5, axis=1), atol=1e-6)


def test_network_features_end_in_a_bias_column_matching_the_head():
    import torch

    from xairepro.rps_lje.models import BiLSTM, ResNet20, encode, network_features, network_weights

    torch.manual_seed(0)
    for model, x in ((ResNet20(), np.random.default_rng(0).normal(size=(3, 3, 32, 32)).astype(np.float32)),
                     (BiLSTM(np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32), hidden=3),
                      encode(["a b c", "b", "zzz c"], {"a": 2, "b": 3, "c": 4}, max_len=4))):
        phi = network_features(model.eval(), x)
        assert np.all(phi[:, -1] == 1)
        with torch.no_grad():
            logits = model(torch.as_tensor(x)).double().numpy()
        np.testing.assert_allclose(phi @ network_weights(model), logits, atol=1e-5)  # Θ·φ(x) = f(x)


def test_imdb_loader_reads_the_registry_layout(tmp_path):
    from xairepro.rps_lje.data import load_imdb

    for split in ("train", "test"):
        for sub, text in (("pos", "great film"), ("neg", "awful film")):
            folder = tmp_path / "aclImdb" / split / sub
            folder.mkdir(parents=True)
            for i in range(3):
                (folder / f"{i}_7.txt").write_text(f"{text} {i}<br />")
    texts, y, test_texts, y_test = load_imdb(tmp_path, train_size=4, test_size=0, seed=0)
    assert len(texts) == 4 and len(test_texts) == 6 and sorted(y_test) == [0, 0, 0, 1, 1, 1]
    assert all(("great" in t) == bool(label) for t, label in zip(texts, y))
