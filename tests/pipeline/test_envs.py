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
def test_conda_spec_is_generated_from_the_pins(repo, env):
    """envs/<env>.yaml inlines every pin of envs/<env>.txt (so Snakemake's conda hash, which reads only the
    yaml, changes with a pin) and is exactly what `python -m xairepro.envs write` makes of it."""
    from xairepro.envs import conda_spec

    text = (repo / "envs" / f"{env}.yaml").read_text()
    assert text == conda_spec(env), f"envs/{env}.yaml is stale: run `python -m xairepro.envs write`"
    spec = yaml.safe_load(text)
    assert spec["name"] == f"xairepro-{env}" and "conda-forge" in spec["channels"]
    assert spec["dependencies"][:2] == ["python=3.11", "pip"]
    conda_side = dict(d.split("=") for d in spec["dependencies"][2:] if isinstance(d, str))
    pip_side = dict(line.split("==") for d in spec["dependencies"] if isinstance(d, dict) for line in d["pip"] if "==" in line)
    assert {**conda_side, **pip_side} == pins(repo / "envs" / f"{env}.txt")
    assert not conda_side.keys() & pip_side.keys()


def test_changing_a_pin_changes_the_environment_identity(tmp_path, repo):
    from xairepro.envs import conda_spec, pins_hash

    for f in repo.glob("envs/*.txt"):
        (tmp_path / f.name).write_text(f.read_text())
    before = pins_hash("tf", tmp_path), conda_spec("tf", tmp_path)
    text = (tmp_path / "tf.txt").read_text()
    (tmp_path / "tf.txt").write_text("# a new comment\n" + text)  # comments are not pins
    assert pins_hash("tf", tmp_path) == before[0]
    (tmp_path / "tf.txt").write_text(text.replace("tqdm==4.70.1", "tqdm==4.70.0"))
    assert pins_hash("tf", tmp_path) != before[0] and conda_spec("tf", tmp_path) != before[1]
    (tmp_path / "tf.txt").write_text(text + "tqdm>=4\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        pins_hash("tf", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_conda_spec_pip_part_resolves(repo, env, tmp_path):
    """The pip part of each conda spec resolves as pip would inside the conda env (the conda-side pins as
    constraints): as far as this machine can check a spec without a conda channel."""
    spec = yaml.safe_load((repo / "envs" / f"{env}.yaml").read_text())
    pip_lines = [line for d in spec["dependencies"] if isinstance(d, dict) for line in d["pip"] if "==" in line]
    conda_pins = [d.replace("=", "==") for d in spec["dependencies"]
                  if isinstance(d, str) and "=" in d and not d.startswith("python")]
    (tmp_path / "requirements.txt").write_text("\n".join(pip_lines) + "\n")
    (tmp_path / "constraints.txt").write_text("\n".join(conda_pins) + "\n")
    python = repo / ".venvs" / env / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--disable-pip-version-check", "-r", str(tmp_path / "requirements.txt"),
                           "-c", str(tmp_path / "constraints.txt")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]


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


def test_cluster_torch_spec_is_the_plain_pypi_wheel_which_is_the_cuda_build(repo):
    # A `+cpu` local version or the CPU index would give a GPU node a CPU-only torch.
    spec = (repo / "envs" / "torch.yaml").read_text()
    assert re.search(r"^      - torch==\d+\.\d+\.\d+$", spec, re.M)
    assert "+cpu" not in spec and "download.pytorch.org/whl/cpu" not in spec
