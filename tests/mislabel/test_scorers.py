"""The mislabel benchmark's scorers and summary: exact neighbour counts, an exact path kernel that
reconstructs the recorded run and whose self-influence follows leave-one-out retraining, flips found."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xairepro.mislabel.scorers import ExplaindSelfInfluence, NeighbourDisagreement, standardize
from xairepro.mislabel.summarize import area_under_flips_found


def noisy_clusters(n=200, flips=20, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)) + 3.0 * y[:, None]
    flipped = np.zeros(n, bool)
    flipped[rng.choice(n, flips, replace=False)] = True
    return x, np.where(flipped, 1 - y, y), flipped


def test_neighbour_disagreement_counts_other_labelled_neighbours_leaving_the_point_out():
    x, labels, _ = noisy_clusters(n=60)
    layers = [x, x[:, :2] ** 2]
    scores = NeighbourDisagreement(k=5).fit(layers, labels).self_importance()
    expected = np.zeros(len(x))
    for a in (standardize(layer) for layer in layers):  # brute force, written independently
        d = ((a[:, None] - a[None]) ** 2).sum(-1)
        np.fill_diagonal(d, np.inf)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :5]
        expected += (labels[nearest] != labels[:, None]).sum(1)
    np.testing.assert_array_equal(scores, expected)


@pytest.mark.parametrize("scorer", [NeighbourDisagreement(k=10), ExplaindSelfInfluence(epochs=5, lr=0.1)])
def test_flipped_labels_are_scored_highest(scorer):
    x, labels, flipped = noisy_clusters()
    scores = scorer.fit([x] if scorer.name == "dknn" else x, labels).self_importance()
    top = np.argsort(-scores, kind="stable")[: flipped.sum()]
    assert flipped[top].mean() >= 0.85


def test_explaind_path_kernel_reconstructs_the_recorded_run_in_any_blocks():
    x, labels, _ = noisy_clusters(n=80)
    whole = ExplaindSelfInfluence(epochs=4, batch_size=16, lr=0.2).fit(x, labels)
    blocks = ExplaindSelfInfluence(epochs=4, batch_size=16, lr=0.2, block=30).fit(x, labels)
    assert whole.relative_error < 1e-10 and blocks.relative_error < 1e-10
    np.testing.assert_allclose(blocks.self_importance(), whole.self_importance(), rtol=1e-12, atol=1e-15)


def own_logit_after_full_batch_gd(x, y, keep, epochs, lr, seed):
    """Plain full-batch gradient descent on the points in `keep` from the scorer's initialisation."""
    torch.manual_seed(seed)
    layer = nn.Linear(x.shape[1], 2).double()
    opt = torch.optim.SGD(layer.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        nn.functional.cross_entropy(layer(x[keep]), y[keep]).backward()
        opt.step()
    with torch.no_grad():
        return layer(x).gather(1, y[:, None])[:, 0].numpy()


def test_explaind_self_influence_follows_leave_one_out_retraining():
    x, labels, _ = noisy_clusters(n=40, flips=4)
    epochs, lr = 30, 0.5
    # batch_size >= n: every step is one full batch, so retraining without a point is easy to write.
    scores = ExplaindSelfInfluence(epochs=epochs, batch_size=len(x), lr=lr).fit(x, labels).self_importance()
    xs, ys = torch.as_tensor(standardize(x)), torch.as_tensor(labels)
    full = own_logit_after_full_batch_gd(xs, ys, np.arange(len(x)), epochs, lr, seed=0)
    loo = np.array([full[i] - own_logit_after_full_batch_gd(xs, ys, np.delete(np.arange(len(x)), i), epochs, lr, 0)[i]
                    for i in range(len(x))])
    assert np.corrcoef(scores, loo)[0, 1] > 0.95


def test_area_under_the_flips_found_curve():
    run = pd.DataFrame({"checked_fraction": [0.0, 0.5, 1.0, 0.25, 0.75], "flips_found": [0.0, 1.0, 1.0, 0.5, 1.0]})
    assert area_under_flips_found(run) == pytest.approx(0.0625 + 0.1875 + 0.25 + 0.25)


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="labels"):
        NeighbourDisagreement(k=2).fit([np.zeros((4, 2))], [0, 1, 2, 1])


def test_comparison_rows_carry_the_spread_over_runs():
    """The scorecard's mislabel rows give mean ± std over the runs, not a bare mean."""
    import pandas as pd

    from xairepro.mislabel.report import comparison

    summary = pd.DataFrame([{"dataset": "digits", "model": "cnn", "setup": "s", "order": "lje", "method": "RPS-LJE",
                             "runs": 5, "flips_found_auc_mean": 0.8252, "flips_found_auc_std": 0.0453}])
    (row,) = comparison(summary)
    assert (row["ours"], row["ours_std"], row["runs"]) == ("0.825", "0.045", 5)
