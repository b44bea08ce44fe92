"""Word saliency by leave-one-out (LOO) and by the gradient (paper section 5).

    python -m xairepro.dknn.interpret --model-dir M --data-dir data/sst2 --dknn dknn.pkl \
        --calibration calibration.json --n-interpret 20 --saliency saliency.json --html saliency.html

For a sentence x with prediction y and each word i, LOO saliency is s(x, y) - s(x without word i, y):
  conformity  s = p_y(x), the DkNN p-value of y (the credibility when y is the DkNN prediction);
  confidence  s = softmax_y(f(x)) (vanilla LOO);
  calibrated  s = softmax_y(f(x) / T), the temperature-scaled confidence;
and the gradient baseline is ||d log softmax_y / d e_i||_2 for the embedding e_i of word i (summed
over a word's characters for the character model). Sentences of one word are skipped: leaving
their only word out leaves nothing to classify.
"""
from __future__ import annotations

import argparse
import html
import json
import pickle

import chainer
import chainer.functions as F
import numpy as np
from tqdm import tqdm

from xairepro.dknn import data, metrics
from xairepro.dknn.models import activations, load_trained
from xairepro.io import atomic_path, start_step, write_json

METHODS = ("conformity", "confidence", "calibrated", "gradient")


class LeaveOneOut:
    """LOO and gradient saliency of a trained classifier and its calibrated DkNN.

    Args:
        model: a TextClassifier; vocab, args: its vocabulary and args.json;
        dknn: a fitted and calibrated DkNN over model.layers(); temperature: the scaling T.
    """

    def __init__(self, model, vocab: dict, args: dict, dknn, temperature: float):
        self.model, self.vocab, self.args, self.dknn, self.t = model, vocab, args, dknn, temperature

    def _scores(self, texts: list[list[str]]):
        acts = activations(self.model, data.encode_texts(texts, self.vocab, self.args))
        return self.dknn.predict(acts[:-1]), acts[-1]

    def attribute(self, tokens: list[str]) -> dict:
        """Saliency of every word of `tokens` under each of METHODS, plus the predictions."""
        if len(tokens) < 2:
            raise ValueError("leave-one-out needs a sentence of at least two words")
        variants = [tokens] + [tokens[:i] + tokens[i + 1:] for i in range(len(tokens))]
        out, logits = self._scores(variants)
        y_dknn, y_soft = int(out.prediction[0]), int(logits[0].argmax())
        conf, calib = metrics.softmax(logits)[:, y_soft], metrics.softmax(logits, self.t)[:, y_soft]
        p = out.p_values[:, y_dknn]
        return {
            "tokens": tokens, "prediction_dknn": y_dknn, "prediction_softmax": y_soft,
            "credibility": round(float(out.credibility[0]), 6), "confidence": round(float(conf[0]), 6),
            "conformity": np.round(p[0] - p[1:], 6).tolist(),
            "confidence_loo": np.round(conf[0] - conf[1:], 6).tolist(),
            "calibrated": np.round(calib[0] - calib[1:], 6).tolist(),
            "gradient": np.round(self.gradient(tokens, y_soft).astype(np.float64), 6).tolist(),
        }

    def gradient(self, tokens: list[str], label: int) -> np.ndarray:
        x = data.encode_texts([tokens], self.vocab, self.args)[0]
        with chainer.using_config("train", False):
            emb = chainer.Variable(self.model.embed_texts([x])[0].array)
            logp = F.log_softmax(self.model.layers([emb])[-1])[0, label]
            self.model.cleargrads()
            logp.backward()
        norms = np.sqrt((emb.grad ** 2).sum(1))
        if not self.args["char_based"]:
            return norms
        word_of_char = np.concatenate([[w] * (len(t) + 1) for w, t in enumerate(tokens)])[:len(x)]
        return np.bincount(word_of_char, norms, minlength=len(tokens))


def html_report(items: list[dict], label_names: list[str]) -> str:
    """One block per sentence, one row per method; red = the word supports the prediction, blue =
    against it; each row scaled by its largest absolute value."""
    rows = []
    for n, item in enumerate(items):
        rows.append(f"<h3>#{n}: gold {label_names[item['label']]}, softmax {label_names[item['prediction_softmax']]}"
                    f" ({item['confidence']:.2f}), DkNN {label_names[item['prediction_dknn']]}"
                    f" (credibility {item['credibility']:.2f})</h3><table>")
        for method, key in [("conformity (DkNN)", "conformity"), ("confidence", "confidence_loo"),
                            ("calibrated confidence", "calibrated"), ("gradient", "gradient")]:
            values = np.array(item[key])
            scale = np.abs(values).max() or 1.0
            cells = "".join(
                f'<span title="{v:.4f}" style="background:rgba({"220,40,40" if v > 0 else "40,80,220"},'
                f'{abs(v) / scale:.2f});padding:2px">{html.escape(w)}</span> '
                for w, v in zip(item["tokens"], values))
            rows.append(f"<tr><td><b>{method}</b></td><td>{cells}</td></tr>")
        rows.append("</table>")
    return ("<!doctype html><meta charset='utf-8'><title>DkNN saliency</title>"
            "<body style='font-family:sans-serif'><h2>Leave-one-out saliency (Wallace et al. 2018)</h2>"
            "<p>Leave-one-out rows: red = removing the word lowers the score of the prediction, blue = "
            "raises it. Gradient row: the gradient's norm (always red). Hover a word for its value.</p>" + "\n".join(rows) + "</body>")


def main(argv=None) -> None:
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("model-dir", "data-dir", "dknn", "calibration", "saliency", "html"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--n-interpret", type=int, default=20)
    a = p.parse_args(argv)
    if a.n_interpret < 1:
        p.error("--n-interpret must be >= 1")
    model, vocab, args = load_trained(a.model_dir)
    with open(a.dknn, "rb") as f:
        dknn = pickle.load(f)
    explainer = LeaveOneOut(model, vocab, args, dknn, json.loads(open(a.calibration).read())["temperature"])
    texts, labels = data.load_dataset(args["dataset"], a.data_dir, args["seed"])["test"]
    chosen = [i for i, t in enumerate(texts) if len(t) >= 2][:a.n_interpret]
    items = []
    for i in tqdm(chosen, desc="leave-one-out"):
        items.append(dict(explainer.attribute(texts[i]), index=i, label=labels[i]))
    # How concentrated each method's saliency is: share of the absolute saliency on the top word.
    summary = {m: round(float(np.mean([np.abs(it[k]).max() / (np.abs(it[k]).sum() or 1) for it in items])), 6)
               for m, k in zip(METHODS, ("conformity", "confidence_loo", "calibrated", "gradient"))}
    log.info("mean share of saliency on the top word: %s", summary)
    names = data.LABEL_NAMES.get(args["dataset"]) or [str(c) for c in range(args["n_class"])]
    write_json(a.saliency, {"examples": items, "top_word_share": summary})
    with atomic_path(a.html) as tmp:
        tmp.write_text(html_report(items, names), encoding="utf-8")


if __name__ == "__main__":
    main()
