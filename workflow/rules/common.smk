# Everything in Python that the rule files share - config validation, the interpreter of each
# framework environment, dataset paths, and the list of final targets.
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from xairepro.data.registry import DATASETS

validate(config, "../schemas/config.schema.yaml")

REPO = Path(str(workflow.current_basedir)).parents[1]  # this file is workflow/rules/common.smk
ENVS = ("tf", "chainer", "torch")


def env_python(env):
    """The interpreter for jobs of `env` - conda's activated `python` under --sdm conda, else
    the local venv built by `make envs` (.venvs/<env>/bin/python)."""
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        return "python"
    python = REPO / ".venvs" / env / "bin" / "python"
    if not python.exists():
        raise WorkflowError(f"environment '{env}' is missing: run `make envs` (expected {python})")
    return str(python)


# Rules take their env's interpreter as a param, py=PY["tf"], and run `{params.py} -m ...`; that
# keeps snakemake --lint clean and the interpreter part of each job's provenance.
PY = {env: env_python(env) for env in ENVS}


def dataset_dir(name):
    """The verified folder of a registry dataset, produced by rule download_<name>."""
    if name not in DATASETS:
        raise WorkflowError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return f"data/{name}"


# Each method's rule file registers, under its name in config['methods'], a function returning its
# final targets (METHOD_TARGETS) and one returning its paper-vs-ours CSV tables (METHOD_TABLES).
METHOD_TARGETS = {}
METHOD_TABLES = {}


def _enabled(registry):
    for method in config["methods"]:
        if method not in registry:
            raise WorkflowError(
                f"config 'methods' lists {method!r}, which has no rules; available: {', '.join(sorted(registry))}")
        yield registry[method]


def comparison_tables():
    return [path for tables in _enabled(METHOD_TABLES) for path in tables()]


def final_targets():
    targets = [path for method_targets in _enabled(METHOD_TARGETS) for path in method_targets()]
    if config["methods"]:
        targets += ["results/scorecard.csv", "results/config.yaml", *(f"results/software/{env}.txt" for env in ENVS)]
    return targets
