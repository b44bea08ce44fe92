"""Temperature scaling and ECE (Guo et al. 2017), the paper's calibration measures."""
import numpy as np
import pytest

from xairepro.dknn import metrics


def _sampled(temperature_true, n=3000, n_class=4, seed=0):
    """Logits whose labels are drawn from softmax(logits / temperature_true)."""
    rng = np.random.RandomState(seed)
    logits = 3 * rng.randn(n, n_class)
    p = metrics.softmax(logits, temperature_true)
    labels = np.array([rng.choice(n_class, p=row) for row in p])
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_temperature_scaling_does_not_increase_nll(true_t):
    logits, labels = _sampled(true_t)
    t = metrics.fit_temperature(logits, labels)
    assert metrics.nll(logits, labels, t) <= metrics.nll(logits, labels) + 1e-9
    assert abs(t - true_t) / true_t < 0.15  # it recovers the temperature the labels were drawn at


def test_temperature_scaling_lowers_ece_of_an_overconfident_model():
    logits, labels = _sampled(3.0, seed=1)
    t = metrics.fit_temperature(logits, labels)
    correct = logits.argmax(1) == labels
    before = metrics.reliability(metrics.softmax(logits).max(1), correct)["ece"]
    after = metrics.reliability(metrics.softmax(logits, t).max(1), correct)["ece"]
    assert after < before / 3


def test_ece_of_calibrated_scores_is_near_zero():
    rng = np.random.RandomState(0)
    conf = rng.uniform(0, 1, 200000)
    correct = rng.uniform(0, 1, conf.size) < conf
    assert metrics.reliability(conf, correct)["ece"] < 0.01


def test_ece_by_hand():
    # bins of width 1/15: 0.9 -> bin 13 (2 examples, accuracy 0.5), 0.2 -> bin 3 (2 examples, accuracy 0)
    out = metrics.reliability([0.9, 0.9, 0.2, 0.2], [1, 0, 0, 0])
    assert out["count"][13] == 2 and out["count"][3] == 2
    assert out["ece"] == pytest.approx(0.5 * 0.4 + 0.5 * 0.2)
    assert metrics.reliability([1.0], [1])["count"][-1] == 1  # confidence 1 falls in the last bin


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.reliability([1.5], [1])
    with pytest.raises(ValueError, match="at least one"):
        metrics.reliability([], [])
    with pytest.raises(ValueError, match="validation examples"):
        metrics.fit_temperature(np.zeros((0, 2)), np.zeros(0, int))


def test_comparison_rows_carry_the_published_char_bilstm_numbers_and_the_substitution():
    from xairepro.dknn.eval import comparison_rows
    result = {"accuracy_softmax": 80.0, "accuracy_dknn": 79.0, "ece_softmax": 5.0, "ece_temperature": 2.0,
              "ece_dknn_credibility": 9.0}
    args = {"char_based": True, "word_vectors_name": "", "epochs": 4, "n_fit": 5920}
    rows = {r["metric"]: r for r in comparison_rows(result, args, "sst2", "char_bilstm")}
    assert rows["accuracy_softmax"]["published"] == "82.3" and rows["accuracy_dknn"]["published"] == "82.2"
    assert rows["accuracy_dknn"]["ours"] == 79.0 and "4 epochs" in rows["accuracy_dknn"]["source"]
    word = comparison_rows(result, dict(args, char_based=False, word_vectors_name="glove-6b-50d"), "sst2", "cnn")
    assert word[0]["published"] == "" and "(paper: glove-840b-300d)" in word[0]["source"]
