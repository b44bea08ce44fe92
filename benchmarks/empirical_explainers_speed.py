"""Time per explanation, like with like: the Empirical Explainer's forward pass vs the target explainers it
replaces (Layer Integrated Gradients with n steps, Shapley Value Sampling with n samples). Goal: EE >= 20x
faster than LIG.

Like with like: the same SST-2 test sentences (tokenised as the pipeline does), the same batch size for
every method (each of `--batch-sizes`: 1 = one sentence per call, as target_explain runs the target
explainer; B > 1 = right-padded batches of B sentences with an attention mask, for the EE and for LIG in
one captum call; SVS runs at batch size 1 only), the same process, device and thread count, every model in
eval mode, and `--warmup` calls per method left out of the timing. The methods are timed in turns, batch by
batch (EE, LIG, SVS, the downstream forward pass), so a change in the machine's load hits all of them alike.
Times are per explanation: the call's time divided by the sentences in it. Each target explainer is timed as the pipeline runs it:
`attribute(input_ids)`, which includes the forward pass that finds the explained class; LIG without
captum's completeness delta (two forward passes the explanation does not need), so the ratio is not
flattered by it.

.venvs/torch/bin/python benchmarks/empirical_explainers_speed.py \
    --downstream results/empirical_explainers/sst2/downstream/model \
    --explainer-model results/empirical_explainers/sst2/lig-10/explainer/seed0/model \
    --out results/benchmarks/empirical_explainers_speed.json --markdown results/benchmarks/empirical_explainers_speed.md
Without trained models it times untrained MiniLM weights (the cost does not depend on the weights).
--markdown writes the table that `make readme-results` puts into the README.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import torch

from xairepro.empirical_explainers.data import PACKAGED_MODEL, load_split, model_path, tokenize
from xairepro.empirical_explainers.explainers import (EmpiricalExplainer, LayerIntegratedGradientsExplainer,
                                                       ShapleyValueSamplingExplainer, pad_batch)
from xairepro.io import atomic_path, write_json


def timed(call, x, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    call(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def interleaved_seconds(methods: dict, batches, warmup: int, device, only_first: dict | None = None) -> dict[str, list[float]]:
    """Seconds per explanation of each method on each batch (call time / batch size), the methods taking
    turns on every batch; the first `warmup` batches are run by every method before timing starts.
    `only_first[name]` limits a slow method to the first that many batches."""
    only_first = only_first or {}
    for name, call in methods.items():
        for batch in batches[:warmup]:
            call(batch)
    times = {name: [] for name in methods}
    for i, batch in enumerate(batches):
        for name, call in methods.items():
            if i < only_first.get(name, len(batches)):
                times[name].append(timed(call, batch, device) / len(batch))
    return times


def markdown(result: dict) -> str:
    r = result
    lines = [f"EE vs its target explainers, like with like: {r['instances']} SST-2 test sentences "
             f"(mean {r['mean_tokens']:.1f} tokens), the same batch size for every method, {r['threads']} thread(s) "
             f"on {r['device']}, models in eval mode, {r['warmup']} warm-up calls per method at batch size 1 and 1 at larger batches, not timed, methods "
             f"timed in turns; downstream model: {'trained' if r['trained_downstream'] else 'untrained'}, EE weights: "
             f"{'trained' if r['trained_explainer'] else 'untrained (same architecture: the cost does not depend on the weights)'}; "
             f"1-minute load average {r['load_average_1min'][0]:.1f} before and {r['load_average_1min'][1]:.1f} after, "
             f"on {r['cpus']} CPUs (a loaded machine inflates the short EE calls most).",
             "",
             "| batch size | method | calls timed | median ms per explanation | EE faster by (median) | EE faster by (mean) |",
             "|---|---|---|---|---|---|"]
    for run in r["runs"]:
        for name, s in run["seconds"].items():
            lines.append(f"| {run['batch_size']} | {name} | {s['n']} | {s['median'] * 1000:.1f} | "
                         f"{run['speedup_of_ee_median'][name]:.1f}× | {run['speedup_of_ee_mean'][name]:.1f}× |")
    lines += ["", *best_against_best(r["runs"], r.get("goal", GOAL))]
    return "\n".join(lines) + "\n"


GOAL = {"method": "LIG-10", "speedup": 20.0}  # the goal for the default config's target explainer


def best_against_best(runs: list[dict], goal: dict) -> list[str]:
    """Each method at its fastest batch size (median ms per explanation): the EE's speed-up over every other
    method, and whether the goal against `goal['method']` is met."""
    best = {}
    for run in runs:
        for name, s in run["seconds"].items():
            if name not in best or s["median"] < best[name][0]:
                best[name] = (s["median"], run["batch_size"])
    ee, ee_batch = best["EE"]
    lines = [f"Best against best (each method at its fastest batch size; EE {ee * 1000:.1f} ms at batch size "
             f"{ee_batch}): " + "; ".join(f"{name} {t * 1000:.1f} ms at batch size {b}, EE faster by {t / ee:.1f}×"
                                           for name, (t, b) in best.items() if name != "EE") + "."]
    if goal["method"] in best:
        ratio = best[goal["method"]][0] / ee
        lines.append(f"Goal: EE ≥ {goal['speedup']:g}× faster than {goal['method']}, best against best: "
                     f"{ratio:.1f}×, {'met' if ratio >= goal['speedup'] else '**not met**'} on this machine.")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--downstream", default=None, help="fine-tuned downstream model folder (default: untrained MiniLM)")
    p.add_argument("--explainer-model", default=None, help="trained EE folder (default: untrained MiniLM + head)")
    p.add_argument("--data", default="data/sst2")
    p.add_argument("--instances", type=int, default=128, help="sentences timed (batch size B: instances / B calls)")
    p.add_argument("--max-length", type=int, default=48)
    p.add_argument("--lig-steps", type=int, nargs="+", default=[2, 10],
                   help="default config: lig-10 (paper: 25); LIG-2 ties the EE in fidelity (README)")
    p.add_argument("--svs-samples", type=int, default=20, help="paper: svs-20; 0 = do not time SVS")
    p.add_argument("--svs-instances", type=int, default=10, help="SVS is slow: time it on the first this many sentences")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16], help="the same for every method")
    p.add_argument("--warmup", type=int, default=3, help="calls per method before timing (not timed)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda: every method runs there")
    p.add_argument("--out", default=None, help="write the timings as JSON here")
    p.add_argument("--markdown", default=None, help="write the Markdown table for the README here")
    a = p.parse_args(argv)
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    downstream = a.downstream or model_path(PACKAGED_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(downstream)
    model = AutoModelForSequenceClassification.from_pretrained(downstream, num_labels=2).eval().to(device)
    ee = (EmpiricalExplainer.load(a.explainer_model) if a.explainer_model  # untrained: f's encoder + a head, as trained
          else EmpiricalExplainer(AutoModel.from_pretrained(downstream))).eval().to(device)
    ids, _ = tokenize(tokenizer, load_split("sst2", a.data, "test", a.instances, seed=0), a.max_length)
    inputs = [torch.tensor(x) for x in ids]

    def padded(batch):
        input_ids, mask = pad_batch([x.tolist() for x in batch], tokenizer.pad_token_id)
        return input_ids.to(device), mask.to(device)

    def ee_explain(batch):
        with torch.no_grad():
            return ee(*padded(batch))

    def forward(batch):
        with torch.no_grad():
            input_ids, mask = padded(batch)
            return model(input_ids=input_ids, attention_mask=mask).logits

    def lig_call(steps, batch_size):
        # as target_explain runs it (1-D, one sentence), or in one captum call for a padded batch
        lig = LayerIntegratedGradientsExplainer(model, tokenizer, n_steps=steps, convergence_delta=False)
        return (lambda batch: lig.attribute(batch[0])) if batch_size == 1 else (lambda batch: lig.attribute_batch(*padded(batch)))

    assert not model.training and not ee.training, "time the models in eval mode"
    load_before = os.getloadavg()[0]
    runs = []
    for batch_size in a.batch_sizes:
        batches = [inputs[i:i + batch_size] for i in range(0, len(inputs), batch_size)]
        methods = {"EE": ee_explain, **{f"LIG-{steps}": lig_call(steps, batch_size) for steps in a.lig_steps}}
        if a.svs_samples and batch_size == 1:
            svs = ShapleyValueSamplingExplainer(model, tokenizer, n_samples=a.svs_samples)
            methods[f"SVS-{a.svs_samples}"] = lambda batch: svs.attribute(batch[0])
        methods["f forward pass (reference)"] = forward
        times = interleaved_seconds(methods, batches, a.warmup if batch_size == 1 else 1, device,
                                    {f"SVS-{a.svs_samples}": a.svs_instances})
        seconds = {name: {"n": len(t), "median": statistics.median(t), "mean": statistics.mean(t)}
                   for name, t in times.items()}
        runs.append({"batch_size": batch_size, "seconds": seconds,
                     "speedup_of_ee_median": {n: s["median"] / seconds["EE"]["median"] for n, s in seconds.items()},
                     "speedup_of_ee_mean": {n: s["mean"] / seconds["EE"]["mean"] for n, s in seconds.items()}})
        for name, s in seconds.items():
            print(f"batch {batch_size:>3} {name:>28}: {s['median'] * 1000:8.1f} ms per explanation (median of {s['n']} "
                  f"calls), EE faster by {runs[-1]['speedup_of_ee_median'][name]:.1f}x", flush=True)
    result = {"instances": len(inputs), "mean_tokens": statistics.mean(len(x) for x in inputs), "threads": a.threads,
              "device": a.device if a.device != "cpu" else f"cpu ({platform.processor() or platform.machine()})",
              "warmup": a.warmup, "trained_downstream": bool(a.downstream), "trained_explainer": bool(a.explainer_model), "runs": runs,
              "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if a.out:
        write_json(a.out, result)
    if a.markdown:
        with atomic_path(a.markdown) as tmp:
            tmp.write_text(markdown(result))


if __name__ == "__main__":
    main()
