"""Measured time and memory of every paper-scale rule, extrapolated to config/paper.yaml by a scaling law per
rule, next to what the rule requests (README "On a SLURM cluster"):

    python -m xairepro.scorecard.resources OUT.md \
        --measured runs/rehearsal config/paper.yaml config/rehearsal.yaml --measured .

A measured run is a folder holding results/benchmarks/ (Snakemake's benchmark files) and results/config.yaml
(the run's effective config), with the config files it ran with; with `rehearsal: true` its datasets are the
miniatures in <run>/data/ and are counted there, else they are the registry's real ones. Each run's jobs (rule,
wildcards, environment, benchmark file) and the paper's jobs (with their threads, runtime, mem_mb and, through
profiles/slurm, gpu) come from `snakemake -n --forceall` dry runs.

Per rule, LAWS says which work size W its time is proportional to and which arrays its memory grows with,
both read off the step's code. A job's time is its CPU time (benchmark column cpu_time: the runs were made on
a shared machine where wall time was mostly waiting), less the start-up of its kind (the smallest CPU time of
any measured job of the same method and environment: interpreter, imports, inputs). Over the measured jobs of
a rule that share its law's key (W covers what else differs), the rest is fitted as a + b·W where the jobs
span a factor of two in W and the work shows above the start-up; a single size only where the job's time is
DOMINANT times its start-up (then b = rest / W, an upper bound). Elsewhere the time is not extrapolated and
the table says why. Memory, always: the measured peak plus the bytes the law's arrays add at paper size.
Requests are compared for rules without a GPU; for the others the table gives the speed-up over one core a
GPU would need to fit the requested runtime (the GPU was not measured).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from xairepro.io import atomic_path
from xairepro.scorecard.timings import benchmark_rows

REPO = Path(__file__).resolve().parents[3]
SAFETY = 1.5           # a request must be this many times the extrapolation
MIB = 2 ** 20
FLOAT, INT64 = 4, 8    # bytes of float32 and int64
PAPERS = {"gradient_rollback": "Gradient Rollback", "rps_lje": "RPS-LJE", "empirical_explainers":
          "Empirical Explainers", "explaind": "ExPLAIND", "dknn": "DkNN", "mislabel": "Mislabel benchmark (ours)",
          "attribution_truth": "Attribution ground truth (ours)"}


# --- the plans: jobs of a dry run ------------------------------------------------------------------------------

@dataclass
class Job:
    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    threads: int = 1
    resources: dict[str, str] = field(default_factory=dict)
    benchmark: str | None = None
    env: str | None = None   # the xairepro-env environment of its shell command (torch, tf, chainer)


def parse_plan(text: str) -> list[Job]:
    """The jobs of `snakemake -n` output (rule blocks with their wildcards, threads, resources, benchmark)."""
    jobs, job = [], None
    for line in text.splitlines():
        if m := re.match(r"^(?:local)?rule (\S+):$", line):
            job = Job(m.group(1))
            jobs.append(job)
        elif job is not None and (m := re.match(r"^\s+(wildcards|threads|resources|benchmark): (.*)$", line)):
            key, value = m.groups()
            if key in ("wildcards", "resources"):
                setattr(job, key, dict(kv.split("=", 1) for kv in value.split(", ")))
            elif key == "threads":
                job.threads = int(value)
            else:
                job.benchmark = value
        elif job is not None and (m := re.match(r"^Shell command: xairepro-env (\w+)@", line)):
            job.env = m.group(1)
    return jobs


def dry_run(*args: str) -> list[Job]:
    """Every job of the DAG the arguments give (--forceall, in a scratch folder: nothing is read or written)."""
    snakemake = Path(sys.executable).with_name("snakemake")
    with tempfile.TemporaryDirectory(prefix="resources-plan-") as scratch:
        proc = subprocess.run([str(snakemake), "-s", str(REPO / "Snakefile"), "-n", "--forceall", "--cores", "256",
                               "--directory", scratch, *args], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake dry run {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return parse_plan(proc.stdout)


def paper_plan(configfile: Path) -> list[Job]:
    return dry_run("--configfile", str(configfile), "--profile", str(REPO / "profiles" / "slurm"))


def load_config(*files: Path) -> dict:
    """config/config.yaml with `files` layered on it, as Snakemake merges --configfile (dicts merge, lists replace)."""
    from snakemake.utils import update_config

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for path in files:
        update_config(config, yaml.safe_load(Path(path).read_text()))
    return config


# --- sizes of the datasets a step sees ---------------------------------------------------------------------

class Sizes:
    """Examples per split as the steps see them: counted with the steps' own loaders in a miniature run's data
    folder, else the registry's counts of the real datasets."""

    def __init__(self, miniatures: Path | None = None):
        self.miniatures = miniatures
        self._cache: dict = {}

    def _memo(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def stats(self, dataset: str) -> dict:
        """The registry's counts (the real data set, which every run uses for nations, German credit, digits)."""
        from xairepro.data.registry import get_dataset

        return get_dataset(dataset).stats

    def graph(self, dataset: str) -> dict:
        """Train/test triples, entities and relations of a Gradient Rollback graph."""
        if self.miniatures:
            from xairepro.gradient_rollback import data

            g = self._memo(("graph", dataset), lambda: data.load(dataset, self.miniatures / dataset))
            return {"train": len(g.train), "test": len(g.test), "entities": len(g.entities),
                    "relations": len(g.relations)}
        s = self.stats(dataset)
        if dataset == "movielens-100k":
            # GR reads the u1.base/u1.test split: 80% / 20% of the ratings; relations are the ratings 1-5.
            return {"train": s["ratings"] * 4 // 5, "test": s["ratings"] // 5, "entities": s["users"] + s["movies"],
                    "relations": 5}
        return {"train": s["train"], "test": s["test"], "entities": s["entities"], "relations": s["relations"]}

    def text(self, dataset: str, split: str) -> int:
        """Examples of an Empirical Explainers / DkNN split (validation carved from train where the files have
        none, as the steps do)."""
        if self.miniatures:
            return self._memo(("text", dataset, split), lambda: self._count_text(dataset, split))
        s = self.stats(dataset)
        if dataset in ("ag-news", "imdb"):  # validation: a held-out share of train (empirical_explainers.data)
            from xairepro.empirical_explainers.data import HELD_OUT

            held_out = int(s["train"] * HELD_OUT)
            return {"train": s["train"] - held_out, "validation": held_out, "test": s["test"]}[split]
        if dataset == "trec":  # dev: a share of the training file (xairepro.dknn.data)
            from xairepro.dknn.data import TREC_DEV_FRACTION

            dev = int(round(TREC_DEV_FRACTION * s["train"]))
            return {"train": s["train"] - dev, "dev": dev, "validation": dev, "test": s["test"]}[split]
        return s[{"validation": "dev"}.get(split, split)]

    def _count_text(self, dataset: str, split: str) -> int:
        folder = self.miniatures / dataset
        if dataset in ("sst5", "trec") or (dataset == "sst2" and split == "dev"):
            from xairepro.dknn.data import load_dataset

            return len(load_dataset(dataset, folder)[{"validation": "dev"}.get(split, split)][1])
        from xairepro.empirical_explainers.data import load_split

        return len(load_split(dataset, folder, {"dev": "validation"}.get(split, split), None, 0))

    def image_pair(self, split: str) -> int:
        """Images of a two-class CIFAR-10 task (RPS-LJE horse vs automobile, ExPLAIND cats vs dogs)."""
        if self.miniatures:
            from xairepro.rps_lje.data import load_cifar_horse_car

            x_train, _, x_test, _ = self._memo("cifar", lambda: load_cifar_horse_car(self.miniatures / "cifar-10"))
            return len(x_train if split == "train" else x_test)
        return 2 * self.stats("cifar-10")[split] // 10  # two of ten balanced classes

    def imdb_reviews(self, split: str) -> int:
        if self.miniatures:
            from xairepro.rps_lje.data import load_imdb

            texts = self._memo("imdb", lambda: load_imdb(self.miniatures / "imdb", 0, 0, 0))
            return len(texts[0] if split == "train" else texts[2])
        return self.stats("imdb")[split]


@dataclass
class Scale:
    """What a law reads: the run's config and its datasets' sizes."""
    config: dict
    sizes: Sizes


# --- model sizes -----------------------------------------------------------------------------------------------

# The paper's Hugging Face encoders (config.json of the pinned revisions, xairepro.data.models), which only a
# paper-scale run stages: the rehearsal runs tiny random models of the same families (config.json in the run's
# data/models/), the default config the packaged MiniLM (config.json in its package).
PUBLISHED_ENCODERS = {
    "roberta-base": {"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072,
                     "num_attention_heads": 12},
    "electra-small-discriminator": {"hidden_size": 256, "num_hidden_layers": 12, "intermediate_size": 1024,
                                    "num_attention_heads": 4},
    "bert-base-cased": {"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072,
                        "num_attention_heads": 12},
    "xlnet-base-cased": {"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072,
                         "num_attention_heads": 12},
}
# XLNet's config.json names the same sizes differently.
_XLNET_KEYS = {"d_model": "hidden_size", "n_layer": "num_hidden_layers", "d_inner": "intermediate_size",
               "n_head": "num_attention_heads"}


def encoder_config(scale: Scale, name: str) -> dict:
    import json

    from xairepro.data.models import find_model

    model = find_model(name)
    if scale.sizes.miniatures:
        config = json.loads((scale.sizes.miniatures / "models" / model.name / "config.json").read_text())
        return {_XLNET_KEYS.get(key, key): value for key, value in config.items()}
    if model is None:  # the packaged MiniLM of the default config
        from xairepro.empirical_explainers.data import model_path

        return json.loads((Path(model_path(name)) / "config.json").read_text())
    return PUBLISHED_ENCODERS[model.name]


def transformer_macs(cfg: dict, length: int) -> float:
    """Multiply-adds per token of one forward pass: per layer the four attention projections, the MLP, and
    attention over `length` tokens."""
    h, inner = cfg["hidden_size"], cfg["intermediate_size"]
    return cfg["num_hidden_layers"] * (4 * h * h + 2 * h * inner + 2 * length * h)


def lstm_macs(embed: int, hidden: int, layers: int, directions: int = 2) -> float:
    """Multiply-adds per token of a (bi)LSTM stack: four gates of hidden × (input + hidden) per direction."""
    inputs = [embed] + [directions * hidden] * (layers - 1)
    return sum(directions * 4 * hidden * (i + hidden) for i in inputs)


def forward_macs(module, x) -> int:
    """Multiply-adds of one forward pass of `module` on `x`, counted on its convolutions and linear layers."""
    import torch
    from torch import nn

    counted = []

    def count(layer, _, out):
        if isinstance(layer, nn.Conv2d):
            counted.append(out.numel() * layer.in_channels // layer.groups * math.prod(layer.kernel_size))
        elif isinstance(layer, nn.Linear):
            counted.append(out.numel() * layer.in_features)

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module.eval()(x)
    for hook in hooks:
        hook.remove()
    return sum(counted)


def rps_cnn(architecture: str):
    """The RPS-LJE CNN and one input of its data set (ResNet-20: CIFAR 3 × 32 × 32; the small CNN: digits 8 × 8)."""
    import torch

    from xairepro.rps_lje.models import build_network

    return build_network(architecture), torch.zeros(1, *((3, 32, 32) if architecture == "resnet20" else (1, 8, 8)))


# --- the laws --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Law:
    """time ∝ `work` (W, in `time`'s words); memory = measured peak + `grows` bytes at the paper's sizes."""
    key: tuple[str, ...]   # the wildcards whose measured jobs are pooled in one fit (W covers the rest)
    time: str
    work: Callable[[Scale, dict], float]
    memory: str = "size-independent: the measured peak"
    grows: Callable[[Scale, dict], float] = lambda scale, w: 0.0
    # other rules whose measured jobs do the same work, with their W (measurements only, never rows)
    pooled: dict[str, Callable[[Scale, dict], float]] = field(default_factory=dict)


def _gr(scale: Scale, dataset: str) -> tuple[dict, dict]:
    gr = scale.config["gradient_rollback"]
    return gr, {**gr["datasets"][dataset], **scale.sizes.graph(dataset)}


def _gr_training(s: dict) -> float:
    """Element operations of one training: per epoch and triple a step over (negatives + 2) rows of width dim,
    and, when the negatives are drawn (fewer than all other entities), a draw without replacement (numpy
    permutes the entities)."""
    drawn = s["negatives"] < s["entities"] - 1
    return s["epochs"] * s["train"] * ((s["negatives"] + 2) * s["dim"] + drawn * s["entities"])


def _gr_schedule_bytes(s: dict) -> float:
    """The step schedule's int64 arrays: negatives (epochs × triples × N), the rows (N + 2) and their padded copy."""
    n = min(s["negatives"], s["entities"] - 1)
    return INT64 * s["epochs"] * s["train"] * (n + 2 * (n + 2))


def _gr_explained(s: dict) -> int:
    """Explained test triples: n_explain of them, 0 meaning all."""
    return s["test"] if s["n_explain"] == 0 else min(s["n_explain"], s["test"])


def gr_eval_work(scale, w):
    gr, s = _gr(scale, w["dataset"])
    retrainings = _gr_explained(s) * 2 * len(gr["ks"])  # GR-k and NH-k per k
    return math.ceil(retrainings / s["shards"]) * _gr_training(s)


def gr_table1_work(scale, w):
    """One Table 1 run (gr_table1_run): training, explaining and every retraining in one process: per explained
    triple GR, NH and the random control at each k, plus one delete-nothing retraining."""
    gr, s = _gr(scale, w["dataset"])
    explained = {**s, "n_explain": gr["table1"]["n_explain"]}
    return (_gr_explained(explained) * (3 * len(gr["ks"]) + 1) + 1) * _gr_training(s)


def gr_train_bytes(scale, w):
    _, s = _gr(scale, w["dataset"])
    credited = s["negatives"] + 2 if s["credit"] == "touched" else 2
    return _gr_schedule_bytes(s) + 8 * s["epochs"] * s["train"] * credited * s["dim"]  # γ, float64


def gr_explain_work(scale, w):
    _, s = _gr(scale, w["dataset"])
    # the neighbourhood of a prediction: the triples sharing its head, its tail or its relation
    neighbourhood = s["train"] * (2 / s["entities"] + 1 / s["relations"])
    return _gr_explained(s) * neighbourhood * s["entities"] * s["dim"]


def _rps(scale: Scale, model: str) -> dict:
    return scale.config["rps_lje"][model]


def _rps_points(scale: Scale, w: dict, split: str) -> int:
    """Training (split "train") or test points of an RPS-LJE task as its loader makes them."""
    section = _rps(scale, w["model"])
    if w["dataset"] == "cifar-10":
        return scale.sizes.image_pair(split)
    if w["dataset"] == "digits":  # two of the ten digit classes (the real data set in every run), split
        pair = 2 * scale.sizes.stats("digits")["images"] // 10
        test = round(section["test_fraction"] * pair)
        return pair - test if split == "train" else test
    if w["model"] == "rnn":
        available = (scale.sizes.imdb_reviews(split) if w["dataset"] == "imdb"
                     else scale.sizes.text(w["dataset"], split))
        return min(section[f"{split}_size"] or available, available)
    test = round(section["test_fraction"] * scale.sizes.stats("german-credit")["rows"])
    return scale.sizes.stats("german-credit")["rows"] - test if split == "train" else test


def _rps_explained(scale: Scale, w: dict) -> int:
    test = _rps_points(scale, w, "test")
    return min(scale.config["rps_lje"]["explained_test_points"] or test, test)


def _rps_example_cost(scale: Scale, w: dict) -> float:
    """One training pass over one example: the CNN's multiply-adds (counted), the Bi-LSTM's max_len × its
    multiply-adds per token (50-d GloVe inputs), XGBoost's trees × depth."""
    section = _rps(scale, w["model"])
    if w["model"] == "cnn":
        return forward_macs(*rps_cnn(section.get("architecture", "small_cnn")))
    if w["model"] == "rnn":
        return section["max_len"] * lstm_macs(50, section["hidden"], section.get("layers", 1))
    return section["n_estimators"] * section["max_depth"]


def _rps_features(scale: Scale, w: dict) -> int:
    """Width of φ: the network's last layer input and its bias, or one feature per tree."""
    section = _rps(scale, w["model"])
    if w["model"] == "cnn":
        return rps_cnn(section.get("architecture", "small_cnn"))[0].head.in_features + 1
    if w["model"] == "rnn":
        return 2 * section["hidden"] + 1
    return section["n_estimators"]


def rps_train_work(scale, w):
    section = _rps(scale, w["model"])
    epochs = 1 if w["model"] == "xgboost" else section["epochs"]
    return epochs * _rps_points(scale, w, "train") * _rps_example_cost(scale, w)


def rps_inputs_bytes(scale, w):
    """The model's inputs, held twice (the step's arrays and train.npz): images float32, token ids int64."""
    section = _rps(scale, w["model"])
    image = (3 * 32 * 32 if w["dataset"] == "cifar-10" else 64) * FLOAT
    per_point = {"cnn": image, "rnn": INT64 * section.get("max_len", 0), "xgboost": 8 * 20}[w["model"]]
    return 2 * per_point * (_rps_points(scale, w, "train") + _rps_points(scale, w, "test"))


def rps_explain_work(scale, w):
    n, d, t = _rps_points(scale, w, "train"), _rps_features(scale, w), _rps_explained(scale, w)
    # fit: RPS-l2's gradient-descent epochs over n × d, or the d × d Hessian of LJE and IF; then n × t importances
    fit = scale.config["rps_lje"]["rps_l2_epochs"] if w["explainer"] == "rps_l2" else d
    return n * d * fit + n * t * d


def rps_explain_bytes(scale, w):
    return 2 * 8 * _rps_points(scale, w, "train") * _rps_explained(scale, w)  # importance, float64, tensor + array


def _debug_retrainings(scale: Scale, model: str, orders: int) -> int:
    """Distinct retrainings of one debugging job: per order the checkpoints up to max_checked (and 1), the
    first (nothing checked) and last (all fixed) shared by every order."""
    rps = scale.config["rps_lje"]
    checkpoints = round(rps[model]["retrain"]["max_checked"] / rps["checked_step"]) + 1
    checkpoints += rps[model]["retrain"]["max_checked"] < 1
    return orders * (checkpoints - 2) + 2


def _debug_work(scale: Scale, w: dict, orders: int) -> float:
    section = _rps(scale, w["model"])
    retrain = section["retrain"]
    epochs = 1 if w["model"] == "xgboost" else retrain.get("epochs") or section["epochs"]
    return (_debug_retrainings(scale, w["model"], orders) * retrain.get("repeats", 1) * epochs
            * _rps_points(scale, w, "train") * _rps_example_cost(scale, w))


def rps_debug_work(scale, w):
    from xairepro.rps_lje.workflow import EXPLAINER_NAMES

    return _debug_work(scale, w, len(EXPLAINER_NAMES) + 2)  # the explainers, the loss and the random order


def mislabel_debug_work(scale, w):
    return _debug_work(scale, w, len(scale.config["mislabel"]["scorers"]))


def mislabel_score_work(scale, w):
    n, d = _rps_points(scale, w, "train"), _rps_features(scale, w)
    if w["scorer"] == "dknn":
        return n * n * d  # exact neighbour search among the training points
    # ExPLAIND: every recorded step's batch against every training point (one sweep per block of points)
    return scale.config["mislabel"]["explaind"]["epochs"] * n * n * d


def mislabel_score_bytes(scale, w):
    """float64: DkNN's exact search, 512 queries' distances to every point (xairepro.dknn.explainer); ExPLAIND,
    one block of 4096 points' attributions to every point."""
    n = _rps_points(scale, w, "train")
    return 8 * n * min(n, 512 if w["scorer"] == "dknn" else 4096)


def _ee(scale: Scale, dataset: str) -> dict:
    from xairepro.empirical_explainers.pipeline import setups

    return setups(scale.config["empirical_explainers"])[dataset]


def _ee_size(scale: Scale, dataset: str, split: str, key: str) -> int:
    """A setup's size of `split` (null: the whole split)."""
    available = scale.sizes.text(dataset, split)
    return min(_ee(scale, dataset)[key] or available, available)


def _ee_pass(scale: Scale, dataset: str, model_key: str) -> float:
    """Multiply-adds of one forward pass over one instance cut at max_length (texts no longer than that)."""
    s = _ee(scale, dataset)
    name = s["model"] if s[model_key] == "downstream" else s[model_key]
    length = s["max_length"]
    return length * transformer_macs(encoder_config(scale, name), length)


def _ee_explainer_passes(budget: int, kind: str, length: int) -> float:
    """Forward-pass equivalents of one target explanation: LIG, budget steps forward and backward (3 passes);
    SVS, budget permutations of every token, one forward pass each."""
    return budget * 3 if kind == "lig" else budget * length


def ee_target_work(scale, w):
    s = _ee(scale, w["dataset"])
    kind, budget = w["explainer"].split("-")
    instances = math.ceil(_ee_size(scale, w["dataset"], w["split"], f"{w['split']}_size")
                          / scale.config["empirical_explainers"]["shards"])
    return instances * _ee_explainer_passes(int(budget), kind, s["max_length"]) * _ee_pass(scale, w["dataset"], "model")


def ee_target_bytes(scale, w):
    """LIG: its steps' interpolation points in one forward and backward pass, so every layer keeps what the
    backward needs: per token about 20 × hidden floats (q, k, v, context, two projections, two layer norms, the
    4 × hidden MLP before and after its activation) and heads × length attention scores. SVS: forward passes of
    32 perturbed inputs (perturbations_per_eval), one layer's MLP and scores alive at a time."""
    s = _ee(scale, w["dataset"])
    kind, budget = w["explainer"].split("-")
    cfg, length = encoder_config(scale, s["model"]), s["max_length"]
    scores = cfg["num_attention_heads"] * length * length
    if kind == "lig":
        return FLOAT * int(budget) * cfg["num_hidden_layers"] * (20 * length * cfg["hidden_size"] + scores)
    return FLOAT * 32 * (length * cfg["intermediate_size"] + scores)


def ee_train_downstream_work(scale, w):
    s = _ee(scale, w["dataset"])
    n = _ee_size(scale, w["dataset"], "train", "downstream_train_size")
    return s["downstream_epochs"] * n * 3 * _ee_pass(scale, w["dataset"], "model")


def ee_train_explainer_work(scale, w):
    s = _ee(scale, w["dataset"])
    n = _ee_size(scale, w["dataset"], "train", "train_size")
    # at most ee_epochs (early stopping ends it sooner): an upper bound
    return s["ee_epochs"] * n * 3 * _ee_pass(scale, w["dataset"], "explainer_model")


def ee_explain_work(scale, w):
    return _ee_size(scale, w["dataset"], "test", "test_size") * _ee_pass(scale, w["dataset"], "explainer_model")


def ee_evaluate_work(scale, w):
    ee, s = scale.config["empirical_explainers"], _ee(scale, w["dataset"])
    kind, _ = w["explainer"].split("-")
    test = _ee_size(scale, w["dataset"], "test", "test_size")
    instances = min(ee["convergence_instances"] or test, test)
    reruns = sum(_ee_explainer_passes(b, kind, s["max_length"]) for b in ee["convergence_budgets"])
    return instances * reruns * _ee_pass(scale, w["dataset"], "model")


def _explaind(scale: Scale, task: str) -> tuple[dict, dict]:
    from xairepro.explaind.pipeline import task as task_settings

    cfg = scale.config["explaind"]
    return cfg, task_settings(cfg, task)


def _explaind_sizes(scale: Scale, task: str) -> dict:
    """Steps S, examples per step B, train/test points, parameters P and multiply-adds M of one example's
    forward pass (counted) of a task's training run."""
    _, t = _explaind(scale, task)
    if t["dataset"] == "modulo":
        n_train, n_test = t["n_train"], t["p"] ** 2 - t["n_train"]
        steps, batch = t["steps"], t["batch_size"] or n_train
    else:
        n_train, n_test = scale.sizes.image_pair("train"), scale.sizes.image_pair("test")
        batch = t["batch_size"]
        steps = t["epochs"] * math.ceil(n_train / batch)
    return {"steps": steps, "batch": batch, "train": n_train, "test": n_test, **explaind_model(t)}


def explaind_model(settings: dict) -> dict:
    """P, M (one example's forward multiply-adds) and the activations one example keeps, of a task's model."""
    import torch

    from xairepro.explaind.task import new_model

    model = new_model(settings, 0, "float32")
    x = (torch.zeros(1, 3, dtype=torch.long) if settings["dataset"] == "modulo"
         else torch.zeros(1, 1 if settings["dataset"] == "digits" else 3, *((8, 8) if settings["dataset"] == "digits"
                                                                           else (32, 32))))
    kept = []
    hooks = [m.register_forward_hook(lambda m, i, o: kept.append(o.numel()))
             for m in model.module.modules() if not list(m.children())]
    macs = forward_macs(model.module, x)
    for hook in hooks:
        hook.remove()
    return {"params": model.n_params, "macs": macs, "activations": sum(kept)}


def explaind_train_work(scale, w):
    _, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    evaluations = s["steps"] / t["eval_every"] * (s["train"] + s["test"])
    return (3 * s["steps"] * s["batch"] + evaluations) * s["macs"]  # forward and backward: 3 passes


def explaind_train_bytes(scale, w):
    """One batch's activations, kept for the backward pass (float32)."""
    s = _explaind_sizes(scale, w["task"])
    return FLOAT * s["batch"] * s["activations"]


def explaind_epk_work(scale, w):
    """Per step: the path gradients (T per explained output), the batch's per-example gradients (once per sweep;
    the pruning score sweeps again per pass of n_explain outputs), the kernel dot products (outputs × batch × P);
    and the fidelity check's forward-mode passes (Σ T per test point)."""
    cfg, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    pruned = cfg["prune_validation"] * 2 if t.get("prune_fractions") else 0  # two classes (CIFAR2)
    sweeps = 1 + (math.ceil(cfg["prune_validation"] / max(1, cfg["n_explain"] // 2)) if pruned else 0)
    outputs = cfg["n_explain"] + pruned
    fidelity = sum(cfg["fidelity_steps"]) * min(cfg["fidelity_points"] or s["test"], s["test"])
    gradients = cfg["integration_steps"] * outputs + s["batch"] * sweeps
    return s["steps"] * (3 * gradients * s["macs"] + outputs * s["batch"] * s["params"] + 2 * fidelity * s["macs"])


def explaind_epk_bytes(scale, w):
    """O(n_test · P + (K + chunk) · P) (explainer.py): the explained points' per-parameter attributions, the
    history chunk's parameters and one vmap call's chunk of gradients."""
    cfg, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    return FLOAT * s["params"] * (cfg["n_explain"] + t["checkpoint_every"] + cfg["chunk"])


def explaind_prune_work(scale, w):
    cfg, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    held_out = s["test"] - cfg["prune_validation"]
    return len(cfg["prune_scores"]) * len(t["prune_fractions"]) * held_out * s["macs"]


def explaind_swap_work(scale, w):
    _, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    pipeline = t["pipeline"]
    checkpoints = s["steps"] // pipeline["swap_every"] + 1
    variants = 2 + len(pipeline.get("swap_variants", {}))  # the step model, the pipeline swap, the other swaps
    # the history replayed to every checkpoint, then each variant on the test split
    return (3 * s["steps"] * s["batch"] + checkpoints * variants * s["test"]) * s["macs"]


def explaind_retrain_work(scale, w):
    _, t = _explaind(scale, w["task"])
    s = _explaind_sizes(scale, w["task"])
    pipeline = t["pipeline"]
    retrainings = len(pipeline["retrain_seeds"]) * (1 + 2 * (s["steps"] // pipeline["retrain_every"]))
    # at most retrain_max_epochs full-batch epochs, each scored on train and test: an upper bound
    epoch = 3 * s["batch"] * math.ceil(s["train"] / s["batch"]) + s["train"] + s["test"]
    return retrainings * pipeline["retrain_max_epochs"] * epoch * s["macs"]


def _dknn(scale: Scale, w: dict) -> dict:
    """Per model and dataset: fit and calibration points, dev and test, the vectors' width, the layers indexed."""
    cfg = scale.config["dknn"]
    train = scale.sizes.text(w["dataset"], "train")
    fit = (min(train, cfg["max_train"] + cfg["n_calib"]) if cfg["max_train"] else train) - cfg["n_calib"]
    vectors = 300 if cfg["word_vectors"] == "glove-840b-300d" else 50  # GloVe 840B 300-d, 6B 50-d
    return {"fit": fit, "calib": cfg["n_calib"], "test": scale.sizes.text(w["dataset"], "test"),
            "dev": scale.sizes.text(w["dataset"], "dev"), "unit": cfg["unit"], "vectors": vectors,
            "layers": cfg["mlp_layers"] + 1}


def dknn_train_work(scale, w):
    d = _dknn(scale, w)
    # per example and epoch (sentence length not modelled: miniature sentences have 5-12 words)
    return scale.config["dknn"]["epochs"] * (d["fit"] + d["dev"]) * d["unit"] * (d["unit"] + d["vectors"])


def _dknn_search(d: dict, queries: int) -> float:
    # k-d trees in 300 dimensions search close to every point: queries × indexed points × layer width
    return queries * d["fit"] * d["unit"] * d["layers"]


def dknn_index_work(scale, w):
    d = _dknn(scale, w)
    points = d["fit"] + d["calib"] + d["dev"] + d["test"]
    return points * d["unit"] * (d["unit"] + d["vectors"]) + d["fit"] * math.log2(max(d["fit"], 2)) * d["unit"]


def dknn_index_bytes(scale, w):
    """The fit points' activations (float32) and the k-d trees' float64 copy of them, per indexed layer."""
    d = _dknn(scale, w)
    return (FLOAT + 8) * d["fit"] * d["unit"] * d["layers"]


def dknn_calibrate_work(scale, w):
    return _dknn_search(_dknn(scale, w), _dknn(scale, w)["calib"])


def dknn_eval_work(scale, w):
    d = _dknn(scale, w)
    return _dknn_search(d, d["dev"] + d["test"])


def dknn_interpret_work(scale, w):
    # n_interpret sentences, one search per left-out word (length not modelled)
    return _dknn_search(_dknn(scale, w), scale.config["dknn"]["n_interpret"])


def truth_retrain_work(scale, w):
    truth = scale.config["attribution_truth"]
    retrainings = truth["loo_seeds"] * (1 + truth["loo_points"]) + truth["lds_subsets"]
    # the task's data set is the same at every scale: per retraining its epochs (one fit for the logistic task)
    epochs = truth.get("tasks", {}).get(w["task"], {}).get("epochs", 1)
    return math.ceil(retrainings / int(w["shards"])) * epochs


def truth_score_work(scale, w):
    truth = scale.config["attribution_truth"]
    methods = truth["methods"]
    # per explained test point; a method's own size setting multiplies it (fit costs show as the intercept)
    factor = {"rps_l2": methods["rps_l2_epochs"], "dattri_trak": methods["trak_dim"],
              "explaind": methods["explaind"]["epochs"]}.get(w["method"], 1)
    return truth["test_points"] * factor


GR_TIME = ("retrainings per shard × epochs × triples × ((negatives + 2) × dim + entities when negatives are "
           "drawn); pooled with gr_table1_run (all retrainings in one job)")
LAWS: dict[str, Law] = {
    # Gradient Rollback: one law across datasets (W holds the graph's sizes)
    "gr_train": Law((), "epochs × triples × ((negatives + 2) × dim + entities when drawn)",
                    lambda s, w: _gr_training(_gr(s, w["dataset"])[1]),
                    "+ schedule (3 int64 arrays of epochs × triples × ~negatives) + γ (float64)", gr_train_bytes),
    "gr_explain": Law((), "explained × neighbourhood (triples sharing h, t or r) × entities × dim", gr_explain_work),
    "gr_eval": Law((), GR_TIME, gr_eval_work, "+ one retraining's schedule (3 int64 arrays of epochs × triples × "
                   "~negatives)", lambda s, w: _gr_schedule_bytes(_gr(s, w["dataset"])[1]),
                   pooled={"gr_table1_run": gr_table1_work}),  # Table 1 runs: Nations' 1206 retrainings each
    # RPS-LJE
    "rps_train": Law(("model",), "epochs × train points × per-point cost (Bi-LSTM: max_len × MACs/token; "
                     "XGBoost: trees × depth)", rps_train_work, "+ inputs (images float32, token ids int64)",
                     rps_inputs_bytes),
    "rps_explain": Law(("model", "explainer"), "n × d × (RPS-l2 epochs, else d) + n × explained test points × d",
                       rps_explain_work, "+ importance matrix n × explained (float64, twice)", rps_explain_bytes),
    "rps_debug": Law(("model",), "distinct retrainings (5 orders × checkpoints) × repeats × epochs × "
                     "train points × per-point cost", rps_debug_work, "+ inputs", rps_inputs_bytes),
    # Mislabel benchmark (the RPS-LJE tasks)
    "mislabel_score": Law(("model", "scorer"), "DkNN: n² × d; ExPLAIND: epochs × n² × d",
                          mislabel_score_work, "+ 512 × n distances (DkNN) or 4096 × n attributions (float64)",
                          mislabel_score_bytes),
    "mislabel_debug": Law(("model",), "distinct retrainings (2 orders × checkpoints) × repeats × epochs × "
                          "train points × per-point cost", mislabel_debug_work, "+ inputs", rps_inputs_bytes),
    # Empirical Explainers: MACs from the encoder's config; every text at max_length, an upper bound
    "ee_train_downstream": Law((), "epochs × train texts × 3 passes × max_length (an upper bound) × MACs/token",
                               ee_train_downstream_work),
    "ee_target_explain": Law(("explainer",), "instances per shard × (LIG: 3 × steps; SVS: samples × "
                             "max_length) passes × max_length (an upper bound) × MACs/token", ee_target_work,
                             "+ activations of one explanation's batch (LIG: steps points, backward kept)",
                             ee_target_bytes),
    "ee_train_explainer": Law((), "ee_epochs (early stopping: an upper bound) × train texts × 3 passes "
                              "× max_length × MACs/token", ee_train_explainer_work),
    "ee_explain": Law((), "test texts × max_length × MACs/token", ee_explain_work),
    "ee_evaluate": Law(("explainer",), "convergence instances × Σ budgets' passes × max_length × "
                       "MACs/token", ee_evaluate_work),
    # ExPLAIND: P (parameters) and M (multiply-adds of one example's forward pass) counted on the task's model
    "explaind_train": Law(("task",), "(3 × steps × batch + evaluations × points) × M", explaind_train_work,
                          "+ one batch's activations (float32, forward and backward)", explaind_train_bytes),
    "explaind_epk": Law(("task",), "steps × (3M × (T × outputs + batch × sweeps) + outputs × batch × P + 2M × Σ "
                        "fidelity T × fidelity points)", explaind_epk_work,
                        "+ P × (explained + checkpoint chunk + vmap chunk) "
                        "float32", explaind_epk_bytes),
    "explaind_prune": Law(("task",), "scores × fractions × held-out points × M", explaind_prune_work),
    "explaind_swap": Law(("task",), "(3 × steps × batch + checkpoints × variants × test points) × M",
                         explaind_swap_work),
    "explaind_retrain_pipeline": Law(("task",), "seeds × (1 + 2 × steps / retrain_every) × max epochs (an upper "
                                     "bound) × (3 × train + train + test points) × M", explaind_retrain_work),
    # DkNN: per example (sentence length not modelled); the searches do not depend on the network that made the
    # activations, only on the unit width and layers, so their fits pool every model
    "dknn_train": Law(("model",), "epochs × (fit + dev) × unit × (unit + vector width)", dknn_train_work),
    "dknn_index": Law(("model",), "points × unit × (unit + width) + fit × log fit × unit", dknn_index_work,
                      "+ fit points' activations (float32) and k-d trees (float64)", dknn_index_bytes),
    "dknn_calibrate": Law((), "calibration queries × fit points × unit × layers",
                          dknn_calibrate_work, "+ the index", dknn_index_bytes),
    "dknn_eval": Law((), "(dev + test) queries × fit points × unit × layers", dknn_eval_work,
                     "+ the index", dknn_index_bytes),
    "dknn_interpret": Law((), "interpreted sentences × fit points × unit × layers",
                          dknn_interpret_work, "+ the index", dknn_index_bytes),
    # Attribution ground truth: the same small data sets at every scale
    "truth_retrain": Law(("task",), "retrainings per shard × epochs", truth_retrain_work),
    "truth_score": Law(("task", "method"), "test points × the method's size setting (RPS-l2 epochs, TRAK dim, "
                       "ExPLAIND epochs)", truth_score_work),
}
# Rules of the paper DAG with a benchmark but no law, and why (none at present).
NOT_EXTRAPOLATED: dict[str, str] = {}
NO_BENCHMARK = "no benchmark: a local rule (downloads, tables, plots, reports) that runs on the submitting host"


# --- measurements and the fit --------------------------------------------------------------------------------

# A single measured size is extrapolated only when the job's CPU time is at least this many times the start-up
# of its kind: fixed costs of the order of the start-up (step imports, loading a model) then add at most a tenth
# to what is scaled. Below that, the miniature's work is too small to measure a cost per unit of W.
DOMINANT = 10
# Wildcards that only number a job's replicates: rows of the table leave them out.
REPLICATES = ("run", "seed", "ee_seed", "shard", "shards")


@dataclass
class Point:
    run: str
    job: Job
    work: float
    cpu_s: float
    peak_mb: float
    grows: float
    legacy: bool   # read from the benchmark path the rule had before it gained a seed wildcard


def legacy_benchmark(path: str) -> str:
    """The benchmark path without its seed (…/seed0/epk.tsv → …/epk.tsv, train_explainer_seed0 → train_explainer);
    where a rule gained a seed wildcard after the measured run, its seed-0 job is the job measured then."""
    return re.sub(r"[/_]seed0(?=[/.])", "", path)


def measure(run_dir: Path, jobs: list[Job]) -> list[tuple[Job, dict, bool]]:
    """The jobs of a run that left a benchmark file, with its (last) row and whether it was at the legacy path."""
    found = []
    for job in jobs:
        if not job.benchmark:
            continue
        path, legacy = run_dir / job.benchmark, False
        if not path.exists() and "0" in (job.wildcards.get("seed"), job.wildcards.get("ee_seed")):
            path, legacy = run_dir / legacy_benchmark(job.benchmark), True
        rows = benchmark_rows(path) if path.exists() else []
        if rows:
            found.append((job, rows[-1], legacy))
    return found


def method_of(job: Job) -> str:
    """The method folder of the job's benchmark path (results/benchmarks/<method>/...)."""
    return job.benchmark.split("/")[2] if job.benchmark else ""


def startup(measured: list[tuple[Job, dict]]) -> dict[tuple[str, str], float]:
    """Per method and environment the smallest CPU time of any measured job: interpreter, imports, reading
    inputs; what every job of that kind spends whatever its size."""
    smallest: dict[tuple[str, str], float] = {}
    for job, row in measured:
        kind = (method_of(job), job.env)
        smallest[kind] = min(smallest.get(kind, math.inf), row["cpu_s"])
    return smallest


@dataclass
class Fit:
    intercept: float    # CPU s per job beyond the start-up
    slope: float        # CPU s per unit of W
    largest: float      # the largest W measured
    how: str


def fit(points: list[tuple[float, float]], start: float) -> Fit | str:
    """rest = a + b·W over (W, CPU s − start-up) points, or why there is none.

    Several sizes (the largest W at least twice the smallest): least squares (a < 0: through the origin), when
    the work shows: at the largest W the rest is at least the start-up and twice the rest at the smallest W.
    One size: b = rest / W, everything beyond the start-up scaled (an upper bound), when the job's CPU time is
    at least DOMINANT times the start-up."""
    works = [w for w, _ in points]
    big, small = max(works), min(works)
    rest_big = sum(r for w, r in points if w == big) / works.count(big)
    rest_small = sum(r for w, r in points if w == small) / works.count(small)
    if big >= 2 * small:
        if rest_big < max(start, 2 * rest_small):
            return (f"time does not grow with W: {rest_small:.1f} s beyond the start-up ({start:.1f} s) at the "
                    f"smallest W, {rest_big:.1f} s at {big / small:.0f}× that W")
        n = len(points)
        mean_w, mean_r = sum(works) / n, sum(r for _, r in points) / n
        b = sum((w - mean_w) * (r - mean_r) for w, r in points) / sum((w - mean_w) ** 2 for w in works)
        a = mean_r - b * mean_w
        if a < 0:
            return Fit(0.0, sum(w * r for w, r in points) / sum(w * w for w in works), big, f"b·W, {n} jobs")
        return Fit(a, b, big, f"a + b·W, {n} jobs")
    if rest_big + start < DOMINANT * start:
        return (f"one size, {rest_big + start:.1f} s CPU of which the start-up of its kind is {start:.1f} s: too "
                "little work to measure a cost per unit")
    return Fit(0.0, rest_big / big, big, "one size, all beyond start-up scaled: an upper bound")


# --- the table -------------------------------------------------------------------------------------------------

@dataclass
class Row:
    rule: str
    key: str
    method: str
    jobs: int
    threads: int
    gpu: bool
    runtime_min: float
    mem_mb: float
    measured: str = ""
    how: str = ""
    cpu_s: float | None = None       # extrapolated, the row's largest job
    total_cpu_s: float = 0.0         # extrapolated, all its jobs
    beyond: float = 0.0              # the paper's W over the largest measured W
    peak_mb: float | None = None
    reason: str = ""                 # why time is not extrapolated

    @property
    def flags(self) -> list[str]:
        """Requests below SAFETY × the extrapolation, for rules without a GPU: a GPU job's time was not measured,
        and its working set sits in GPU memory (its host memory, CUDA's included, was not measured either)."""
        if self.gpu:
            return []
        out = []
        if self.cpu_s is not None and self.runtime_min * 60 < SAFETY * self.cpu_s / self.threads:
            out.append("runtime")
        if self.peak_mb is not None and self.mem_mb < SAFETY * self.peak_mb:
            out.append("mem_mb")
        return out

    def needs(self) -> tuple[int | None, int | None]:
        """The runtime (min) and mem_mb the safety factor asks for, rounded up (10 min, 1000 MB)."""
        runtime = None if self.cpu_s is None else math.ceil(SAFETY * self.cpu_s / self.threads / 600) * 10
        mem = None if self.peak_mb is None else math.ceil(SAFETY * self.peak_mb / 1000) * 1000
        return runtime, mem


def fit_key(law: Law, wildcards: dict) -> tuple:
    """The law's key, an explainer without its budget (lig-25 in the paper is lig-2 in the rehearsal)."""
    return tuple(re.sub(r"-\d+$", "", wildcards.get(k, "")) for k in law.key)


def row_key(wildcards: dict) -> str:
    return "/".join(v for k, v in wildcards.items() if k not in REPLICATES)


def describe(points: list[Point]) -> str:
    """Per run: jobs, their CPU seconds (range) and largest peak."""
    parts = []
    for run in sorted({p.run for p in points}):
        mine = [p for p in points if p.run == run]
        cpu = sorted(p.cpu_s for p in mine)
        span = f"{cpu[0]:.1f}" if f"{cpu[0]:.1f}" == f"{cpu[-1]:.1f}" else f"{cpu[0]:.1f}–{cpu[-1]:.1f}"
        parts.append(f"{run}: {len(mine)} × {span} s, {max(p.peak_mb for p in mine):.0f} MB")
    return "; ".join(parts)


def law_points(rule: str, law: Law, wildcards: dict, measured) -> list[Point]:
    """The measured jobs of `rule` (and of the rules its law pools) with the key of `wildcards`."""
    work = {rule: law.work, **law.pooled}
    return [Point(name, job, work[job.rule](scale, job.wildcards), bench["cpu_s"], bench["max_rss_mb"],
                  law.grows(scale, job.wildcards) if job.rule == rule else 0.0, legacy)
            for name, scale, (job, bench, legacy) in measured
            if job.rule in work and fit_key(law, job.wildcards) == fit_key(law, wildcards)]


def table(paper: list[Job], paper_scale: Scale, runs: list[tuple[str, Path, list[Job], Scale]]) -> list[Row]:
    measured = [(name, scale, entry) for name, folder, jobs, scale in runs for entry in measure(folder, jobs)]
    start = startup([(job, row) for _, _, (job, row, _) in measured])
    groups: dict[tuple[str, str], list[Job]] = defaultdict(list)
    for job in paper:
        groups[(job.rule, row_key(job.wildcards))].append(job)
    rows = []
    for (rule, key), jobs in sorted(groups.items()):
        first, law = jobs[0], LAWS.get(rule)
        row = Row(rule, key, method_of(first), len(jobs), first.threads, "gpu" in first.resources,
                  max(float(j.resources.get("runtime", 0)) for j in jobs),
                  max(float(j.resources.get("mem_mb", 0)) for j in jobs))
        rows.append(row)
        if not first.benchmark:
            row.reason = NO_BENCHMARK
            continue
        if law is None:
            row.reason = NOT_EXTRAPOLATED.get(rule, "no scaling law in xairepro.scorecard.resources.LAWS")
            continue
        points = law_points(rule, law, first.wildcards, measured)
        if not points:
            row.reason = "no measured job of this rule and key (rerun `make rehearsal`)"
            continue
        row.measured = describe(points)
        own = [p for p in points if p.job.rule == rule] or points
        heaviest = max(own, key=lambda p: p.peak_mb)
        row.peak_mb = heaviest.peak_mb + max(0.0, max(law.grows(paper_scale, j.wildcards) for j in jobs)
                                             - heaviest.grows) / MIB
        kind = (row.method, first.env)
        result = fit([(p.work, p.cpu_s - start[kind]) for p in points], start[kind])
        if isinstance(result, str):
            row.reason = result
            continue
        works = [law.work(paper_scale, j.wildcards) for j in jobs]
        per_job = [start[kind] + result.intercept + result.slope * w for w in works]
        row.cpu_s, row.total_cpu_s, row.beyond = max(per_job), sum(per_job), max(works) / result.largest
        row.how = result.how + (", benchmark from before the seed wildcard" if any(p.legacy for p in points) else "")
    return rows


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 360000 else f"{seconds / 3600:,.0f} h"


def times(factor: float) -> str:
    return f"×{factor:.2g}" if factor < 10 else f"×{factor:,.0f}"


def flag_text(row: Row) -> str:
    runtime, mem = row.needs()
    out = []
    if "runtime" in row.flags:
        out.append(f"runtime: needs {duration(runtime * 60)}")
    if "mem_mb" in row.flags:
        out.append(f"mem_mb: needs {mem}")
    if row.gpu and row.cpu_s is not None and row.cpu_s > row.runtime_min * 60:
        out.append(f"fits its runtime only on a GPU ≥ {row.cpu_s / (row.runtime_min * 60):.0f}× one core")
    if row.gpu and row.peak_mb is not None and row.mem_mb < SAFETY * row.peak_mb:
        out.append("working set above the host request: GPU memory on a GPU")
    return "; ".join(out)


def merged(rows: list[Row]) -> list[Row]:
    """Rows of one rule that read the same in every column but the wildcards, as one row (keys joined)."""
    out: dict[tuple, Row] = {}
    for r in rows:
        same = (r.rule, r.measured, r.reason, r.how, r.cpu_s and round(r.cpu_s), r.peak_mb and round(r.peak_mb),
                r.runtime_min, r.mem_mb, r.gpu)
        if same in out:
            kept = out[same]
            kept.key, kept.jobs = f"{kept.key}, {r.key}", kept.jobs + r.jobs
            kept.total_cpu_s += r.total_cpu_s
        else:
            out[same] = Row(**{k: getattr(r, k) for k in r.__dataclass_fields__})
    return list(out.values())


def rule_summary(rows: list[Row]) -> str:
    """One line per rule: its jobs, the law, the measured range, its largest extrapolations, its requests."""
    lines = ["| rule | jobs | time ∝ W | measured (CPU s, peak) | time per job, largest | memory, largest | "
             "requested | flag |", "|---|---|---|---|---|---|---|---|"]
    present = dict.fromkeys(r.rule for r in rows)
    for rule in [rule for rule in LAWS if rule in present] + [rule for rule in present if rule not in LAWS]:
        mine = [r for r in rows if r.rule == rule]
        timed = [r for r in mine if r.cpu_s is not None]
        cpu = [r.measured for r in mine]
        jobs = sum(r.jobs for r in mine)
        time = "not extrapolated" if not timed else (
            f"{duration(max(r.cpu_s for r in timed))}" + ("" if len(timed) == len(mine) else
                                                          f" ({sum(r.jobs for r in timed)} of {jobs} jobs)"))
        peaks = [r.peak_mb for r in mine if r.peak_mb is not None]
        requested = (f"{duration(max(r.runtime_min for r in mine) * 60)}, {max(r.mem_mb for r in mine):.0f} MB"
                     + (", GPU" if mine[0].gpu else ""))
        flags = sorted({f for r in mine for f in r.flags})
        law = LAWS[rule].time if rule in LAWS else f"no law: {mine[0].reason}"
        lines.append(f"| {rule} | {jobs} | {law} | {measured_range(mine)} | {time} | "
                     f"{f'{max(peaks):.0f} MB' if peaks else ''} | {requested} | {', '.join(flags)} |")
    return "\n".join(lines)


def measured_range(rows: list[Row]) -> str:
    return "; ".join(dict.fromkeys(r.measured for r in rows)) if len({r.measured for r in rows}) == 1 else \
        f"{len({r.measured for r in rows})} groups (details below)"


def markdown(rows: list[Row], runs: list[str]) -> str:
    shown = [r for r in rows if r.reason != NO_BENCHMARK]
    done = [r for r in shown if r.cpu_s is not None]
    out = [f"Measured on CPU in {' and '.join(runs)} (Snakemake benchmark files), extrapolated to `config/paper.yaml`: "
           f"time for {sum(r.jobs for r in done)} of {sum(r.jobs for r in shown)} cluster jobs, memory for "
           f"{sum(r.jobs for r in shown if r.peak_mb is not None)}. Time is one job's CPU time on one core; memory "
           "its peak resident memory (for rules that book a GPU: the working set, in GPU memory there). A request of "
           f"a rule without a GPU below {SAFETY:g}× its extrapolation is flagged.", "",
           rule_summary(shown), "",
           "Per paper: CPU-hours of the jobs whose time is extrapolated (one core at the measured speed; for rules "
           "that book a GPU, the time without one), and the GPU-hours the GPU rules book (jobs × requested runtime: "
           "the most they can use; their GPU time was not measured).", "",
           "| paper | jobs | time extrapolated | CPU-hours | of which in GPU rules | GPU-hours booked |",
           "|---|---|---|---|---|---|"]
    for method, name in PAPERS.items():
        mine = [r for r in shown if r.method == method]
        if mine:
            cpu_h = sum(r.total_cpu_s for r in mine) / 3600
            gpu_h = sum(r.total_cpu_s for r in mine if r.gpu) / 3600
            out.append(f"| {name} | {sum(r.jobs for r in mine)} | {sum(r.jobs for r in mine if r.cpu_s is not None)} | "
                       f"{cpu_h:.1f} | {gpu_h:.1f} | {sum(r.jobs * r.runtime_min for r in mine if r.gpu) / 60:.0f} |")
    out += ["", "<details><summary>Per job group: measurements, fit, extrapolation, requests</summary>", "",
            "\"×N\": how far the paper's W lies beyond the largest measured job. Fit: start-up + a + b·W over the "
            "measured jobs of the law's key, the start-up being the smallest CPU time of any job of the same method "
            "and environment; used when the largest job's time beyond the start-up is at least the start-up and twice "
            f"the smallest job's. A single size is extrapolated only when its CPU time is {DOMINANT}× the start-up "
            "or more (then as an upper bound).", "",
            "| rule | wildcards | jobs | measured (jobs × CPU s, peak) | time per job | memory | requested | flag |",
            "|---|---|---|---|---|---|---|---|"]
    for r in sorted(merged(shown), key=lambda r: list(LAWS).index(r.rule) if r.rule in LAWS else len(LAWS)):
        requested = f"{duration(r.runtime_min * 60)}, {r.mem_mb:.0f} MB" + (", GPU" if r.gpu else "")
        time = (f"not extrapolated: {r.reason}" if r.cpu_s is None
                else f"{duration(r.cpu_s)} ({r.how}; {times(r.beyond)})")
        memory = "" if r.peak_mb is None else f"{r.peak_mb:.0f} MB"
        out.append(f"| {r.rule} | {r.key} | {r.jobs} | {r.measured} | {time} | {memory} | {requested} | "
                   f"{flag_text(r)} |")
    out += ["", "Memory laws (the measured peak plus the bytes of the arrays that grow) and what each fit pools:", "",
            "| rule | pooled over | memory |", "|---|---|---|"]
    out += [f"| {rule} | {', '.join(law.key) or 'all its jobs'} | {law.memory} |" for rule, law in LAWS.items()]
    local = sorted({r.rule for r in rows if r.reason == NO_BENCHMARK} - {"all"})
    out += ["", f"Local rules (no benchmark, not booked on the cluster): {', '.join(local)}.", "", "</details>"]
    return "\n".join(out) + "\n"


def measured_run(folder: Path, configfiles: list[Path]) -> tuple[str, Path, list[Job], Scale]:
    """A measured run: its jobs (planned from the config files that define it, e.g. config/paper.yaml and
    config/rehearsal.yaml, none for the default config) and its scale, read from the effective config the run
    wrote (results/config.yaml: the sizes that ran), else from the same config files."""
    effective = folder / "results" / "config.yaml"
    config = yaml.safe_load(effective.read_text()) if effective.exists() else load_config(*configfiles)
    # the default target and Table 1 of Gradient Rollback (its runs measure GR's retraining at full Nations size)
    jobs = dry_run("all", "gr_table1", *(["--configfile", *map(str, configfiles)] if configfiles else []))
    scale = Scale(config, Sizes(folder / "data" if config.get("rehearsal") else None))
    name = "the rehearsal" if config.get("rehearsal") else (
        "`make run`" if folder.resolve() == REPO else os.path.relpath(folder.resolve(), REPO))
    return name, folder, jobs, scale


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--paper", type=Path, default=REPO / "config" / "paper.yaml")
    parser.add_argument("--measured", type=Path, nargs="+", action="append", required=True,
                        metavar=("FOLDER", "CONFIGFILE"),
                        help="a run's folder (results/benchmarks, results/config.yaml) and the config files it ran "
                             "with on top of config/config.yaml; repeatable")
    args = parser.parse_args(argv)
    runs = [measured_run(folder, configfiles) for folder, *configfiles in args.measured]
    rows = table(paper_plan(args.paper), Scale(load_config(args.paper), Sizes()), runs)
    with atomic_path(args.out) as tmp:
        tmp.write_text(markdown(rows, [name for name, *_ in runs]))


if __name__ == "__main__":
    main()
