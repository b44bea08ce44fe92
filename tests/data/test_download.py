"""The download path on real files: vendored copies, the offline mirror, and a canonical URL served on
loopback from an archive the test makes (the real hosts are out of reach here)."""
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import stat
import tarfile
import threading
from dataclasses import replace

import pytest

from xairepro.data.download import ChecksumError, MissingDataError, download, tree_digest
from xairepro.data.registry import Dataset, Source, get_dataset


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_vendored_nations_is_verified_and_listed(repo, tmp_path):
    out = download("nations", tmp_path / "nations", vendored=repo / "data" / "vendored")
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["source"] == "vendored"
    assert manifest["files"] == get_dataset("nations").files
    assert sum(1 for _ in open(out / "train.txt")) == 1592


def test_checksum_mismatch_names_file_and_hashes_and_leaves_nothing(repo, tmp_path):
    bad_mirror = tmp_path / "mirror"
    shutil.copytree(repo / "data" / "vendored" / "nations", bad_mirror / "nations")
    with open(bad_mirror / "nations" / "train.txt", "a") as f:
        f.write("brazil\tintergovorgs\tusa\n")
    out = tmp_path / "data" / "nations"
    with pytest.raises(ChecksumError) as err:
        download("nations", out, mirror=bad_mirror)
    msg = str(err.value)
    assert "nations/train.txt" in msg
    assert "0830fa9da8e5bba2ccdaa45b7bdc9130451ba66b09ff2708f35fccaf82473e57" in msg  # expected
    assert _sha((bad_mirror / "nations" / "train.txt").read_bytes()) in msg  # actual
    assert not out.exists()
    assert list((tmp_path / "data").iterdir()) == []  # no partial folder either


def test_missing_mirror_says_which_key_to_fix(tmp_path):
    with pytest.raises(MissingDataError, match="data_mirror"):
        download("fb15k-237", tmp_path / "fb", mirror=tmp_path / "nowhere")


def test_mirror_fb15k237_crlf_is_normalised(mirror, tmp_path):
    out = download("fb15k-237", tmp_path / "fb15k-237", mirror=mirror)
    head = (out / "train.txt").read_bytes()[:2000]
    assert b"\r" not in head and head.count(b"\n") > 10
    assert sum(1 for _ in open(out / "test.txt")) == 20466


def test_tree_digest_matches_sha256sum_pipeline(tmp_path):
    (tmp_path / "d" / "b").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_bytes(b"x")
    (tmp_path / "d" / "b" / "c.txt").write_bytes(b"y")
    lines = f"{_sha(b'x')}  d/a.txt\n{_sha(b'y')}  d/b/c.txt\n"
    assert tree_digest(tmp_path, "d") == _sha(lines.encode())


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _tarball(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_url_download_checks_archive_hash_unpacks_and_normalises(served, tmp_path):
    www, base = served
    train = b"a\tr\tb\r\nb\tr\tc\r\n"
    archive = _tarball({"kg/train.txt": train, "kg/../../evil.txt": b"no"})
    (www / "kg.tar.gz").write_bytes(archive)
    ds = Dataset(name="toy-kg", description="test", papers=("test",), licence="test", citation="test",
                 size="1 KB", sources=(Source("url", base + "kg.tar.gz", "md5:" + hashlib.md5(archive).hexdigest(),
                                              unpack="tar", strip="kg/"),),
                 files={"train.txt": _sha(train)}, normalise=("crlf_to_lf",))
    out = download(ds, tmp_path / "data" / "toy-kg", cache=tmp_path / "cache")
    assert (out / "train.txt").read_bytes() == b"a\tr\tb\nb\tr\tc\n"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "data" / "evil.txt").exists()

    corrupt = replace(ds, sources=(replace(ds.sources[0], known_hash="md5:" + "0" * 32),))
    with pytest.raises(ChecksumError, match="kg.tar.gz"):
        download(corrupt, tmp_path / "data" / "toy-kg-2", cache=tmp_path / "cache2")
    assert not (tmp_path / "data" / "toy-kg-2").exists()


def test_downloaded_folder_has_the_mode_of_a_plain_mkdir(repo, tmp_path):
    out = download("nations", tmp_path / "data" / "nations", vendored=repo / "data" / "vendored")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700


def test_download_progress_is_logged_without_a_terminal(caplog):
    """pooch's progress interface, as a log: every 5 % of the size, then a closing line (a cluster job or
    `> log` has no terminal for a progress bar)."""
    import logging

    from xairepro.data.download import LoggedProgress

    progress = LoggedProgress("glove.840B.300d.zip")
    progress.total = 2_000_000
    with caplog.at_level(logging.INFO, logger="xairepro.data.download"):
        for _ in range(200):
            progress.update(10_000)
        progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "downloading glove.840B.300d.zip: 5% of 2.0 MB"
    assert [int(line.split(": ")[1].split("%")[0]) for line in lines[:-1]] == list(range(5, 101, 5))
    assert lines[-1] == "downloaded glove.840B.300d.zip (2.0 MB)"


