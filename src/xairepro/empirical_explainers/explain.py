"""Step 4: explain the test split with the Empirical Explainer: one forward pass per batch. It reads
the token ids from the target explanation files, so both explain exactly the same (truncated) inputs.

python -m xairepro.empirical_explainers.explain --explainer-model results/.../explainer/model \
    --downstream results/empirical_explainers/sst2/downstream/model \
    --inputs results/.../target/test.0.jsonl results/.../target/test.1.jsonl --out results/.../explainer/test.jsonl
"""
from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from xairepro.io import start_step
from xairepro.empirical_explainers.data import read_jsonl, write_jsonl
from xairepro.device import resolve
from xairepro.empirical_explainers.explainers import EmpiricalExplainer, pad_batch


def explain(explainer: EmpiricalExplainer, ids: list[list[int]], batch_size: int, pad_id: int) -> list[list[float]]:
    """e(x) for each token-id list, without its padding."""
    maps = []
    with torch.no_grad():
        for start in tqdm(range(0, len(ids), batch_size), desc="EE explanations"):
            chunk = ids[start:start + batch_size]
            input_ids, mask = pad_batch(chunk, pad_id)
            scores = explainer(input_ids, mask)
            maps += [scores[i, :len(x)].tolist() for i, x in enumerate(chunk)]
    return maps


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--explainer-model", required=True)
    p.add_argument("--downstream", required=True, help="downstream model folder (for the padding token id)")
    p.add_argument("--inputs", nargs="+", required=True, help="target explanation shards of the split, in order")
    p.add_argument("--out", required=True)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    a = p.parse_args(argv)
    from transformers import AutoTokenizer

    torch.set_num_threads(a.threads)
    rows = read_jsonl(*a.inputs)
    pad_id = AutoTokenizer.from_pretrained(a.downstream).pad_token_id
    explainer = EmpiricalExplainer.load(a.explainer_model).to(resolve(a.device, log))
    maps = explain(explainer, [r["input_ids"] for r in rows], a.batch_size, pad_id)
    write_jsonl(a.out, ({"index": r["index"], "input_ids": r["input_ids"], "attributions": [round(v, 7) for v in m]}
                        for r, m in zip(rows, maps)))


if __name__ == "__main__":
    main()
