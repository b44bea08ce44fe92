"""Time per explanation: the Empirical Explainer's forward pass vs the target explainers it replaces
(Layer Integrated Gradients with n steps, Shapley Value Sampling with n samples), on the same SST-2
test sentences, one instance at a time, on the same machine and thread count. Goal: EE >= 20x faster.

.venvs/torch/bin/python benchmarks/empirical_explainers_speed.py \
    --downstream results/empirical_explainers/sst2/downstream/model \
    --explainer-model results/empirical_explainers/sst2/lig-10/explainer/model --out results/benchmarks/empirical_explainers/speed.json
Without trained models it times untrained MiniLM weights (the cost does not depend on the weights).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch

from xairepro.empirical_explainers.data import PACKAGED_MODEL, load_split, model_path, tokenize
from xairepro.empirical_explainers.explainers import (EmpiricalExplainer, LayerIntegratedGradientsExplainer,
                                                       ShapleyValueSamplingExplainer)
from xairepro.io import write_json


def seconds_per_instance(explain, inputs) -> float:
    explain(inputs[0])  # warm-up (first-call allocations)
    times = []
    for x in inputs:
        start = time.perf_counter()
        explain(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--downstream", default=None, help="fine-tuned downstream model folder (default: untrained MiniLM)")
    p.add_argument("--explainer-model", default=None, help="trained EE folder (default: untrained MiniLM + head)")
    p.add_argument("--data", default="data/sst2")
    p.add_argument("--instances", type=int, default=30)
    p.add_argument("--max-length", type=int, default=48)
    p.add_argument("--lig-steps", type=int, default=10, help="default config: lig-10 (paper: 25)")
    p.add_argument("--svs-samples", type=int, default=20, help="paper: svs-20")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the timings as JSON here")
    a = p.parse_args(argv)
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    downstream = a.downstream or model_path(PACKAGED_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(downstream)
    model = AutoModelForSequenceClassification.from_pretrained(downstream, num_labels=2).eval()
    ee = (EmpiricalExplainer.load(a.explainer_model) if a.explainer_model
          else EmpiricalExplainer(AutoModel.from_pretrained(model_path(PACKAGED_MODEL))).eval())
    ids, _ = tokenize(tokenizer, load_split("sst2", a.data, "test", a.instances, seed=0), a.max_length)
    inputs = [torch.tensor(x) for x in ids]

    def ee_explain(x):
        with torch.no_grad():
            return ee(x[None], torch.ones_like(x)[None])

    lig = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=a.lig_steps)
    svs = ShapleyValueSamplingExplainer(model, tokenizer, n_samples=a.svs_samples)
    ee_s = seconds_per_instance(ee_explain, inputs)
    lig_s = seconds_per_instance(lig.attribute, inputs)
    svs_s = seconds_per_instance(svs.attribute, inputs)
    result = {"instances": len(inputs), "mean_tokens": statistics.mean(len(x) for x in inputs), "threads": a.threads,
              "trained_models": bool(a.downstream and a.explainer_model),
              "seconds_per_explanation": {"ee": ee_s, f"lig-{a.lig_steps}": lig_s, f"svs-{a.svs_samples}": svs_s},
              "speedup_of_ee": {f"lig-{a.lig_steps}": lig_s / ee_s, f"svs-{a.svs_samples}": svs_s / ee_s},
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    for name, value in result["seconds_per_explanation"].items():
        print(f"{name:>8}: {value * 1000:8.1f} ms per explanation (median of {len(inputs)})")
    for name, value in result["speedup_of_ee"].items():
        print(f"EE is {value:.1f}x faster than {name} (goal >= 20x)")
    if a.out:
        write_json(a.out, result)


if __name__ == "__main__":
    main()
