"""Step 1: train DistMult/ComplEx and record the influence map γ (python -m xairepro.gradient_rollback.train)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from xairepro.gradient_rollback import data, run
from xairepro.gradient_rollback.model import CREDITS, MODELS, MODES, Settings, Trainer, configure_threads, tail_probabilities
from xairepro.io import start_step, write_json


def link_prediction(model: str, E, R, triples: np.ndarray) -> dict:
    """Raw (unfiltered) MRR and Hits@1 of the tails, to show the model learned something."""
    ranks = np.array([(p > p[t]).sum() + 1 for h, r, t in triples
                      for p in [tail_probabilities(model, E, R, h, r)]])
    return {"mrr": round(float((1 / ranks).mean()), 6), "hits_at_1": round(float((ranks == 1).mean()), 6)}


def uncredited_share(trained, train: np.ndarray) -> float:
    """‖θ_final − θ_init − Σγ‖ / ‖θ_final − θ_init‖: 0 (to rounding) with lazy Adam and credit touched;
    with credit hrt or dense Adam (authors) the share of the parameter change credited to no triple."""
    inf = trained.influence
    E, R = trained.E0.copy(), trained.R0.copy()
    np.add.at(E, inf.entity_rows, inf.entity_delta)
    np.add.at(R, train[:, 1], inf.relation_delta)
    rest = np.sqrt(((trained.E - E) ** 2).sum() + ((trained.R - R) ** 2).sum())
    total = np.sqrt(((trained.E - trained.E0) ** 2).sum() + ((trained.R - trained.R0) ** 2).sum())
    return round(float(rest / total), 6)


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument("--model", choices=MODELS, required=True)
    for key in ("dim", "epochs", "negatives", "seed", "decay_steps"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=getattr(defaults, key))
    for key in ("learning_rate", "decay_rate"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=float, default=getattr(defaults, key))
    parser.add_argument("--credit", choices=CREDITS, default=defaults.credit,
                        help="rows of γ: all a triple's steps touched (exact Σγ) or only its h, r, t (authors')")
    parser.add_argument("--mode", choices=MODES, default=defaults.mode,
                        help="ours, or the authors' code's training (dense Adam, best validation epoch, ...)")


def main(argv=None) -> None:
    log = start_step(__name__)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=data.DATASETS, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    add_settings_flags(parser)
    args = parser.parse_args(argv)
    settings = Settings(args.model, args.dim, args.epochs, args.negatives, args.seed, args.learning_rate,
                        args.decay_steps, args.decay_rate, credit=args.credit, mode=args.mode)
    configure_threads(args.threads)
    graph = data.load(args.dataset, args.data_dir)
    log.info("%s: %d entities, %d relations, %d train triples; %s", args.dataset, len(graph.entities),
             len(graph.relations), len(graph.train), settings)
    # γ holds up to (credited rows) × width numbers per triple and epoch: refuse up front when it cannot
    # fit (FB15k-237/Movielens at 500 negatives, dim 100 and credit "touched" need ~110/32 GB).
    gamma_gb = settings.epochs * len(graph.train) * settings.credited_rows(len(graph.entities)) * settings.width * 8 / 1e9
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    log.info("influence map up to %.2f GB (machine %.1f GB)", gamma_gb, memory_gb)
    if 2 * gamma_gb > memory_gb:
        raise MemoryError(f"recording γ with credit {settings.credit!r} needs up to ~{2 * gamma_gb:.0f} GB here "
                          f"({memory_gb:.0f} GB present): set credit: hrt, lower negatives/dim/epochs, "
                          "or run on a larger node")
    select_on = graph.valid if settings.authors and len(graph.valid) else None
    trained = Trainer(settings, len(graph.entities), len(graph.relations)).train(graph.train, track=True,
                                                                                 select_on=select_on)
    run.save(args.out_dir, settings, trained)
    metrics = {"dataset": args.dataset, "model": args.model, "mode": settings.mode, "train_triples": len(graph.train),
               "test": link_prediction(args.model, trained.E, trained.R, graph.test),
               "influence_nonzero_entity_rows": int(len(trained.influence.entity_rows)),
               "uncredited_change_share": uncredited_share(trained, graph.train)}
    if trained.history:
        metrics["validation_mrr_per_epoch"] = [round(m, 6) for m in trained.history["validation_mrr"]]
        metrics["best_epoch"] = trained.history["best_epoch"]
    write_json(args.out_dir / "train_metrics.json", metrics)
    log.info("done: %s", metrics)


if __name__ == "__main__":
    main()
