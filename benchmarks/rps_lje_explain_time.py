"""Explain-all-test-points time and peak memory of RPS-LJE vs RPS-l2 vs last-layer IF (one run).

Each explainer runs in a fresh process (`python -m xairepro.rps_lje.explain`) on the same trained
model; peak memory is that process's max RSS (timing file) minus that of a process that only imports the
step (torch included), so it counts what the explainer itself holds. Goal: LJE >= 10x faster than RPS-l2.

    .venvs/torch/bin/python benchmarks/rps_lje_explain_time.py results/rps_lje/sst2/rnn/run0/train.npz
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def import_only_peak_mb():
    code = "import resource, xairepro.rps_lje.explain; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout) / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("train", help="train.npz of the rps_train step")
    args = p.parse_args()
    data = np.load(args.train)
    print(f"model {args.train}: n_train={len(data['y_train'])}, n_test={len(data['y_test'])}, "
          f"d={data['phi_train'].shape[1]}")
    baseline = import_only_peak_mb()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("lje", "rps_l2", "if"):
            out = Path(tmp) / name
            subprocess.run([sys.executable, "-m", "xairepro.rps_lje.explain", "--train", args.train,
                            "--explainer", name, "--out", f"{out}.npz", "--metrics", f"{out}.json",
                            "--timing", f"{out}.timing.json"], check=True, capture_output=True)
            timing = json.loads(Path(f"{out}.timing.json").read_text())
            rows[name] = (timing["seconds"], timing["peak_rss_mb"] - baseline)
    print(f"{'explainer':<10}{'seconds':>10}{'peak RSS above import-only, MB':>34}")
    for name, (seconds, peak) in rows.items():
        print(f"{name:<10}{seconds:>10.4f}{peak:>34.1f}")
    print(f"import-only process peak RSS: {baseline:.1f} MB")
    print(f"RPS-l2 / LJE time ratio: {rows['rps_l2'][0] / max(rows['lje'][0], 1e-9):.1f}x (goal >= 10x)")
    print(f"IF / LJE time ratio: {rows['if'][0] / max(rows['lje'][0], 1e-9):.1f}x")


if __name__ == "__main__":
    main()
