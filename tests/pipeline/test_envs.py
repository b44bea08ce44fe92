"""The three framework environments: same pins for conda and venv, and each really is what it claims."""
import re
import subprocess

import pytest
import yaml

ENVS = ("tf", "chainer", "torch")


def pins(path):
    return dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
                for line in path.read_text().splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("env", ENVS)
def test_conda_file_uses_the_venv_pins(repo, env):
    spec = yaml.safe_load((repo / "envs" / f"{env}.yaml").read_text())
    pip_section = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    assert f"-r {env}.txt" in pip_section
    venv_pins = pins(repo / "envs" / f"{env}.txt")
    for dep in spec["dependencies"]:  # conda-side pins (chainer's build pins) must equal the txt's
        if isinstance(dep, str) and "=" in dep and not dep.startswith("python"):
            name, version = dep.split("=")
            assert venv_pins[name] == version, dep


@pytest.mark.parametrize("env", ENVS)
def test_every_pin_is_exact_and_installed(repo, env):
    python = repo / ".venvs" / env / "bin" / "python"
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True).stdout
    installed = {m.group(1).lower().replace("_", "-"): m.group(2)
                 for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)$", frozen, re.M)}
    for name, version in pins(repo / "envs" / f"{env}.txt").items():
        # a local build label (torch's "+cpu") is not part of the pinned public version
        assert installed.get(name.lower(), "").split("+")[0] == version, (name, version, installed.get(name.lower()))


def _imports(repo, env, code):
    python = repo / ".venvs" / env / "bin" / "python"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True)


def test_tf_env_has_no_torch(repo):
    assert _imports(repo, "tf", "import tensorflow").returncode == 0
    assert "No module named 'torch'" in _imports(repo, "tf", "import torch").stderr


def test_chainer_env_has_numpy_1(repo):
    proc = _imports(repo, "chainer", "import chainer, numpy; print(numpy.__version__)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1.")
