"""The convergence curve's budget runs and the Empirical Explainer's training set-up (encoder copied
from the downstream model, early stopping), on the packaged MiniLM."""
import json

import numpy as np
import pytest
import torch

from xairepro.empirical_explainers.data import PACKAGED_MODEL, model_path, write_jsonl
from xairepro.empirical_explainers.evaluate import (comparison, completeness_gaps, completeness_shift,
                                                    convergence_errors, convergence_maps, mean_squared_error,
                                                    paired_bootstrap, summary)
from xairepro.empirical_explainers.explainers import (LayerIntegratedGradientsExplainer,
                                                       ShapleyValueSamplingExplainer, make_target_explainer)
from xairepro.empirical_explainers.target_explain import explain

SENTENCES = ["a stirring , funny and finally transporting film", "a dull , lifeless film that drags on"]


@pytest.fixture(scope="module")
def classifier():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    path = model_path(PACKAGED_MODEL)
    return AutoTokenizer.from_pretrained(path), AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).eval()


def flat(maps):
    return [value for m in maps for value in m]


def full_rows(spec, tokenizer, model, seed=0):
    """The target explanation rows of the full budget, as target_explain writes them."""
    ids = [tokenizer(s)["input_ids"] for s in SENTENCES]
    return explain(make_target_explainer(spec, model, tokenizer), ids, range(len(ids)), [1, 0], seed)


def test_lig_budget_runs_are_fresh_runs_with_that_many_steps(classifier):
    """Each budget's maps are LIG rerun with exactly that many steps, from nothing the full run or an
    earlier budget left behind: not the full-budget maps, not another budget's, the same in any order."""
    tokenizer, model = classifier
    rows = full_rows("lig-8", tokenizer, model)
    full = [r["attributions"] for r in rows]
    maps = {b: convergence_maps("lig-8", model, tokenizer, rows, b, seed=0) for b in (5, 1, 2)}
    for budget, got in maps.items():
        fresh = [LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=budget)
                 .attribute(torch.tensor(r["input_ids"]), target=r["prediction"]).attributions.tolist() for r in rows]
        assert flat(got) == pytest.approx(flat(fresh), abs=1e-6)
        assert mean_squared_error(got, full) > 1e-8  # not the full-budget maps
    assert mean_squared_error(maps[1], maps[2]) > 1e-8 and mean_squared_error(maps[2], maps[5]) > 1e-8
    errors = convergence_errors("lig-8", model, tokenizer, rows, [1, 2, 5], seed=0)
    assert {b: e.mean() for b, e in errors.items()} == {
        b: pytest.approx(mean_squared_error(maps[b], full), rel=1e-4) for b in (1, 2, 5)}
    assert convergence_errors("lig-8", model, tokenizer, rows, [1], seed=0)[1] == pytest.approx(errors[1], rel=1e-6)


def test_svs_budget_runs_draw_other_permutations_than_the_full_run(classifier):
    """SVS with n < N samples must not be the first n permutations of the full run (its prefix would
    be correlated with the target, so the curve would look better than an independent rerun)."""
    tokenizer, model = classifier
    rows = full_rows("svs-6", tokenizer, model, seed=0)
    svs = ShapleyValueSamplingExplainer(model, tokenizer, n_samples=3)
    prefix = [svs.attribute(torch.tensor(r["input_ids"]), target=r["prediction"], seed=0 * 1_000_003 + r["index"])
              .attributions.tolist() for r in rows]  # the seeds target_explain used for the full run
    got = convergence_maps("svs-6", model, tokenizer, rows, 3, seed=0)
    assert mean_squared_error(got, prefix) > 1e-8
    assert mean_squared_error(got, [r["attributions"] for r in rows]) > 1e-8
    assert got == convergence_maps("svs-6", model, tokenizer, rows, 3, seed=0)  # seeded: reruns agree


def test_comparison_lists_the_smaller_budgets_as_baselines():
    rows = comparison("sst2", "m", "ag-news", "roberta-base", "lig-10", [0.02], 0.9,
                      {"zeros": 0.05, "token_class_lookup": 0.04}, {1: 0.2, 2: 0.03, 5: 0.01}, "ours: test split")
    by_metric = {r["metric"]: r["ours"] for r in rows}
    assert by_metric["mse"] == 0.02 and by_metric["mse_baseline_token_class_lookup"] == 0.04
    assert {m: by_metric[m] for m in ("mse_baseline_lig-1", "mse_baseline_lig-2", "mse_baseline_lig-5")} == {
        "mse_baseline_lig-1": 0.2, "mse_baseline_lig-2": 0.03, "mse_baseline_lig-5": 0.01}


