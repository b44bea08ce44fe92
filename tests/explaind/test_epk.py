"""Real properties of the streaming EPK: exactness, sums of attributions, agreement with the
materialising reference, and the adjoint's linear algebra."""
import numpy as np
import pytest

from xairepro.explaind.explainer import ExPLAIND
from xairepro.explaind.reference import materialised_epk


def explain(run, T, n_test=8):
    model, opt, hist, data, _ = run
    explainer = ExPLAIND(model, opt, hist, data.x_train, data.y_train, integration_steps=T, chunk=64)
    return explainer, explainer.attribute(data.x_test[:n_test], data.y_test[:n_test], progress=False)


def test_reconstruction_is_exact_and_improves_with_T(run):
    errors = [explain(run, T)[1].relative_error() for T in (2, 8, 32)]
    assert errors[-1] <= 1e-3
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < errors[0] / 20  # midpoint rule on a smooth path: ~1/T²


def test_reconstruction_equals_sum_of_step_terms(run):
    _, res = explain(run, 8)
    # Σ_i A(x,i) + D(x) is an exact rewriting of Σ_s ḡ_s·Δθ_s (only the integral is approximate).
    np.testing.assert_allclose(res.data.sum(1) + res.decay, res.step_component.sum((1, 2)), atol=1e-12)


def test_components_sum_to_total(run):
    _, res = explain(run, 8)
    per_component = res.step_component.sum(1)             # (n, groups)
    np.testing.assert_allclose(per_component.sum(1), res.reconstruction - res.initial, atol=1e-12)
    model = run[0]
    grouped = np.zeros(len(model.sizes))
    np.add.at(grouped, model.group_index.numpy(), res.weight)
    np.testing.assert_allclose(grouped, per_component.sum(0), atol=1e-12)


def test_streaming_matches_materialised_reference(run):
    explainer, res = explain(run, 8)
    data = run[3]
    shares, decay_shares = materialised_epk(explainer, data.x_test[:8], data.y_test[:8])
    np.testing.assert_allclose(shares.sum(0).numpy(), res.data, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(decay_shares.sum(0).numpy(), res.decay, rtol=1e-9, atol=1e-12)
    # the data attributions of one step (plus its weight-decay share) sum to that step's change
    step_sum = shares.sum(2) + decay_shares                 # (S, n)
    np.testing.assert_allclose(step_sum.numpy().T, res.step_component.sum(2), atol=1e-12)


def test_step_attribution_equals_true_output_change(run):
    model, _, hist, data, _ = run
    explainer, res = explain(run, 32)
    x, y = data.x_test[:8], data.y_test[:8]
    thetas = [s.theta for c in range(hist.n_chunks) for s in hist.replay_chunk(c, model, run[1], data.x_train, data.y_train)[0]]
    thetas.append(hist.final_params())
    true_change = np.stack([(model.output(b, x, y) - model.output(a, x, y)).detach().numpy() for a, b in zip(thetas, thetas[1:])], 1)
    step = res.step_component.sum(2)
    assert np.abs(step - true_change).max() <= 1e-3 * np.abs(true_change).max()


def test_bad_settings_are_rejected(run):
    model, opt, hist, data, _ = run
    with pytest.raises(ValueError, match="integration_steps"):
        ExPLAIND(model, opt, hist, data.x_train, data.y_train, integration_steps=0)


def test_attributions_do_not_depend_on_chunk_when_batches_and_test_sets_exceed_it(tmp_path):
    """`chunk` only splits the work: with full-batch steps (30 examples) and 8 test points, chunks of 3 and 7
    (which split both the per-example gradients and the path points) give the chunk-64 result."""
    from tests.explaind.explaind_helpers import make_run

    model, opt, hist, data, _ = make_run(tmp_path, "adamw", batch_size=0)
    results = [ExPLAIND(model, opt, hist, data.x_train, data.y_train, integration_steps=4, chunk=chunk)
               .attribute(data.x_test[:8], data.y_test[:8], progress=False) for chunk in (64, 7, 3)]
    assert len(data.x_train) > 7
    for other in results[1:]:
        np.testing.assert_allclose(other.data, results[0].data, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(other.step_component, results[0].step_component, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(other.decay, results[0].decay, rtol=1e-10, atol=1e-13)


def test_step_decay_splits_each_step_into_data_and_weight_decay(run):
    """step_decay sums to the run's weight-decay share D(x); with AdamW's decoupled decay it is each step's
    weight-decay part of ḡ_s·Δθ_s exactly (the materialised reference's decay share of that step), so
    step_component − step_decay is the step's data part, Σ_i of the reference's per-example shares."""
    explainer, res = explain(run, 8)
    np.testing.assert_allclose(res.step_decay.sum((1, 2)), res.decay, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(res.data_total, res.data.sum(1), rtol=1e-10, atol=1e-13)
    data = run[3]
    shares, decay_shares = materialised_epk(explainer, data.x_test[:8], data.y_test[:8])
    if explainer.optimizer.__class__.__name__ == "AdamW":
        np.testing.assert_allclose(res.step_decay.sum(2), decay_shares.numpy().T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose((res.step_component - res.step_decay).sum(2), shares.sum(2).numpy().T,
                                   rtol=1e-9, atol=1e-12)
    else:  # coupled decay: its source at step s reaches later updates through the momentum
        assert np.abs(res.step_decay.sum(2) - decay_shares.numpy().T).max() > 1e-9
    assert np.abs(res.step_decay).max() > 0


def test_skipping_the_per_example_split_keeps_every_other_output(run):
    """data_attribution=False computes the data's total from one batch gradient per step: the same totals,
    steps, components and decay terms as the full attribution, no per-example matrix."""
    model, opt, hist, data, _ = run
    explainer, full = explain(run, 4)
    light = explainer.attribute(data.x_test[:8], data.y_test[:8], progress=False, data_attribution=False)
    assert light.data is None
    for name in ("data_total", "decay", "step_component", "step_decay", "weight", "initial", "final"):
        np.testing.assert_allclose(getattr(light, name), getattr(full, name), rtol=1e-9, atol=1e-12, err_msg=name)
    assert light.relative_error() == pytest.approx(full.relative_error(), rel=1e-6)
    with pytest.raises(ValueError, match="point_weight needs data_attribution"):
        explainer.attribute(data.x_test[:2], data.y_test[:2], point_weight=True, data_attribution=False)
