"""A trained run folder: settings.json, model.npz (θ) and influence.npz (γ), shared by the steps."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from xairepro.gradient_rollback.model import Influence, Settings, Trained
from xairepro.io import atomic_path, write_json


def save(out_dir: Path, settings: Settings, trained: Trained) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "model.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, E=trained.E, R=trained.R, E0=trained.E0, R0=trained.R0)
    with atomic_path(out_dir / "influence.npz") as tmp, open(tmp, "wb") as f:
        trained.influence.save(f)
    write_json(out_dir / "settings.json", asdict(settings))


def load(run_dir: Path) -> tuple[Settings, np.ndarray, np.ndarray, Influence]:
    settings = Settings(**json.loads((run_dir / "settings.json").read_text()))
    with np.load(run_dir / "model.npz") as f:
        E, R = f["E"], f["R"]
    return settings, E, R, Influence.load(run_dir / "influence.npz")