@pytest.fixture(scope="module")
def downstream_folder(classifier, tmp_path_factory):
    """A 'fine-tuned' downstream model: the packaged MiniLM with a changed encoder weight, saved."""
    tokenizer, model = classifier
    folder = tmp_path_factory.mktemp("downstream")
    tuned = type(model).from_pretrained(model_path(PACKAGED_MODEL), num_labels=2)
    with torch.no_grad():
        tuned.base_model.embeddings.word_embeddings.weight.add_(0.5)
    tuned.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, tuned


def test_ee_encoder_is_a_copy_of_the_downstream_encoder(downstream_folder):
    from xairepro.empirical_explainers.train_explainer import load_encoder

    folder, tuned = downstream_folder
    encoder = load_encoder("downstream", str(folder))
    expected = tuned.base_model.state_dict()
    for name, value in encoder.state_dict().items():
        assert torch.equal(value, expected[name]), name
    pretrained = load_encoder(PACKAGED_MODEL, str(folder))
    assert not torch.equal(pretrained.embeddings.word_embeddings.weight, encoder.embeddings.word_embeddings.weight)


def test_ee_training_stops_after_patience_epochs_and_keeps_the_best(downstream_folder, tmp_path):
    """A learning rate far too high makes the validation MSE stop improving: training ends `patience`
    epochs after the best one, and the kept model is the best epoch's."""
    from transformers import AutoTokenizer

    from xairepro.empirical_explainers.train_explainer import main

    folder, _ = downstream_folder
    tokenizer = AutoTokenizer.from_pretrained(folder)
    generator = torch.Generator().manual_seed(0)
    rows = [{"index": i, "input_ids": tokenizer(s)["input_ids"], "prediction": i % 2, "label": i % 2,
             "attributions": torch.randn(len(tokenizer(s)["input_ids"]), generator=generator).tolist()}
            for i, s in enumerate(SENTENCES * 2)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    write_jsonl(tmp_path / "validation.jsonl", rows[:2])
    main(["--encoder", "downstream", "--downstream", str(folder), "--train", str(tmp_path / "train.jsonl"),
          "--validation", str(tmp_path / "validation.jsonl"), "--out", str(tmp_path / "ee"),
          "--metrics", str(tmp_path / "metrics.json"), "--epochs", "12", "--patience", "2",
          "--learning-rate", "0.05", "--batch-size", "2", "--device", "cpu"])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    history = [h["validation_mse"] for h in metrics["history"]]
    best = metrics["best_epoch"]
    assert history[best - 1] == min(history)
    assert metrics["epochs_run"] == len(history) == best + 2 < 12  # stopped early, exactly 2 epochs after the best
    assert all(h >= history[best - 1] for h in history[best:])


def test_lig_without_the_delta_gives_the_same_attributions(classifier):
    """The speed benchmark times LIG without captum's completeness delta: same maps, no delta."""
    tokenizer, model = classifier
    ids = torch.tensor(tokenizer(SENTENCES[0])["input_ids"])
    with_delta = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=4).attribute(ids)
    without = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=4, convergence_delta=False).attribute(ids)
    assert torch.allclose(with_delta.attributions, without.attributions, atol=1e-6)
    assert with_delta.delta is not None and without.delta is None and without.prediction == with_delta.prediction


def test_lig_on_a_padded_batch_gives_each_sentences_own_map(classifier):
    """The benchmark's batched LIG (same batch size as the EE) explains each row as LIG on that
    sentence alone: padding is masked and is its own baseline, so it changes nothing."""
    from xairepro.empirical_explainers.explainers import pad_batch

    tokenizer, model = classifier
    ids = [tokenizer(s)["input_ids"] for s in SENTENCES + ["it drags"]]
    lig = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=4)
    input_ids, mask = pad_batch(ids, tokenizer.pad_token_id)
    maps, targets = lig.attribute_batch(input_ids, mask)
    for row, x in enumerate(ids):
        alone = lig.attribute(torch.tensor(x))
        assert int(targets[row]) == alone.prediction
        assert torch.allclose(maps[row, :len(x)], alone.attributions, atol=1e-4)
        assert torch.all(maps[row, len(x):] == 0)


def test_comparison_gives_the_ee_mse_as_mean_and_sample_std_over_seeds():
    rows = comparison("sst2", "m", "ag-news", "roberta-base", "lig-10", [0.02, 0.03, 0.04], 0.9,
                      {"zeros": 0.05, "token_class_lookup": 0.04})
    ee = next(r for r in rows if r["metric"] == "mse")
    assert (ee["ours"], ee["ours_std"], ee["runs"]) == (0.03, 0.01, 3)
    lookup_row = next(r for r in rows if r["metric"] == "mse_baseline_token_class_lookup")
    assert "runs" not in lookup_row  # a baseline is one computation, not a seed mean
    one_seed = next(r for r in comparison("sst2", "m", "ag-news", "roberta-base", "lig-10", [0.02], 0.9, {})
                    if r["metric"] == "mse")
    assert one_seed["ours_std"] == "" and one_seed["runs"] == 1  # one seed: no spread claimed


