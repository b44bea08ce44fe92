# Everything in Python that the rule files share - config validation, each job's environment, dataset
# paths, global wildcard constraints and the list of final targets. Parsing needs only Snakemake and
# its own dependencies: the helpers come from src/ (standard library only), and the interpreter of a
# job is looked up when the job runs (workflow/scripts/xairepro-env), not here.
import re
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

# The checkout this file is in (workflow/rules/common.smk), also when another Snakefile includes ours.
REPO = Path(str(workflow.current_basedir)).parents[1]
sys.path.insert(0, str(REPO / "src"))

from xairepro.config.errors import ConfigError, validate_config
from xairepro.data.models import check_mirror, model_inputs
from xairepro.data.registry import DATASETS
from xairepro.envs import ENVS, export_to_jobs, identity

try:
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as error:
    raise WorkflowError(str(error)) from None

# Rules run `xairepro-env {params.env} -m xairepro...`. The param is the environment's identity
# (`torch@<pins hash>`), so a changed pin reruns that environment's jobs; the interpreter's path is
# never part of a job's provenance, so a moved checkout or a switch between the local venvs and
# --sdm conda reruns nothing (with rerun-triggers in profiles/default leaving out software-env, whose
# conda hash includes the checkout's location).
ENV = {name: identity(name, REPO / "envs") for name in ENVS}
export_to_jobs(
    REPO,
    uses_conda=DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method,
    data_mirror=config["data_mirror"],
)


# One place for the wildcards every method shares; a rule narrows only what is its own.
wildcard_constraints:
    dataset="|".join(re.escape(name) for name in DATASETS),
    model="cnn|rnn|xgboost|distmult|complex|lstm|bilstm|char_bilstm",
    run=r"\d+",
    seed=r"\d+",
    shard=r"\d+",
    shards=r"\d+",
    env="|".join(ENVS),


# What the DAG's jobs take from data/ (filled while the DAG is built): onstart checks the mirror for the part not
# staged yet, so a dataset or model missing from it stops the run before any job (Snakefile, onstart).
STAGED_INPUTS = {"datasets": set(), "models": set()}


def dataset_dir(name):
    """The verified folder of a registry dataset, produced by rule download_<name>."""
    if name not in DATASETS:
        raise WorkflowError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    STAGED_INPUTS["datasets"].add(name)
    return f"data/{name}"


def staged_models(*names):
    """data/models/<name> folders of the registry models among `names` (rule download_model_<name>)."""
    folders = model_inputs(*names)
    STAGED_INPUTS["models"].update(Path(folder).name for folder in folders)
    return folders


def check_mirror_before_any_job():
    """With data_mirror set: everything not yet in data/ that the jobs need is in the mirror (else one error
    naming each missing dataset or model and where it was expected)."""
    if not config["data_mirror"]:
        return
    check_mirror(
        [d for d in STAGED_INPUTS["datasets"] if not Path(f"data/{d}").exists()],
        [m for m in STAGED_INPUTS["models"] if not Path(f"data/models/{m}").exists()],
        Path(config["data_mirror"]).absolute(),
        config.get("rehearsal", False),
    )


# Each method's rule file registers, under its name in config['methods'], a function returning its
# final targets (METHOD_TARGETS) and one returning its paper-vs-ours CSV tables (METHOD_TABLES).
METHOD_TARGETS = {}
METHOD_TABLES = {}


def _enabled(registry):
    for method in config["methods"]:
        if method not in registry:
            raise WorkflowError(
                f"config 'methods' lists {method!r}, which has no rules; available: {', '.join(sorted(registry))}"
            )
        yield registry[method]


def comparison_tables():
    return [path for tables in _enabled(METHOD_TABLES) for path in tables()]


def final_targets():
    targets = [path for method_targets in _enabled(METHOD_TARGETS) for path in method_targets()]
    if config["methods"]:
        targets += ["results/scorecard.csv", "results/config.yaml", *(f"results/software/{env}.txt" for env in ENVS)]
    return targets
