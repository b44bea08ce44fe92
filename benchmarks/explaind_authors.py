"""Peak memory and time of our streaming EPK (xairepro.explaind.explainer) against the authors' package
`explaind` 0.1.0 (ExactPathKernelModel.predict) on the same model, data and training run; checks that
both give the same EPK prediction f(x; θ_0) + Σ kernel terms (+ weight decay), the same data
attribution, and that both reconstruct the trained model's outputs. Fails loudly if they disagree.

    .venvs/torch/bin/python benchmarks/explaind_authors.py

Set-up, done by the script itself (package-registry access only, first run): the wheel asks for
Python >= 3.12 and pulls plotly, umap, tensorboard, pandas==2.2.3; the modules we call import only
torch, numpy and tqdm, which .venvs/torch has. So we run
    python -m pip download explaind==0.1.0 --no-deps --ignore-requires-python --only-binary=:all: -d .venvs/explaind-authors
check the wheel's sha256, unzip it to .venvs/explaind-authors/site (git-ignored) and put that folder
on sys.path of our torch venv (Python 3.11). Their files are not edited.

Set-up of the comparison (what their package needs):
- Model: our modulo-addition transformer (p = 23, d_mlp = 4·d_model) wrapped to return log-softmax.
  Their loss is NLLLoss on the model output and their EPK explains every output of the model (C = p
  classes; the kernel's train side is ∇ of the output at the label, i.e. −∇ℓ_i). Cross-entropy of
  log-softmax equals cross-entropy of the logits, so our training is unchanged. Our FlatModel
  explains the output at one class per test point, so we ask for every (test point, class) pair:
  n_test · C outputs on both sides.
- Optimizer (--optimizer): `sgd` (default), SGD with momentum and weight decay, constant lr (their
  SGDOptimizerPath; fp32 momentum buffers, buffer_float16=False as in their CIFAR-2 validation script; fp16
  would halve the buffers); or `adamw`, the modulo task's AdamW (lr 1e-3, betas (0.9, 0.98), eps 1e-8,
  decoupled weight decay; their AdamWOptimizerPath, which reads the recorded second moments v_s, as we
  hold the preconditioner fixed within a step).
- Training run: one run recorded twice from the same θ_0 and the same batches (a DataLoader whose
  batch_sampler replays our batch_schedule): by our train_with_history (chunks every K steps) and by
  their wrappers in their training loop (ModelPath/SGDOptimizerPath/DataPath, log_checkpoint after
  every step). The recorded final parameters must agree.
- EPK: T midpoint points per step on both sides (their integral_eps = early_integral_eps = 1/T).
  Their predict needs keep_param_wise_kernel=True (with False it raises TypeError at step 0:
  prev_eval is None in exact_path_kernel_step_test); that also accumulates a per-parameter kernel
  (n_test × C × P), as their README and scripts do. evaluate_predictions=False (it only adds forward
  passes per step). Their data attribution: the summed kernel matrices / batch size.

Each measurement runs in a fresh process with one thread; peak memory = peak RSS while loading the
recorded history from disk and computing the prediction, minus RSS just before (/proc/self/clear_refs
resets the peak; a vmap gradient call first warms torch.func for both). Sweeps the number of steps,
of parameters (via d_model) and of explained outputs (test points × C). One run (about 7 minutes on
2 cores); results in results/benchmarks/explaind/authors.json (authors_adamw.json with --optimizer adamw,
which runs ADAMW_CASES by default). Other sizes: --case N_STEPS D_MODEL
N_TRAIN N_TEST (repeatable) with another --out, e.g. --case 4000 16 500 1 (about 6 minutes).

--markdown FILE also writes the tables of every results/benchmarks/explaind/authors*.json (SGD and AdamW,
whichever exist) as the README's block; with --markdown-only it measures nothing and only writes them:

    .venvs/torch/bin/python benchmarks/explaind_authors.py --markdown-only --markdown results/benchmarks/explaind_authors.md
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xairepro.explaind.functional import FlatModel

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".venvs" / "explaind-authors"
WHEEL = "explaind-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "098203916ada40688c13efeda554e7503c0c18fb005a2b92720b3911f8a9154d"

CASES = [  # (n_steps, d_model, n_train, n_test): sweeps over steps, parameters, and explained outputs
    (100, 16, 500, 1), (400, 16, 500, 1), (1600, 16, 500, 1),
    (400, 32, 500, 1), (400, 64, 500, 1),
    (400, 16, 500, 4),
]
P, T, BATCH, CHUNK, CHECKPOINT_EVERY = 23, 4, 50, 64, 10  # n_train % BATCH == 0: see worker
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 5e-3
ADAMW_LR, BETAS, EPS, ADAMW_WEIGHT_DECAY = 1e-3, (0.9, 0.98), 1e-8, 4.0   # the modulo task's AdamW
# AdamW cases: at 400 steps our functional AdamW and torch.optim.AdamW (float32) drift 0.45% apart, which
# the recording check refuses
ADAMW_CASES = [(100, 16, 500, 1), (200, 16, 500, 1), (100, 32, 500, 1)]


def our_optimizer(name: str):
    """Our functional optimizer and its constant learning rate."""
    from xairepro.explaind.functional import SGD, AdamW
    if name == "sgd":
        return SGD(MOMENTUM, WEIGHT_DECAY), LR
    return AdamW(betas=BETAS, eps=EPS, weight_decay=ADAMW_WEIGHT_DECAY), ADAMW_LR
AGREE_TOL = 1e-4   # ours vs theirs (same float32 arithmetic up to summation order)
RECON_TOL = 1e-2   # EPK prediction vs trained model (midpoint rule with T = 4 on a ReLU network)


def ensure_explaind() -> None:
    """Download and unpack the authors' wheel once, then make `import explaind` work."""
    site = CACHE / "site"
    if not (site / "explaind" / "epk_model.py").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "explaind==0.1.0", "--no-deps",
                        "--ignore-requires-python", "--only-binary=:all:", "-d", str(CACHE)], check=True)
        digest = hashlib.sha256((CACHE / WHEEL).read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise RuntimeError(f"{CACHE / WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}")
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp, zipfile.ZipFile(CACHE / WHEEL) as wheel:
            wheel.extractall(tmp)
            os.replace(tmp, site)  # all or nothing: a killed run leaves no half-unpacked package
    sys.path.insert(0, str(site))


class LogProbs(nn.Module):
    """Their EPK explains the model output and trains it with NLLLoss: the output must be log-probs."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).log_softmax(-1)


class IndexedTokens(torch.utils.data.Dataset):
    """Their DataPath tags each example's target with its index, so the dataset needs `.targets`."""

    def __init__(self, x, y):
        self.x, self.targets = x, list(y)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.targets[i]


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def setup(n_steps: int, d_model: int, n_train: int, n_test: int):
    """Data, the untrained model (seeded: same θ_0 everywhere), its batches and history identity."""
    from xairepro.explaind.data import modulo_addition
    from xairepro.explaind.history import batch_schedule
    from xairepro.explaind.models import build_model

    data = modulo_addition(P, n_train, 0)
    torch.manual_seed(0)
    module = LogProbs(build_model("modulo_transformer", p=P, d_model=d_model, n_heads=4, d_mlp=4 * d_model))
    batches = [b.long().tolist() for b in batch_schedule(n_train, BATCH, n_steps, 0)]
    loader = torch.utils.data.DataLoader(IndexedTokens(data.x_train, data.y_train), batch_sampler=batches)
    x, y = data.x_test[:n_test], data.y_test[:n_test]
    return data, FlatModel(module), loader, x, y, {"bench": [n_steps, d_model, n_train]}


def their_paths(model: FlatModel, folder: Path, loader, overwrite: bool, optimizer_name: str = "sgd"):
    from explaind.data_paths import DataPath
    from explaind.model_paths import ModelPath
    from explaind.optimizer_paths import AdamWOptimizerPath, SGDOptimizerPath

    path = ModelPath(model.module, device="cpu", checkpoint_path=str(folder / "model.pt"), overwrite=overwrite,
                     output_dim=P)
    # checkpoints=[]: the package's default is one mutable list shared by all instances
    if optimizer_name == "sgd":
        optimizer = SGDOptimizerPath(path, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, checkpoints=[],
                                     checkpoint_path=str(folder / "optimizer.pt"), overwrite=overwrite, device="cpu",
                                     buffer_float16=False)
    else:
        optimizer = AdamWOptimizerPath(path, lr=ADAMW_LR, betas=BETAS, eps=EPS, weight_decay=ADAMW_WEIGHT_DECAY,
                                       checkpoints=[], checkpoint_path=str(folder / "optimizer.pt"),
                                       overwrite=overwrite, device="cpu")
    data_path = DataPath(loader, checkpoint_path=str(folder / "data.pt"), full_batch=False, overwrite=overwrite)
    return path, optimizer, data_path


def record(case, folder: Path, optimizer_name: str = "sgd") -> dict:
    """Train once, recorded by our train_with_history and by the authors' wrappers and training loop."""
    from explaind.modulo_model.loss import RegularizedCrossEntropyLoss

    from xairepro.explaind.history import train_with_history

    n_steps = case[0]
    data, model, loader, _, _, ident = setup(*case)
    opt, lr = our_optimizer(optimizer_name)
    ours = train_with_history(model, opt, data.x_train, data.y_train, [lr] * n_steps, BATCH,
                              0, folder / "ours", CHECKPOINT_EVERY, ident)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        path, optimizer, data_path = their_paths(model, folder / "theirs", loader, overwrite=True,
                                                 optimizer_name=optimizer_name)
        loss_fn = RegularizedCrossEntropyLoss(alpha=0.0)
        for batch in data_path.dataloader:  # their README's loop
            x, y = data_path.get_batch(batch)
            optimizer.zero_grad()
            loss_fn(path.forward(x), y).backward()
            optimizer.step()
            path.log_checkpoint()
            optimizer.log_checkpoint()
        path.save_checkpoints()
        optimizer.save_checkpoints()
        data_path.save_checkpoints()
    theirs = torch.cat([v.reshape(-1) for v in path.checkpoints[-1].values()])
    diff = (theirs - ours).abs().max().item() / ours.abs().max().item()
    if len(path.checkpoints) != n_steps + 1 or diff > AGREE_TOL:
        raise RuntimeError(f"case {case}: the two recordings differ ({len(path.checkpoints)} checkpoints, "
                           f"final parameters differ by {diff:.3g} relative)")
    mib = lambda d: sum(f.stat().st_size for f in d.iterdir()) / 2 ** 20
    return {"n_params": model.n_params, "recordings_max_rel_diff": diff,
            "ours_history_mib": mib(folder / "ours"), "theirs_history_mib": mib(folder / "theirs")}


def worker(method: str, case, folder: Path, out: str, optimizer_name: str = "sgd") -> None:
    from xairepro.explaind.explainer import ExPLAIND
    from xairepro.explaind.history import History

    torch.set_num_threads(1)
    n_test, n_train = case[3], case[2]
    data, model, loader, x, y, ident = setup(*case)
    if method == "theirs":
        from explaind.epk_model import ExactPathKernelModel
        from explaind.modulo_model.loss import RegularizedCrossEntropyLoss
    model.output_grads(model.initial_params()[None], x[:1], y[:1])  # warm-up: torch.func, used by both
    Path("/proc/self/clear_refs").write_text("5")
    before = rss_kib("VmRSS")
    start = time.perf_counter()
    if method == "ours":
        # every (test point, class) pair: the n_test × C outputs their predict explains
        xr, yr = x.repeat_interleave(P, 0), torch.arange(P).repeat(n_test)
        explainer = ExPLAIND(model, our_optimizer(optimizer_name)[0], History(folder / "ours", ident), data.x_train,
                             data.y_train, integration_steps=T, chunk=CHUNK)
        res = explainer.attribute(xr, yr, progress=False)
        result = {"initial": res.initial, "prediction": res.reconstruction, "final": res.final, "data": res.data}
    else:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # it prints tensors
            path, optimizer, data_path = their_paths(model, folder / "theirs", loader, overwrite=False,
                                                     optimizer_name=optimizer_name)
            epk = ExactPathKernelModel(model=path, optimizer=optimizer, loss_fn=RegularizedCrossEntropyLoss(alpha=0.0),
                                       data_path=data_path, integral_eps=1 / T, early_integral_eps=1 / T, device="cpu",
                                       evaluate_predictions=False, keep_param_wise_kernel=True,
                                       param_wise_kernel_keep_out_dims=True)
            prediction, initial, kernel, _, _ = epk.predict(x, y_test=y, keep_kernel_matrices=True)
        # kernel[group]: (n, 1, C, N), Σ_s lr_s K_s; predict divides each step by its batch size
        # (all BATCH here), so example i's share of the prediction is Σ_groups kernel / BATCH
        data_attr = sum(kernel.values())[:, 0] / BATCH
        result = {"initial": initial, "prediction": prediction, "data": data_attr,
                  "final": path.forward(x, step=len(path.checkpoints) - 1)}
    seconds = time.perf_counter() - start
    peak = rss_kib("VmHWM") - before
    shapes = {"initial": (n_test, P), "prediction": (n_test, P), "final": (n_test, P), "data": (n_test, P, n_train)}
    np.savez(out, **{k: torch.as_tensor(v).detach().reshape(shapes[k]).numpy() for k, v in result.items()})
    print(json.dumps({"peak_mib": peak / 1024, "seconds": seconds}))


def compare(ours: dict, theirs: dict, case) -> dict:
    """Agreement of the two EPKs, and of each with the trained model; raises on disagreement."""
    change = np.abs(theirs["final"] - theirs["initial"]).max()
    recon = lambda r: float(np.linalg.norm(r["prediction"] - r["final"]) / np.linalg.norm(r["final"]))
    stats = {"prediction_max_abs_diff": float(np.abs(ours["prediction"] - theirs["prediction"]).max()),
             "prediction_max_rel_diff": float(np.abs(ours["prediction"] - theirs["prediction"]).max() / change),
             "data_max_rel_diff": float(np.abs(ours["data"] - theirs["data"]).max() / np.abs(theirs["data"]).max()),
             "final_max_abs_diff": float(np.abs(ours["final"] - theirs["final"]).max()),
             "ours_reconstruction_rel_error": recon(ours), "theirs_reconstruction_rel_error": recon(theirs)}
    bad = [k for k in ("prediction_max_rel_diff", "data_max_rel_diff") if stats[k] > AGREE_TOL]
    bad += [k for k in ("ours_reconstruction_rel_error", "theirs_reconstruction_rel_error") if stats[k] > RECON_TOL]
    if bad or stats["final_max_abs_diff"] > AGREE_TOL * change:
        raise RuntimeError(f"case {case}: outputs disagree ({', '.join(bad) or 'final'}): {stats}")
    return stats


def markdown(paths: list[Path]) -> str:
    """One table per results file: memory, time and agreement of ours and theirs per case."""
    parts = []
    for path in paths:
        result = json.loads(path.read_text())
        s = result["settings"]
        sgd = s["optimizer"] == "sgd"
        moments = f"momentum {s['momentum']}" if sgd else f"betas {tuple(s['betas'])}, eps {s['eps']}"
        optimizer = f"{'SGD' if sgd else 'AdamW'} (lr {s['lr']}, {moments}, weight decay {s['weight_decay']})"
        parts += [f"{path.name}: {optimizer}, modulo transformer p = {s['p']}, batches of {s['batch_size']}, "
                  f"T = {s['T']}, {s['threads']} thread, their package {s['explaind']}; one run. Differences are "
                  "relative to the largest output change (prediction) or attribution (data).", "",
                  "| steps | params | outputs | ours MiB | theirs MiB | memory ratio | ours s | theirs s "
                  "| time ratio | prediction diff | data diff | reconstruction error, ours / theirs |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        parts += [f"| {c['n_steps']} | {c['n_params']} | {c['n_outputs']} | {c['ours_peak_mib']:.1f} | "
                  f"{c['theirs_peak_mib']:.1f} | {c['memory_ratio']:.1f}× | {c['ours_s']:.1f} | "
                  f"{c['theirs_s']:.1f} | {c['time_ratio']:.1f}× | {c['prediction_max_rel_diff']:.1e} | "
                  f"{c['data_max_rel_diff']:.1e} | "
                  f"{c['ours_reconstruction_rel_error']:.1e} / {c['theirs_reconstruction_rel_error']:.1e} |"
                  for c in result["cases"]]
        parts.append("")
    return "\n".join(parts)


def write_markdown(out: str, folder: Path) -> None:
    from xairepro.io import atomic_path
    paths = sorted(folder.glob("authors*.json"))
    if not paths:
        raise FileNotFoundError(f"no authors*.json in {folder}: run this benchmark first")
    with atomic_path(out) as tmp:
        tmp.write_text(markdown(paths))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=4, metavar=("METHOD", "CASE_JSON", "FOLDER", "OUT"))
    ap.add_argument("--case", nargs=4, type=int, action="append", metavar=("N_STEPS", "D_MODEL", "N_TRAIN", "N_TEST"),
                    help="run this size instead of CASES (repeatable)")
    ap.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    ap.add_argument("--out", default=None, help="default: results/benchmarks/explaind/authors[_adamw].json")
    ap.add_argument("--markdown", help="also write the tables of every authors*.json there (the README's block)")
    ap.add_argument("--markdown-only", action="store_true", help="measure nothing, only write --markdown")
    args = ap.parse_args()
    out_json = args.out or ("results/benchmarks/explaind/authors.json" if args.optimizer == "sgd"
                            else "results/benchmarks/explaind/authors_adamw.json")
    if args.markdown_only:
        if not args.markdown:
            ap.error("--markdown-only needs --markdown")
        return write_markdown(args.markdown, Path(out_json).parent)
    cases = [tuple(c) for c in args.case] if args.case else (CASES if args.optimizer == "sgd" else ADAMW_CASES)
    bad = [c for c in cases if c[2] % BATCH or c[3] < 1 or not 0 < c[2] <= P * P - c[3]]
    if bad:
        raise ValueError(f"n_train must be a multiple of {BATCH} and leave n_test of the {P * P} pairs for testing: {bad}")
    ensure_explaind()
    if args.worker:
        method, case, folder, out = args.worker
        return worker(method, tuple(json.loads(case)), Path(folder), out, args.optimizer)
    from xairepro.io import write_json
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            row = {"n_steps": case[0], "d_model": case[1], "n_train": case[2], "n_test": case[3], "n_outputs": case[3] * P,
                   **record(case, Path(tmp), args.optimizer)}
            result = {}
            for method in ("ours", "theirs"):
                out = f"{tmp}/{method}.npz"
                proc = subprocess.run([sys.executable, __file__, "--worker", method, json.dumps(case), tmp, out,
                                       "--optimizer", args.optimizer],
                                      capture_output=True, text=True)
                if proc.returncode:
                    raise RuntimeError(f"{method} worker failed on case {case}:\n{proc.stderr[-4000:]}")
                measured = json.loads(proc.stdout.strip().splitlines()[-1])
                row[f"{method}_peak_mib"], row[f"{method}_s"] = measured["peak_mib"], measured["seconds"]
                result[method] = dict(np.load(out))
            row.update(compare(result["ours"], result["theirs"], case))
        row["memory_ratio"] = row["theirs_peak_mib"] / max(row["ours_peak_mib"], 0.1)
        row["time_ratio"] = row["theirs_s"] / row["ours_s"]
        rows.append({k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in row.items()})
        print(rows[-1], flush=True)
    optimizer = ({"optimizer": "sgd", "lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY}
                 if args.optimizer == "sgd" else
                 {"optimizer": "adamw", "lr": ADAMW_LR, "betas": BETAS, "eps": EPS, "weight_decay": ADAMW_WEIGHT_DECAY})
    write_json(out_json, {"settings": {"p": P, "T": T, "batch_size": BATCH, "chunk": CHUNK,
                                       "checkpoint_every": CHECKPOINT_EVERY, **optimizer, "threads": 1,
                                       "torch": torch.__version__,
                                       "explaind": "0.1.0", "explaind_wheel_sha256": WHEEL_SHA256},
                          "cases": rows})
    if args.markdown:
        write_markdown(args.markdown, Path(out_json).parent)


if __name__ == "__main__":
    main()
