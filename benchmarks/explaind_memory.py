"""Peak memory and time of the streaming EPK (xairepro.explaind.explainer) against the materialising
reference written from the paper (xairepro.explaind.reference: one momentum buffer per training
example, N × P, and the per-step kernel shares, S × n × N, as the authors' code keeps them), on the
same model and the same recorded training history; checks that both give the same attributions.

Each measurement runs in a fresh process; peak memory = peak RSS during the attribution call minus
RSS just before it (/proc/self/clear_refs resets the peak). Sweeps the number of steps and of
training examples (and parameters via d_model). One run; results in results/benchmarks/explaind/.

    .venvs/torch/bin/python benchmarks/explaind_memory.py --markdown results/benchmarks/explaind_memory.md

--markdown also writes the table that `make readme-results` puts in the README.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CASES = [  # (n_train, n_steps, d_model): sweeps over steps, training examples, parameters
    (800, 10, 32), (800, 20, 32), (800, 40, 32),
    (200, 20, 32), (1600, 20, 32), (3200, 20, 32),
    (1600, 20, 16), (1600, 20, 64),
]
N_TEST, T, BATCH, CHUNK = 8, 4, 100, 64


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def worker(method: str, n_train: int, n_steps: int, d_model: int, out: str) -> None:
    import torch

    from xairepro.explaind.data import modulo_addition
    from xairepro.explaind.explainer import ExPLAIND
    from xairepro.explaind.functional import SGD, FlatModel
    from xairepro.explaind.history import History, train_with_history
    from xairepro.explaind.models import build_model
    from xairepro.explaind.reference import materialised_epk

    torch.set_num_threads(1)
    data = modulo_addition(59, n_train, 0)
    torch.manual_seed(0)
    model = FlatModel(build_model("modulo_transformer", p=59, d_model=d_model, n_heads=4, d_mlp=4 * d_model))
    with tempfile.TemporaryDirectory() as tmp:
        ident = {"bench": [n_train, n_steps, d_model]}
        train_with_history(model, SGD(0.9, 5e-3), data.x_train, data.y_train, [0.05] * n_steps, BATCH, 0,
                           Path(tmp) / "h", 10, ident)
        explainer = ExPLAIND(model, SGD(0.9, 5e-3), History(Path(tmp) / "h", ident), data.x_train, data.y_train,
                             integration_steps=T, chunk=CHUNK)
        x, y = data.x_test[:N_TEST], data.y_test[:N_TEST]
        explainer.attribute(x[:1], y[:1], progress=False)  # warm-up: vmap/functional caches
        Path("/proc/self/clear_refs").write_text("5")
        before = rss_kib("VmRSS")
        start = time.perf_counter()
        if method == "streaming":
            data_attr = explainer.attribute(x, y, progress=False).data
        else:
            shares, _ = materialised_epk(explainer, x, y)
            data_attr = shares.sum(0).numpy()
        seconds = time.perf_counter() - start
        peak = rss_kib("VmHWM") - before
    np.save(out, data_attr)
    print(json.dumps({"peak_mib": peak / 1024, "seconds": seconds, "n_params": model.n_params}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=5, metavar=("METHOD", "N_TRAIN", "N_STEPS", "D_MODEL", "OUT"))
    ap.add_argument("--out", default="results/benchmarks/explaind/memory_vs_reference.csv")
    ap.add_argument("--markdown", help="also write the table as Markdown (the README's block)")
    args = ap.parse_args()
    if args.worker:
        method, n_train, n_steps, d_model, out = args.worker
        return worker(method, int(n_train), int(n_steps), int(d_model), out)
    from xairepro.io import write_csv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_train, n_steps, d_model in CASES:
            result = {}
            for method in ("streaming", "materialised"):
                out = f"{tmp}/{method}.npy"
                proc = subprocess.run([sys.executable, __file__, "--worker", method, str(n_train), str(n_steps),
                                       str(d_model), out], capture_output=True, text=True, check=True)
                result[method] = json.loads(proc.stdout.strip().splitlines()[-1])
                result[method]["data"] = np.load(out)
            s, m = result["streaming"], result["materialised"]
            diff = np.abs(s["data"] - m["data"]).max() / np.abs(m["data"]).max()
            rows.append({"n_train": n_train, "n_steps": n_steps, "n_params": s["n_params"], "n_test": N_TEST, "T": T,
                         "streaming_peak_mib": f"{s['peak_mib']:.1f}", "materialised_peak_mib": f"{m['peak_mib']:.1f}",
                         "memory_ratio": f"{m['peak_mib'] / max(s['peak_mib'], 0.1):.1f}",
                         "streaming_s": f"{s['seconds']:.2f}", "materialised_s": f"{m['seconds']:.2f}",
                         "max_rel_diff": f"{diff:.2e}"})
            print(rows[-1], flush=True)
    write_csv(args.out, rows)
    if args.markdown:
        from xairepro.io import atomic_path

        head = ["n_train", "n_steps", "n_params", "streaming_peak_mib", "materialised_peak_mib", "memory_ratio",
                "streaming_s", "materialised_s", "max_rel_diff"]
        lines = [f"One run; {N_TEST} explained points, T = {T}, batch {BATCH}, vmap chunk {CHUNK}.", "",
                 "| " + " | ".join(h.replace("_", " ") for h in head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
        with atomic_path(args.markdown) as tmp:
            tmp.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
