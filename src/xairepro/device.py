"""The torch device of a step, from the `device` setting (auto | cpu | cuda).

auto takes the GPU when the job has one and says so either way in the step's log; cuda on a machine where
torch sees no CUDA device is an error that says what to change, never a silent CPU run. With
`deterministic=True` (ExPLAIND replays a recorded run and checks it to 1e-5) CUDA is made bit-stable:
deterministic algorithms and cuBLAS's fixed workspace. A step that took a GPU logs, when it ends, the peak
GPU memory torch allocated ("GPU peak memory: N MiB"): scripts/gpu_check.sh reads that line as the proof
that the work ran on the GPU.
"""
from __future__ import annotations

import atexit
import logging
import os

CHOICES = ("auto", "cpu", "cuda")


def resolve(setting: str, log: logging.Logger | None = None, deterministic: bool = False):
    import torch

    log = log or logging.getLogger(__name__)
    name = str(setting).split(":")[0]
    if name not in CHOICES:
        raise ValueError(f"device must be one of {', '.join(CHOICES)} (or cuda:<index>), got {setting!r}")
    if name == "auto":
        if torch.cuda.is_available():
            setting = "cuda"
            log.info("device auto: using %s (%s)", setting, torch.cuda.get_device_name(0))
        else:
            log.info("device auto: no CUDA device visible to torch %s, using the CPU", torch.__version__)
            return torch.device("cpu")
    if setting.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {setting!r} was asked for, but torch {torch.__version__} sees no CUDA device "
                               f"(CUDA build: {torch.version.cuda or 'none'}): set device: auto or cpu in the config, "
                               "or run the job where a GPU is allocated (profiles/slurm requests one for GPU rules)")
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
        log.info("device: %s (%s)", setting, torch.cuda.get_device_name(torch.device(setting)))
        atexit.register(log_peak_memory, torch.device(setting), log)
    return torch.device(setting)


def log_peak_memory(device, log: logging.Logger) -> float:
    """Log (and return) the peak GPU memory in MiB that torch allocated on `device` in this process."""
    import torch

    peak = torch.cuda.max_memory_allocated(device) / 2 ** 20
    log.info("GPU peak memory: %.1f MiB allocated on %s", peak, device)
    return peak
