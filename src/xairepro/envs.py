"""The three software environments: their identity (a hash of the pins, not of where they live) and the
conda specs generated from the same pins as the local venvs.

    python -m xairepro.envs write      # regenerate envs/<name>.yaml from envs/<name>.txt
    python -m xairepro.envs hash NAME  # the identity the workflow and `make envs` compare

envs/<name>.txt is the one place a pin is written. The workflow gives every job the identity of its
environment (`torch@<hash>`) as a param, so changing a pin reruns that environment's jobs, while moving
the checkout or switching between the local venvs and `--sdm conda` changes nothing Snakemake compares.
Imports nothing outside the standard library: the Snakefile and `make envs` use it before any venv exists.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
from pathlib import Path

ENVS = ("tf", "chainer", "torch")
ENVS_DIR = Path(__file__).resolve().parents[2] / "envs"
PYTHON = "3.11"
# Packages conda-forge installs rather than pip: chainer's sdist needs numpy 1.26 and setuptools<74 at
# build time, which pip's isolated builds do not give it.
CONDA_SIDE = {"chainer": ("numpy", "setuptools", "chainer")}
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)$")


def pins_file(name: str, envs_dir: Path = ENVS_DIR) -> Path:
    path = Path(envs_dir) / f"{name}.txt"
    if name not in ENVS or not path.is_file():
        raise ValueError(f"unknown environment {name!r}: expected one of {', '.join(ENVS)} with pins in {path}")
    return path


def pins(name: str, envs_dir: Path = ENVS_DIR) -> list[tuple[str, str]]:
    """(package, version) in file order; every non-comment line must be an exact `name==version` pin."""
    path = pins_file(name, envs_dir)
    out = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if not match:
            raise ValueError(f"{path}:{number}: {line!r} is not an exact pin `package==version`")
        out.append(match.groups())
    return out


def pins_hash(name: str, envs_dir: Path = ENVS_DIR) -> str:
    """12 hex digits of the sorted pins: comments, order and the file's location do not count."""
    text = "".join(f"{package.lower()}=={version}\n" for package, version in sorted(pins(name, envs_dir)))
    return hashlib.sha256(f"python={PYTHON}\n{text}".encode()).hexdigest()[:12]


def identity(name: str, envs_dir: Path = ENVS_DIR) -> str:
    """What a job's `env` param holds and the launcher checks: `<name>@<pins hash>`."""
    return f"{name}@{pins_hash(name, envs_dir)}"


def export_to_jobs(workflow_dir: str | Path, uses_conda: bool, data_mirror: str | None) -> None:
    """Set what every job's shell reads from its environment (jobs inherit the workflow's environment;
    a SLURM job parses the workflow again with the same config and flags, so sets the same values):
    PATH gets workflow/scripts (the `xairepro-env` launcher), XAIREPRO_DEPLOYMENT says whether Snakemake
    activates conda envs, XAIREPRO_DATA_MIRROR is the config's data_mirror. None of them is a param, so
    none of them decides whether a job reruns."""
    scripts = str(Path(workflow_dir) / "workflow" / "scripts")
    os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["XAIREPRO_DEPLOYMENT"] = "conda" if uses_conda else "venv"
    os.environ["XAIREPRO_DATA_MIRROR"] = data_mirror or ""


def header(name: str, envs_dir: Path = ENVS_DIR) -> list[str]:
    """The leading comment block of the pins file."""
    lines = []
    for raw in pins_file(name, envs_dir).read_text().splitlines():
        if not raw.startswith("#"):
            break
        lines.append(raw)
    return lines


def conda_spec(name: str, envs_dir: Path = ENVS_DIR) -> str:
    """envs/<name>.yaml: the pins inlined, so Snakemake's conda hash changes whenever a pin does."""
    conda_side = CONDA_SIDE.get(name, ())
    all_pins = pins(name, envs_dir)
    lines = [
        f"# GENERATED from envs/{name}.txt by `python -m xairepro.envs write`: edit the .txt, then regenerate",
        "# (tests/pipeline/test_envs.py fails while the two disagree). For --sdm conda on a cluster.",
        *header(name, envs_dir),
        f"name: xairepro-{name}",
        "channels: [conda-forge, nodefaults]",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        *(f"  - {p}={v}" for p, v in all_pins if p in conda_side),
        "  - pip:",
        *(f"      - {p}=={v}" for p, v in all_pins if p not in conda_side),
        "      - -e ..  # the xairepro package of this checkout",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="regenerate envs/<name>.yaml from envs/<name>.txt")
    write.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    show = sub.add_parser("hash", help="print the pins hash of one environment")
    show.add_argument("name", choices=ENVS)
    show.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    args = parser.parse_args(argv)
    if args.command == "hash":
        print(pins_hash(args.name, args.envs_dir))
        return
    for name in ENVS:
        target = args.envs_dir / f"{name}.yaml"
        target.write_text(conda_spec(name, args.envs_dir))
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
