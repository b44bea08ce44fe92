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


def test_ece_weights_each_bin_by_its_share_of_examples():
    # nine confident right answers (gap 0.05) and one wrong at 0.55 (gap 0.55): 0.9·0.05 + 0.1·0.55 = 0.1,
    # where an unweighted mean over the two bins would give 0.3
    out = metrics.reliability([0.95] * 9 + [0.55], [1] * 9 + [0])
    assert out["ece"] == pytest.approx(0.1)


def test_eval_reports_the_calibration_of_the_score_it_names():
    """evaluate() on the hand-built DkNN toy: every ece_<score> is the ECE of that very score, recomputed
    here from the neighbours and p-values (vote fraction: share of the 2 layers x 3 neighbours that carry
    the predicted label)."""
    from xairepro.dknn.eval import evaluate
    from xairepro.dknn.explainer import DkNN

    from tests.dknn.test_explainer import CALIB, CALIB_LABELS, QUERY, TRAIN, TRAIN_LABELS

    dknn = DkNN(k=3, index="brute").fit(TRAIN, TRAIN_LABELS)
    dknn.calibrate(CALIB, CALIB_LABELS)
    logits = np.array([[0.0, 2.0], [1.0, 0.0]])
    labels = np.array([1, 1])
    result, bins = evaluate(dknn, QUERY, logits, labels, temperature=2.0)
    # hand counts (test_explainer): q1 predicts 1 with 5 of 6 votes, q2 predicts 0 with 4 of 6 votes
    vote = metrics.reliability([5 / 6, 4 / 6], [True, False])
    credibility = metrics.reliability([0.75, 0.75], [True, False])
    softmax = metrics.reliability(metrics.softmax(logits).max(1), logits.argmax(1) == labels)
    assert result["ece_dknn_vote_fraction"] == pytest.approx(100 * vote["ece"])
    assert result["ece_dknn_credibility"] == pytest.approx(100 * credibility["ece"])
    assert result["ece_softmax"] == pytest.approx(100 * softmax["ece"])
    assert result["ece_dknn_vote_fraction"] != result["ece_dknn_credibility"]
    assert set(bins) == {"softmax", "temperature", "dknn_credibility", "dknn_vote_fraction"}


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
              "ece_dknn_credibility": 9.0, "ece_dknn_vote_fraction": 4.0}
    args = {"char_based": True, "word_vectors_name": "", "epochs": 4, "n_fit": 5920}
    rows = {r["metric"]: r for r in comparison_rows(result, args, "sst2", "char_bilstm")}
    assert rows["accuracy_softmax"]["published"] == "82.3" and rows["accuracy_dknn"]["published"] == "82.2"
    assert rows["accuracy_dknn"]["ours"] == 79.0 and "4 epochs" in rows["accuracy_dknn"]["source"]
    word = comparison_rows(result, dict(args, char_based=False, word_vectors_name="glove-6b-50d"), "sst2", "cnn")
    assert word[0]["published"] == "" and "(paper: glove-840b-300d)" in word[0]["source"]
