"""Registry and staging of the Hugging Face models the paper configuration loads (Empirical Explainers).

    python -m xairepro.data.models NAME OUT_DIR [--mirror DIR] [--rehearsal]

A `Model` entry pins a hub repository at one commit (`revision`), lists which of its files the pipeline
needs (`allow_patterns`) and, where known, the sha256 of each (`files`). The Snakemake rule
`download_model_<name>` (a local rule: it may need the internet, compute jobs never do) stages the
snapshot into data/models/<name>/ through the same machinery as the datasets (xairepro.data.download):
hash-checked, written atomically, MANIFEST.json listing every file's sha256, the repository and revision.

Where the files come from:
- with a mirror (config key data_mirror / $XAIREPRO_DATA_MIRROR): <mirror>/models/<name>/, copied; a
  model missing there is an error that names it and the expected folder (never a network fall-back).
  The copy is checked against the registry's `files`, or, where the registry has none yet, against the
  MANIFEST.json the mirror's copy carries (written by this module when the mirror was made), whose
  repository and revision must be the pinned ones.
- without a mirror: huggingface_hub.snapshot_download(repo_id, revision=<pinned>), then every file is
  checked against the registry's sha256, or, where the registry has none, against the git blob id the hub
  lists for that file at the pinned revision (computed here from the bytes), so the folder is exactly
  that commit's files.
- `--rehearsal`: the mirror's REHEARSAL.json (see xairepro.data.download.rehearsal_overrides) replaces the
  entry's revision and hashes by those of the miniature model the rehearsal generator saved.

Compute jobs load only these folders (xairepro.empirical_explainers.data.model_path).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xairepro.data.download import (ChecksumError, MissingDataError, check_hash, file_hash,
                                    rehearsal_overrides, write_manifest)
from xairepro.io import atomic_dir

log = logging.getLogger("xairepro.data.models")

MODELS_DIR = "data/models"  # relative to the working directory, like data/<dataset>
MIRROR_FOLDER = "models"    # <mirror>/models/<name>/
_WEIGHTS_AND_TOKENIZER = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                          "vocab.json", "vocab.txt", "merges.txt", "spiece.model", "model.safetensors")


@dataclass(frozen=True)
class Model:
    """A hub model pinned at one commit. `name` is the folder (data/models/<name>) and the rule's suffix;
    `aliases` are the names a config may use for it (the hub id). `files`: relative path -> sha256 of
    every file the snapshot must hold (empty: checked against the hub's blob ids at `revision`)."""

    name: str
    repo_id: str
    revision: str | None
    family: str
    licence: str
    aliases: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = _WEIGHTS_AND_TOKENIZER
    files: dict[str, str] = field(default_factory=dict)


_ENTRIES = (
    # FacebookAI/roberta-base main as of 2024 (the revision many pinned projects record).
    Model("roberta-base", "FacebookAI/roberta-base", "e2da8e2f811d1448a5b465c236feacd80ffbac7b", "roberta", "MIT",
          aliases=("roberta-base", "FacebookAI/roberta-base")),
    Model("bert-base-cased", "google-bert/bert-base-cased", "cd5ef92a9fb2f889e972770a36d4ed042daf221e", "bert",
          "Apache-2.0", aliases=("bert-base-cased", "google-bert/bert-base-cased")),
    # The revision other projects pin for this repository, found offline in public code: scripts setting
    # MODEL_ID="google/electra-small-discriminator", MODEL_REVISION="fa8239aa...", and a model-licence audit citing
    # huggingface.co/google/electra-small-discriminator/blob/fa8239aadc095e9164941d05878b98afe9b953c3/README.md.
    # The staged files are checked against the hub's blob ids at this commit.
    Model("electra-small-discriminator", "google/electra-small-discriminator",
          "fa8239aadc095e9164941d05878b98afe9b953c3", "electra", "Apache-2.0",
          aliases=("google/electra-small-discriminator", "electra-small-discriminator"),
          allow_patterns=_WEIGHTS_AND_TOKENIZER + ("pytorch_model.bin",)),
    # The revision found offline in public code: a script calling hf_hub_download("xlnet/xlnet-base-cased", ...,
    # revision="ceaa69c7...") and fetching .../resolve/<that revision>/pytorch_model.bin, and two training logs
    # loading .../models--xlnet-base-cased/snapshots/ceaa69c7.../{config.json,spiece.model,tokenizer.json,
    # pytorch_model.bin}. That commit has no model.safetensors (transformers looked for a safetensors PR), so
    # the weights come from pytorch_model.bin.
    Model("xlnet-base-cased", "xlnet/xlnet-base-cased", "ceaa69c7bc5e512b5007106a7ccbb7daf24b2c79", "xlnet", "MIT",
          aliases=("xlnet-base-cased", "xlnet/xlnet-base-cased"),
          allow_patterns=_WEIGHTS_AND_TOKENIZER + ("pytorch_model.bin",)),
)

MODELS: dict[str, Model] = {m.name: m for m in _ENTRIES}
_BY_ALIAS = {alias: m for m in _ENTRIES for alias in (m.name, *m.aliases)}


def find_model(name: str) -> Model | None:
    """The entry a config name (folder name or hub id) refers to, or None (a packaged model, `downstream`)."""
    return _BY_ALIAS.get(name)


def get_model(name: str) -> Model:
    model = find_model(name)
    if model is None:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))} "
                       "(add an entry to xairepro/data/models.py)")
    return model


