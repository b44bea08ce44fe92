"""Calibrate the DkNN on the held-out training examples, and fit the temperature-scaling baseline
on the validation set (paper sections 2 and 4).

    python -m xairepro.dknn.calibrate --activations A.npz --dknn-in index.pkl --dknn-out dknn.pkl \
        --calibration calibration.json

--calibration: the calibration nonconformity scores A, the temperature T and the validation NLL
before and after scaling.
"""
from __future__ import annotations

import argparse
import pickle


from xairepro.dknn import metrics
from xairepro.dknn.index import load_activations
from xairepro.io import atomic_path, start_step, write_json


def main(argv=None) -> None:
    log = start_step(__name__)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--activations", required=True)
    p.add_argument("--dknn-in", required=True)
    p.add_argument("--dknn-out", required=True)
    p.add_argument("--calibration", required=True)
    p.add_argument("--temperature-init", type=float, default=1.5)
    p.add_argument("--temperature-epochs", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.temperature_init <= 0 or a.temperature_epochs < 1:
        p.error("--temperature-init must be > 0 and --temperature-epochs >= 1")
    with open(a.dknn_in, "rb") as f:
        dknn = pickle.load(f)
    layers, _, labels = load_activations(a.activations, "calib")
    scores = dknn.calibrate(layers, labels)
    _, dev_logits, dev_labels = load_activations(a.activations, "dev")
    t = metrics.fit_temperature(dev_logits, dev_labels, init=a.temperature_init,
                                epochs=a.temperature_epochs, seed=a.seed)
    before, after = metrics.nll(dev_logits, dev_labels), metrics.nll(dev_logits, dev_labels, t)
    log.info("calibration set %d examples, nonconformity mean %.2f; temperature %.4f, dev NLL %.4f -> %.4f",
             len(scores), scores.mean(), t, before, after)
    with atomic_path(a.dknn_out) as tmp, open(tmp, "wb") as f:
        pickle.dump(dknn, f)
    write_json(a.calibration, {"calibration_nonconformity": [int(s) for s in scores],
                               "temperature": round(t, 6), "dev_nll": round(before, 6),
                               "dev_nll_temperature_scaled": round(after, 6)})


if __name__ == "__main__":
    main()
