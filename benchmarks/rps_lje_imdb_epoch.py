"""One training epoch of the paper's IMDB Bi-LSTM on this machine, for the paper-scale estimate.

The authors' model (echoyi/RPS_LJE models/RNN): 2-layer bidirectional LSTM, hidden 256, dropout 0.5,
Adam lr 5e-3, batch 64, 17500 training reviews. Word vectors here are GloVe 6B-50d (the only ones
offline; the authors use 100d) and reviews are cut at --max-len tokens (the authors keep them whole).
Times --batches minibatches of real IMDB reviews (data/imdb, from `snakemake data/imdb`) and scales to
one epoch; prints the estimate for the paper's debugging experiment.

    .venvs/torch/bin/python benchmarks/rps_lje_imdb_epoch.py data/imdb data/glove-6b-50d \
        --markdown results/benchmarks/rps_lje_imdb_epoch.md

--markdown also writes the output as a Markdown code block, which `make readme-results` puts in the README.
"""
import argparse
import time

import numpy as np
import torch

from rps_lje_explain_time import write_code_block
from xairepro.rps_lje.data import load_imdb
from xairepro.rps_lje.models import build_network, encode, glove_vocabulary


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("imdb")
    p.add_argument("glove")
    p.add_argument("--train-size", type=int, default=17500)
    p.add_argument("--max-len", type=int, default=400)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--markdown", help="also write the output here, for the README")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    texts, y, _, _ = load_imdb(args.imdb, args.train_size, 1, seed=0)
    vocab, embeddings = glove_vocabulary(texts, args.glove)
    x = encode(texts, vocab, args.max_len)
    lengths = (x != 0).sum(1)
    lines = [f"{len(texts)} reviews, median {np.median(lengths):.0f} tokens after the cut at {args.max_len} "
             f"({np.mean(lengths == args.max_len):.0%} cut)"]
    torch.manual_seed(0)
    model = build_network("bilstm", vocab_size=len(embeddings), embed_dim=embeddings.shape[1], hidden=256,
                          layers=2, dropout=0.5)
    model.embed.weight.data.copy_(torch.as_tensor(embeddings))
    opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=5e-3)
    order = torch.randperm(len(y)).split(64)
    model.train()
    start = time.perf_counter()
    for batch in order[: args.batches]:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(torch.as_tensor(x[batch])), torch.as_tensor(y[batch], dtype=torch.float32))
        loss.backward()
        opt.step()
    per_batch = (time.perf_counter() - start) / args.batches
    epoch = per_batch * len(order)
    # per run: the flipped model (20 epochs), then retraining with 3 fresh trainings of 20 epochs at 8
    # checkpoints x 5 orders (LJE, RPS-l2, IF, loss, random) plus 0% and 100% (shared): (8*5+2)*3 = 126
    trainings = 1 + (8 * 5 + 2) * 3
    hours = trainings * 20 * epoch / 3600
    lines += [f"{per_batch:.2f} s per batch of 64 on {args.threads} threads -> {epoch / 60:.1f} min per epoch "
              f"({len(order)} batches)",
              f"paper debugging experiment: {trainings} trainings x 20 epochs per run = {hours:.0f} h per run, "
              f"{10 * hours:.0f} h for 10 runs on this machine"]
    print("\n".join(lines))
    if args.markdown:
        write_code_block(args.markdown, lines)


if __name__ == "__main__":
    main()