def model_dir(name: str) -> str | None:
    """data/models/<folder> for a registry model, None for anything else."""
    model = find_model(name)
    return None if model is None else f"{MODELS_DIR}/{model.name}"


def model_inputs(*names: str) -> list[str]:
    """The staged folders a job needs for these config names (a Snakemake input: [] when none)."""
    return sorted({d for d in map(model_dir, names) if d})


def export_rehearsal(rehearsal: bool) -> None:
    """Tell the download jobs (xairepro.data.download and this module's CLI) whether the config is a
    rehearsal: XAIREPRO_REHEARSAL, an environment variable like XAIREPRO_DATA_MIRROR (xairepro.envs), so it
    is not a param and changes no job's command line."""
    os.environ["XAIREPRO_REHEARSAL"] = "1" if rehearsal else ""


def git_blob_sha1(path: Path) -> str:
    """The id git (and the hub) gives a file's bytes: sha1 of 'blob <size>\\0' + content."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.name != "MANIFEST.json" and ".cache" not in p.relative_to(root).parts)


def _verify_against(model: Model, root: Path, expected: dict[str, str], source: str) -> None:
    missing = sorted(set(expected) - set(_files(root)))
    if missing:
        raise MissingDataError(f"model {model.name!r}: {', '.join(missing)} missing from {source}")
    for rel, sha in expected.items():
        check_hash(root / rel, "sha256:" + sha, shown_as=f"model {model.name}: {rel} ({source})")


def missing_from_mirror(model: Model, mirror: Path, declared: dict | None = None) -> str | None:
    """Why `model` cannot be staged from the mirror (None when it can): not among the rehearsal mirror's
    declared models (`declared`, from REHEARSAL.json; None for a real mirror), or no folder for it."""
    folder = mirror / MIRROR_FOLDER / model.name
    if declared is not None and model.name not in declared:
        return (f"model {model.name!r} is not in the rehearsal mirror's REHEARSAL.json ({mirror}); expected its "
                f"folder at {folder}")
    if not folder.is_dir():
        return (f"model {model.name!r} ({model.repo_id}) is not in the mirror: expected the folder {folder} "
                f"(a copy of data/models/{model.name} made with data_mirror: null on a machine with internet); "
                "data_mirror is set, so it is not downloaded from the hub")
    return None


def _from_mirror(model: Model, mirror: Path, tmp: Path) -> None:
    folder = mirror / MIRROR_FOLDER / model.name
    if not folder.is_dir():
        raise MissingDataError(missing_from_mirror(model, mirror))
    for rel in _files(folder):
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / rel, tmp / rel)
    if model.files:
        _verify_against(model, tmp, model.files, f"mirror {folder}")
        return
    manifest_path = folder / "MANIFEST.json"
    if not manifest_path.exists():
        raise MissingDataError(f"model {model.name!r}: the mirror copy {folder} has no MANIFEST.json and the registry "
                               "lists no file hashes, so nothing could verify it")
    manifest = json.loads(manifest_path.read_text())
    if (manifest.get("repo_id"), manifest.get("revision")) != (model.repo_id, model.revision):
        raise ChecksumError(f"{folder}/MANIFEST.json", f"{model.repo_id}@{model.revision}",
                            f"{manifest.get('repo_id')}@{manifest.get('revision')}")
    _verify_against(model, tmp, manifest["files"], f"mirror {folder}")


def _from_hub(model: Model, tmp: Path) -> None:
    if not model.revision:
        raise MissingDataError(f"model {model.name!r} ({model.repo_id}) has no pinned revision in "
                               "src/xairepro/data/models.py; pin the commit before downloading it")
    from huggingface_hub import HfApi, snapshot_download  # only needed for real downloads

    snapshot_download(model.repo_id, revision=model.revision, local_dir=tmp, allow_patterns=list(model.allow_patterns))
    if model.files:
        _verify_against(model, tmp, model.files, f"{model.repo_id}@{model.revision}")
        return
    info = HfApi().model_info(model.repo_id, revision=model.revision, files_metadata=True)
    blobs = {s.rfilename: s.blob_id for s in info.siblings}
    for rel in _files(tmp):
        if blobs.get(rel) != git_blob_sha1(tmp / rel):
            raise ChecksumError(f"model {model.name}: {rel}", f"git blob {blobs.get(rel)} at {model.revision}",
                                git_blob_sha1(tmp / rel))
    log.info("verified against the hub's blob ids; to pin the hashes, set files=%s in the registry entry",
             {rel: file_hash(tmp / rel) for rel in _files(tmp)})


def check_mirror(datasets, models, mirror: Path | None, rehearsal: bool = False) -> None:
    """Before any job runs (the workflow's onstart): with a mirror, every dataset and model the run still has to
    stage is in it, or one error names each missing one and its expected path. The download jobs check the
    same again; this makes the run stop before any compute job starts, whatever order they are scheduled in."""
    if mirror is None:
        return
    from xairepro.data.download import VENDORED, choose_sources, rehearsal_entry
    from xairepro.data.registry import get_dataset

    problems = []
    declared = rehearsal_overrides(mirror)["models"] if rehearsal and models else None
    for name in sorted(datasets):
        try:
            ds = get_dataset(name)
            choose_sources(rehearsal_entry(ds, mirror) if rehearsal else ds, mirror, VENDORED)
        except MissingDataError as e:
            problems.append(str(e))
    for name in sorted(models):
        problem = missing_from_mirror(get_model(name), mirror, declared)
        if problem:
            problems.append(problem)
    if problems:
        raise MissingDataError("data_mirror is set, and the run needs what it lacks (nothing was started):\n  "
                               + "\n  ".join(problems))


def stage(name: str, out_dir: Path, mirror: Path | None = None, rehearsal: bool = False) -> Path:
    """Stage model `name` into out_dir (replaced atomically) from the mirror or the hub, verified."""
    model = get_model(name)
    if rehearsal:
        if mirror is None:
            raise MissingDataError("--rehearsal needs a mirror (the rehearsal's data_mirror)")
        declared = rehearsal_overrides(mirror)["models"]
        if model.name not in declared:
            raise MissingDataError(missing_from_mirror(model, mirror, declared))
        override = declared[model.name]
        model = dataclasses.replace(model, revision=override["revision"], files=override["files"])
    with atomic_dir(out_dir) as tmp:
        if mirror is not None:
            if not mirror.is_dir():
                raise MissingDataError(f"data_mirror {mirror} is not a folder")
            _from_mirror(model, mirror, tmp)
            source = "mirror"
        else:
            _from_hub(model, tmp)
            source = "hub"
        shutil.rmtree(tmp / ".cache", ignore_errors=True)  # huggingface_hub's local_dir bookkeeping
        write_manifest(tmp, {"model": model.name, "repo_id": model.repo_id, "revision": model.revision,
                             "source": source, "rehearsal": rehearsal})
    log.info("model %s (%s@%s) ready in %s from the %s", model.name, model.repo_id, model.revision, out_dir, source)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--mirror", default=os.environ.get("XAIREPRO_DATA_MIRROR", ""),
                        help="offline mirror folder (empty: the hub; default: $XAIREPRO_DATA_MIRROR)")
    parser.add_argument("--rehearsal", action="store_true", default=os.environ.get("XAIREPRO_REHEARSAL") == "1",
                        help="accept the mirror's REHEARSAL.json hashes (default: $XAIREPRO_REHEARSAL=1, which the "
                             "workflow sets from the config key rehearsal)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stage(args.name, args.out_dir, Path(args.mirror).absolute() if args.mirror else None, args.rehearsal)


if __name__ == "__main__":
    main()