def test_a_mirror_without_the_dataset_never_falls_back_to_the_network(tmp_path):
    from xairepro.data.download import MissingDataError, choose_sources
    from xairepro.data.registry import get_dataset

    snli = get_dataset("snli")
    assert snli.mirror and any(s.kind == "url" for s in snli.sources)
    with pytest.raises(MissingDataError, match=f"'snli': the mirror {tmp_path} lacks {tmp_path}/snli/snli_1.0.zip"):
        choose_sources(snli, tmp_path, None)
    unmirrored = replace(snli, mirror=())  # an entry without a mirror layout is never downloaded either
    with pytest.raises(MissingDataError, match="'snli' has no layout in the mirror"):
        choose_sources(unmirrored, tmp_path, None)
    digits = get_dataset("digits")  # shipped in a package: no network needed, so the mirror is not asked
    assert choose_sources(digits, tmp_path, None)[1] is None


def test_paws_missing_from_the_mirror_is_an_error_naming_it_and_the_expected_file(tmp_path):
    """PAWS is in no shared mirror: with data_mirror set, the download stops, naming the dataset and the file
    the mirror lacks, before anything is fetched or written (never a fall-back to storage.googleapis.com)."""
    out = tmp_path / "data" / "paws"
    (tmp_path / "mirror").mkdir()
    with pytest.raises(MissingDataError) as err:
        download("paws", out, mirror=tmp_path / "mirror", cache=tmp_path / "cache")
    assert str(err.value) == (f"dataset 'paws': the mirror {tmp_path / 'mirror'} lacks "
                              f"{tmp_path / 'mirror' / 'paws' / 'paws_wiki_labeled_final.tar.gz'}")
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_paws_archive_in_the_real_layout_is_verified_unpacked_and_loaded(tmp_path):
    """The registry's PAWS entry (its mirror location, tar unpacking and strip of final/) on an archive in the
    real layout; only the archive's hash is the test's, as the real one is 4.7 MB that is not here."""
    from xairepro.empirical_explainers.data import load_split

    header = b"id\tsentence1\tsentence2\tlabel\n"
    members = {f"final/{name}.tsv": header + f"1\tA {name} pair .\tThe {name} pair .\t1\n".encode()
               for name in ("train", "dev", "test")}
    archive = _tarball(members)
    (tmp_path / "mirror" / "paws").mkdir(parents=True)
    (tmp_path / "mirror" / "paws" / "paws_wiki_labeled_final.tar.gz").write_bytes(archive)
    paws = get_dataset("paws")
    assert paws.sources[0].location == "https://storage.googleapis.com/paws/english/paws_wiki_labeled_final.tar.gz"
    local = replace(paws, mirror=(replace(paws.mirror[0], known_hash="sha256:" + _sha(archive)),))
    out = download(local, tmp_path / "data" / "paws", mirror=tmp_path / "mirror")
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.json", "dev.tsv", "test.tsv", "train.tsv"]
    assert load_split("paws", out, "validation", None, 0) == [(("A dev pair .", "The dev pair ."), 1)]
    with pytest.raises(ChecksumError, match="paws_wiki_labeled_final.tar.gz"):  # the registry's real hash
        download("paws", tmp_path / "data" / "paws-real", mirror=tmp_path / "mirror")


def test_imdb_tree_digest_refuses_a_tree_that_differs_in_one_byte(tmp_path):
    """IMDB's 50k files are fixed by one digest of the whole aclImdb/ tree: a tree that is not the real
    one is refused, and so is a real-looking tree with one byte changed."""
    import dataclasses

    from xairepro.data.download import verify
    from xairepro.data.registry import get_dataset

    imdb = get_dataset("imdb")
    folder, _ = imdb.tree_digest
    for rel, text in (("train/pos/0_9.txt", "great"), ("train/neg/1_2.txt", "awful"), ("test/pos/2_8.txt", "fine")):
        (tmp_path / folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / rel).write_text(text)
    no_files = dataclasses.replace(imdb, files={})
    with pytest.raises(ChecksumError, match="tree digest"):
        verify(no_files, tmp_path)  # not the real tree
    pinned = dataclasses.replace(no_files, tree_digest=(folder, tree_digest(tmp_path, folder)))
    verify(pinned, tmp_path)
    (tmp_path / folder / "train/neg/1_2.txt").write_text("awfuL")
    with pytest.raises(ChecksumError, match="tree digest"):
        verify(pinned, tmp_path)
