"""The Chainer classifiers: batch independence, reloading, and a tiny training run end to end."""
import json

import chainer
import numpy as np
import pytest

from xairepro.dknn import data, index, train
from xairepro.dknn.models import MODELS, TextClassifier, activations, load_trained

chainer.config.use_cudnn = "never"


def _texts(n=6, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(2, 30, size=rng.randint(1, 12)).astype(np.int32) for _ in range(n)]


@pytest.mark.parametrize("kind", MODELS)
def test_a_texts_activations_do_not_depend_on_its_batch(kind):
    np.random.seed(0)
    model = TextClassifier(kind, 30, 3, embed_size=8, unit=16, maps=4)
    xs = _texts()
    batched = activations(model, xs, batch_size=len(xs))
    for i, x in enumerate(xs):
        alone = activations(model, [x])
        for layer_b, layer_a in zip(batched, alone):
            np.testing.assert_allclose(layer_b[i], layer_a[0], rtol=1e-5, atol=1e-6)
    assert [a.shape[1] for a in batched] == [12 if kind == "cnn" else (16 if kind == "lstm" else 32), 16, 3]


SST = "\n".join(f"{i % 2} {'a good fine film' if i % 2 else 'a bad dull film'} number {i} ." for i in range(80))


def _tiny_sst(tmp_path):
    folder = tmp_path / "sst2"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        (folder / f"stsa.binary.{split}").write_text(SST + "\n")
    return folder


def _train(tmp_path, out, model="cnn"):
    train.main(["--dataset", "sst2", "--data-dir", str(_tiny_sst(tmp_path) if not (tmp_path / "sst2").exists()
                else tmp_path / "sst2"), "--model", model, "--epochs", "4", "--learning-rate", "0.01", "--unit", "16", "--embed-size", "8",
                "--n-calib", "20", "--batch-size", "16", "--out-dir", str(out)])


def test_training_is_deterministic_and_reloads_to_identical_predictions(tmp_path):
    _train(tmp_path, tmp_path / "a")
    _train(tmp_path, tmp_path / "b")
    for name in ("args.json", "vocab.json", "calib.json", "train_log.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    calib = json.loads((tmp_path / "a" / "calib.json").read_text())
    assert len(calib) == 20 and len(set(calib)) == 20
    model, vocab, args = load_trained(tmp_path / "a")
    xs = data.encode_texts(data.load_dataset("sst2", tmp_path / "sst2")["test"][0], vocab, args)
    logits = activations(model, xs)[-1]
    again, _, _ = load_trained(tmp_path / "a")
    np.testing.assert_array_equal(activations(again, xs)[-1], logits)
    # the trained model learnt the toy task (words 'good' vs 'bad')
    assert (logits.argmax(1) == np.arange(80) % 2).mean() > 0.9
    # the index step keeps the calibration examples out of the indexed training data
    splits = index.split_examples(dict(args, out_dir=str(tmp_path / "a")), str(tmp_path / "sst2"))
    assert len(splits["fit"][0]) == 60 and len(splits["calib"][0]) == 20


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(SystemExit):
        train.parse_args(["--dataset", "sst2", "--data-dir", "x", "--model", "gru", "--out-dir", "o"])
    with pytest.raises(ValueError, match="leaves no training data"):
        train.split_calibration(10, 10, 0)
    with pytest.raises(ValueError, match="unknown model"):
        TextClassifier("gru", 10, 2, 4)