def test_paired_bootstrap_interval_excludes_zero_only_for_a_consistent_margin():
    rng = np.random.default_rng(0)
    ours = rng.uniform(0.01, 0.05, size=200)
    low, high = paired_bootstrap(ours + 0.01, ours, seed=0)  # better on every instance by 0.01
    assert low == pytest.approx(0.01) and high == pytest.approx(0.01)
    noise = rng.normal(0, 0.02, size=200)
    low, high = paired_bootstrap(ours + noise, ours, seed=0)  # no real margin: the interval straddles 0
    assert low < 0 < high
    # pairing matters: a shared per-instance difficulty cancels, so a small consistent margin is resolved
    hard = rng.uniform(0, 1, size=200)
    low, _ = paired_bootstrap(hard + 0.001, hard, seed=0)
    assert low > 0
    assert paired_bootstrap(ours + noise, ours, seed=3) == paired_bootstrap(ours + noise, ours, seed=3)  # seeded


def test_summary_gives_each_comparators_margin_and_verdict_from_its_bootstrap_interval():
    def margin(mse, low, high, instances=160):
        return {"mse": mse, "instances": instances, "minus_ee": mse - 0.03, "bootstrap_95": [low, high]}

    metrics = {"explainer": "lig-10", "test_instances": 160, "dataset": "sst2", "model": "m",
               "paper_setup": {"dataset": "ag-news", "model": "roberta-base"}, "weighted_f1": 0.86,
               "mse_ee_vs_target_per_seed": [0.02, 0.03, 0.04],
               "minus_ee": {"token_class_lookup": margin(0.05, 0.01, 0.03), "completeness_lookup": margin(0.031, -0.01, 0.012),
                            "lig-1": margin(0.2, 0.1, 0.2, instances=40), "lig-5": margin(0.01, -0.03, -0.01)}}
    lines = summary(metrics).splitlines()
    assert any(l.startswith("| EE, 3 training seed(s), mean ± std | 0.0300 ± 0.0100 | per seed: 0.0200, 0.0300, 0.0400")
               for l in lines)
    row = {l.split(" | ")[0].strip("| "): l for l in lines if l.startswith("| ")}
    assert row["lookup: mean training attribution per (token, predicted class)"].endswith("| +0.0200 [+0.0100, +0.0300] | EE better |")
    assert "tie (interval contains 0)" in row["lookup shifted so each map sums to f(x) − f(x′) (two forward passes of f)"]
    assert row["LIG-5 (the target explainer rerun with 5 step(s)/sample(s))"].endswith("| EE worse |")
    assert row["LIG-1 (the target explainer rerun with 1 step(s)/sample(s))"].endswith("(first 40 test sentences)")
    assert "| EE, 1 training seed(s) | 0.0200 (one seed) |" in summary({**metrics, "mse_ee_vs_target_per_seed": [0.02]})
    # metrics.json is written with sorted keys: the rows keep their order (baselines, then budgets ascending)
    assert summary({**metrics, "minus_ee": dict(sorted(metrics["minus_ee"].items()))}) == summary(metrics)
    # an MSE of ~1e-3 (long texts) keeps three significant digits, its baselines the same decimals
    small = summary({**metrics, "mse_ee_vs_target_per_seed": [0.00104, 0.00118],
                     "minus_ee": {"zeros": {"mse": 0.00123, "instances": 160, "minus_ee": 0.00012,
                                            "bootstrap_95": [-0.00005, 0.00021]}}})
    assert "| 0.00111 ± 0.00010 | per seed: 0.00104, 0.00118 |" in small
    assert "| zeros | 0.00123 | +0.00012 [-0.00005, +0.00021] | tie (interval contains 0) |" in small


def test_completeness_lookup_sums_to_the_gap_that_lig_maps_sum_to(classifier):
    """The shifted lookup's maps sum to f(x) − f(x′) of the explained class, the sum a LIG map has up to its
    completeness error; special tokens (kept in x′, so attributed 0) are not shifted."""
    tokenizer, model = classifier
    rows = full_rows("lig-8", tokenizer, model)
    lig = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=64)
    gaps = completeness_gaps(lig, rows)
    for r, gap in zip(rows, gaps):
        e = lig.attribute(torch.tensor(r["input_ids"]), target=r["prediction"])
        assert gap == pytest.approx(float(sum(e.attributions)) - e.delta, abs=1e-4)
    special = set(lig.special_ids.tolist())
    maps = [[0.1] * len(r["input_ids"]) for r in rows]
    shifted = completeness_shift(maps, rows, gaps, special)
    for r, m, gap in zip(rows, shifted, gaps):
        assert sum(m) == pytest.approx(gap, abs=1e-9)
        assert [v for t, v in zip(r["input_ids"], m) if t in special] == [0.1] * sum(t in special for t in r["input_ids"])
