"""How the EPK's reconstruction error falls with the number of midpoint nodes T, on the exactness tests'
own recorded runs (tests/explaind/explaind_helpers.py: a float64 modulo transformer with GELU, so f is
smooth along each step's path and the midpoint rule's error should fall as 1/T²), with SGD and AdamW.
The tests assert the trend; this prints the numbers the README quotes. Seconds on one core.

    .venvs/torch/bin/python benchmarks/explaind_error_vs_T.py --markdown results/benchmarks/explaind_error_vs_T.md
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' run set-up, not a copy of it

from tests.explaind.explaind_helpers import OPTIMIZERS, make_run  # noqa: E402
from xairepro.explaind.explainer import ExPLAIND  # noqa: E402
from xairepro.io import atomic_path  # noqa: E402

STEPS = (4, 16, 64)
N_TEST = 8  # as the tests explain


def relative_errors(optimizer: str) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        model, opt, history, data, _ = make_run(Path(tmp), optimizer)
        errors = []
        for T in STEPS:
            explainer = ExPLAIND(model, opt, history, data.x_train, data.y_train, integration_steps=T, chunk=64)
            result = explainer.attribute(data.x_test[:N_TEST], data.y_test[:N_TEST], progress=False)
            errors.append(result.relative_error())
    return errors


def markdown(errors: dict[str, list[float]]) -> str:
    # order p of error ∝ T^−p, from the first and last T
    order = {name: math.log(e[0] / e[-1]) / math.log(STEPS[-1] / STEPS[0]) for name, e in errors.items()}
    lines = [f"EPK relative error of the label logit ({N_TEST} test points) on the exactness tests' float64 GELU "
             "runs (tests/explaind/explaind_helpers.py), by midpoint nodes T per step; p: error ∝ T^−p between "
             f"T = {STEPS[0]} and {STEPS[-1]} (the midpoint rule's order on a smooth path is 2).", "",
             "| optimizer | " + " | ".join(f"T = {T}" for T in STEPS) + " | p |",
             "|---|" + "---|" * (len(STEPS) + 1)]
    lines += [f"| {name} | " + " | ".join(f"{e:.1e}" for e in errs) + f" | {order[name]:.2f} |"
              for name, errs in errors.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", required=True, help="the table `make readme-results` puts in the README")
    args = ap.parse_args()
    text = markdown({name: relative_errors(name) for name in sorted(OPTIMIZERS)})
    print(text)
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
