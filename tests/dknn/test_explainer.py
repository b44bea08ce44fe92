"""DkNN (Wallace et al. 2018 / Papernot & McDaniel 2018) on a hand-built toy, and its indexes."""
import importlib.util
import pickle

import numpy as np
import pytest

from xairepro.dknn.explainer import BruteForceIndex, DkNN, KDTreeIndex, make_index

# Two layers over five training examples (labels 0 0 1 1 1), one feature per layer, k = 3.
TRAIN = [np.array([[0.], [1.], [2.], [10.], [11.]]), np.array([[0.], [5.], [6.], [7.], [20.]])]
TRAIN_LABELS = np.array([0, 0, 1, 1, 1])
# Calibration examples and their hand-counted neighbours (layer A | layer B) -> alpha(x, y):
#   A=10.5, B=19,  y=1: rows 3,4,2 (1,1,1) | rows 4,3,2 (1,1,1) -> 6 of label 1 -> alpha 0
#   A=0,    B=0,   y=0: rows 0,1,2 (0,0,1) | rows 0,1,2 (0,0,1) -> 4 of label 0 -> alpha 2
#   A=0,    B=0,   y=1:                      same neighbours    -> 2 of label 1 -> alpha 4
#   A=1.4,  B=6.4, y=0: rows 1,2,0 (0,1,0) | rows 2,3,1 (1,1,0) -> 3 of label 0 -> alpha 3
CALIB = [np.array([[10.5], [0.], [0.], [1.4]]), np.array([[19.], [0.], [0.], [6.4]])]
CALIB_LABELS = np.array([1, 0, 1, 0])
# Queries: q1 A=10.2, B=6.9: rows 3,4,2 (1,1,1) | rows 3,2,1 (1,1,0) -> alpha = (5, 1)
#          q2 A=1.6,  B=0.5: rows 2,1,0 (1,0,0) | rows 0,1,2 (0,0,1) -> alpha = (2, 4)
QUERY = [np.array([[10.2], [1.6]]), np.array([[6.9], [0.5]])]


@pytest.mark.parametrize("index", ["kdtree", "brute"])
def test_toy_matches_hand_computation(index):
    dknn = DkNN(k=3, index=index).fit(TRAIN, TRAIN_LABELS)
    assert dknn.calibrate(CALIB, CALIB_LABELS).tolist() == [0, 2, 3, 4]
    out = dknn.predict(QUERY)
    assert out.nonconformity.tolist() == [[5, 1], [2, 4]]
    # p_j = share of A = {0, 2, 3, 4} that is >= alpha_j
    np.testing.assert_allclose(out.p_values, [[0 / 4, 3 / 4], [3 / 4, 1 / 4]])
    assert out.prediction.tolist() == [1, 0]
    np.testing.assert_allclose(out.credibility, [0.75, 0.75])
    np.testing.assert_allclose(out.confidence, [1.0, 0.75])  # 1 - second largest p-value


def test_neighbours_are_nearest_first():
    dknn = DkNN(k=3).fit(TRAIN, TRAIN_LABELS)
    nb = dknn.neighbours(QUERY)
    assert nb[0].tolist() == [[3, 4, 2], [2, 1, 0]]
    assert nb[1].tolist() == [[3, 2, 1], [0, 1, 2]]


def _exact_neighbours(points, queries, k):
    d = ((queries[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def test_kdtree_and_brute_force_equal_exhaustive_search():
    rng = np.random.RandomState(0)
    points, queries = rng.randn(500, 20), rng.randn(60, 20)
    expected = _exact_neighbours(points, queries, 10)
    assert (KDTreeIndex(points).query(queries, 10) == expected).all()
    assert (BruteForceIndex(points, chunk=7).query(queries, 10) == expected).all()


@pytest.mark.skipif(importlib.util.find_spec("annoy") is None, reason="annoy is not installed")
def test_annoy_recall_and_pickle():
    rng = np.random.RandomState(1)
    points, queries = rng.randn(800, 16).astype(np.float32), rng.randn(50, 16).astype(np.float32)
    index = make_index("annoy", points)
    found = index.query(queries, 10)
    expected = _exact_neighbours(points, queries, 10)
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, expected)])
    assert recall > 0.9
    assert (pickle.loads(pickle.dumps(index)).query(queries, 10) == found).all()


def test_pickled_dknn_predicts_the_same():
    dknn = DkNN(k=3).fit(TRAIN, TRAIN_LABELS)
    dknn.calibrate(CALIB, CALIB_LABELS)
    again = pickle.loads(pickle.dumps(dknn)).predict(QUERY)
    np.testing.assert_array_equal(again.p_values, dknn.predict(QUERY).p_values)


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="larger than the training set"):
        DkNN(k=6).fit(TRAIN, TRAIN_LABELS)
    with pytest.raises(ValueError, match="positive integer"):
        DkNN(k=0)
    with pytest.raises(ValueError, match="unknown index"):
        DkNN(index="lsh")
    dknn = DkNN(k=3).fit(TRAIN, TRAIN_LABELS)
    with pytest.raises(RuntimeError, match="calibrate"):
        dknn.predict(QUERY)
    with pytest.raises(ValueError, match="empty"):
        dknn.calibrate([a[:0] for a in CALIB], CALIB_LABELS[:0])
    with pytest.raises(ValueError, match="layer sizes"):
        dknn.neighbours([np.zeros((1, 2)), np.zeros((1, 1))])
    with pytest.raises(RuntimeError, match="fit"):
        DkNN(k=3).neighbours(QUERY)
