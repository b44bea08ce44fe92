"""Step 2: run the expensive target explainer over one shard of a split and write json lines
(index, input_ids, attributions, prediction, label). The shards of a split are contiguous blocks,
so the jobs can run in parallel and the files, read in shard order, keep the split's order. Logs
"instance i of N" and keeps finished rows in <out>.partial.jsonl, so a killed shard resumes where it stopped.

python -m xairepro.empirical_explainers.target_explain --dataset sst2 --data data/sst2 \
    --model results/empirical_explainers/sst2/downstream/model --explainer lig-25 --split test \
    --size 100 --shard 0 --shards 2 --out results/empirical_explainers/sst2/lig-25/target/test.0.jsonl
"""
from __future__ import annotations

import argparse

import torch
from xairepro.device import resolve
from xairepro.io import Resumable, start_step
from xairepro.empirical_explainers.data import size_arg, load_split, shard_range, tokenize, write_jsonl
from xairepro.empirical_explainers.explainers import make_target_explainer, parse_explainer


def explain(explainer, ids: list[list[int]], indices, labels, seed: int, done: Resumable | None = None, log=None):
    """One json row per instance; SVS's permutations are seeded by the instance index, so a row
    does not depend on how the split was sharded (nor on a restart: `done` holds rows finished before)."""
    rows = []
    for n, i in enumerate(indices, 1):
        row = done.get(str(i)) if done else None
        if row is None:
            input_ids = torch.tensor(ids[i])
            if explainer.name == "svs":
                e = explainer.attribute(input_ids, seed=seed * 1_000_003 + i)
            else:
                e = explainer.attribute(input_ids)
            row = {"index": i, "input_ids": ids[i], "attributions": [round(v, 7) for v in e.attributions.tolist()],
                   "prediction": e.prediction, "label": labels[i]}
            if done:
                done.add(str(i), row)
        if log and (n % 10 == 0 or n == len(indices)):
            log.info("%s: instance %d of %d", explainer.name, n, len(indices))
        rows.append(row)
    return rows


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True, help="folder of the fine-tuned downstream model")
    p.add_argument("--explainer", required=True, help="<name>-<budget>: lig-25 (steps) or svs-20 (samples)")
    p.add_argument("--split", required=True, choices=("train", "validation", "test"))
    p.add_argument("--size", type=size_arg, default=None, help="instances of the split (default: all)")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    a = p.parse_args(argv)
    parse_explainer(a.explainer)  # an unknown name fails here, before the model is loaded
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(a.threads)
    examples = load_split(a.dataset, a.data, a.split, a.size, a.seed)
    indices = shard_range(len(examples), a.shard, a.shards)
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model).eval().to(resolve(a.device, log))
    ids, cut = tokenize(tokenizer, examples, a.max_length)
    cut_here = sum(len(tokenizer(*examples[i][0])["input_ids"]) > len(ids[i]) for i in indices)
    if cut_here:
        log.warning("%d of the %d instances of this shard are longer than %d tokens and were truncated; "
                    "the EE explains the same truncated ids", cut_here, len(indices), min(a.max_length, tokenizer.model_max_length))
    log.info("%s %s shard %d/%d: instances %d..%d (%d truncated in the whole split)",
             a.dataset, a.split, a.shard, a.shards, indices.start, indices.stop - 1, cut)
    explainer = make_target_explainer(a.explainer, model, tokenizer)
    done = Resumable(a.out, vars(a), inputs=[a.data, a.model], log=log)
    write_jsonl(a.out, explain(explainer, ids, indices, [label for _, label in examples], a.seed, done, log))
    done.finish()


if __name__ == "__main__":
    main()
