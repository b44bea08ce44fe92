"""Step explaind_swap: the paper's "swap aligned" (injection) experiment on modulo addition.

ExPLAIND's component attribution finds a pipeline of groups (input embedding, MLP output layer,
unembedding) that forms early and stays aligned with the final model. For checkpoints s = 0, k,
2k, ... we build a model whose pipeline groups come from the final model θ_S and all other groups
from θ_s, and compare it on the test split with the step-s model itself: accuracy and
KL(model ‖ final model) of the predicted distributions (mean over test points). Further variants
(config `swap_variants`, e.g. only the unembedding, all but attention) swap other group sets.

Writes a CSV: step, variant, accuracy, kl_to_final, step_model_accuracy, step_model_kl_to_final.
"""
from __future__ import annotations

import torch

from xairepro.io import start_step, write_csv

from .history import History
from .task import parse_pipeline_step


def measure(model, theta, x, y, final_logp) -> tuple[float, float]:
    """Accuracy on (x, y) and mean KL(f(·; θ) ‖ final model) of the predicted distributions."""
    with torch.no_grad():
        logp = model.logits(theta, x).log_softmax(1)
        kl = (logp.exp() * (logp - final_logp)).sum(1).mean()
        return float((logp.argmax(1) == y).double().mean()), max(float(kl), 0.0)  # clip rounding below 0


def variants(pipeline: dict) -> dict[str, list[str]]:
    """Group sets taken from the final model, by name: the pipeline, then `swap_variants`."""
    return {"pipeline": pipeline["groups"], **pipeline.get("swap_variants", {})}


def swap_table(model, optimizer, history: History, x_train, y_train, x, y, steps, swapped: dict) -> list[dict]:
    """One row per (step, variant); θ_s regenerated from the history (replayed on the training data)."""
    masks = {name: model.group_mask(groups).to(x.device) for name, groups in swapped.items()}  # checks names first
    final = history.final_params()
    with torch.no_grad():
        final_logp = model.logits(final, x).log_softmax(1)
    rows = []
    for s, theta in history.params_at(steps, model, optimizer, x_train, y_train):
        step_acc, step_kl = measure(model, theta, x, y, final_logp)
        for name, mask in masks.items():
            acc, kl = measure(model, torch.where(mask, final, theta), x, y, final_logp)
            rows.append({"step": s, "variant": name, "accuracy": f"{acc:.6g}", "kl_to_final": f"{kl:.6g}",
                         "step_model_accuracy": f"{step_acc:.6g}", "step_model_kl_to_final": f"{step_kl:.6g}"})
    return rows


def main(argv=None):
    log = start_step(__name__)
    args, pipeline, task, history = parse_pipeline_step(__doc__, argv)
    d, swapped = task.data, variants(pipeline)
    steps = range(0, history.n_steps + 1, pipeline["swap_every"])
    rows = swap_table(task.model, task.optimizer, history, d.x_train, d.y_train, d.x_test, d.y_test, steps, swapped)
    write_csv(args.out, rows)
    log.info("swapped %d checkpoints x %d variants on %d test points; last: %s", len(steps), len(swapped),
             len(d.x_test), rows[-1])

if __name__ == "__main__":
    main()
