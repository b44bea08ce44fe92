"""Small helpers every step uses: logging set-up, atomic outputs, deterministic JSON/CSV."""
from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path


def start_step(name: str) -> logging.Logger:
    """Log to stderr (the rule sends it to results/logs/...) and record which interpreter runs the
    step, so a log shows which framework environment a rule really ran in."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    log = logging.getLogger(name)
    log.info("interpreter %s (python %s.%s); argv %s", sys.executable, *sys.version_info[:2], sys.argv[1:])
    return log


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; move it onto `path` only if the block succeeds, so a
    killed or failed step never leaves a file that looks complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial" + "".join(path.suffixes), dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it the mode a plain open() would
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike):
    """Yield a temporary folder beside `path`; it replaces `path` only if the block succeeds, so a
    folder output (a model, a training history) is either complete or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.partial"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; give it the mode a plain mkdir would
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_json(path: str | os.PathLike, obj) -> None:
    """Deterministic JSON (sorted keys, fixed float repr): the same run gives the same bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def write_csv(path: str | os.PathLike, rows: list[dict], columns: list[str] | None = None) -> None:
    if columns is None:
        columns = list(rows[0]) if rows else []
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _stat_fingerprint(path: Path) -> list:
    """Size and mtime of a file, or of every file under a folder: a rerun of the step that made an input
    changes them."""
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    return [[p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


class Resumable:
    """A long step's finished items, kept one JSON line each in `<out>.partial.jsonl` as they finish, so a
    killed job started again with the same arguments and inputs redoes only the unfinished items. The
    first line fingerprints the arguments and the inputs' sizes and mtimes; a file left by other
    arguments or inputs is discarded. `finish()` deletes it once the real output has been written.

        done = Resumable(args.out, vars(args), inputs=[args.history])
        for key, item in work:
            row = done.get(key)
            if row is None:
                row = done.add(key, compute(item))
    """

    def __init__(self, out: str | os.PathLike, arguments: dict, inputs=(), log: logging.Logger | None = None):
        self.path = Path(f"{out}.partial.jsonl")
        identity = {"arguments": {k: str(v) for k, v in sorted(arguments.items())},
                    "inputs": [_stat_fingerprint(Path(p)) for p in inputs]}
        self.fingerprint = json.dumps(identity, sort_keys=True)
        self.rows: dict[str, object] = {}
        if self.path.exists():
            lines = self.path.read_text().splitlines()
            if lines and lines[0] == self.fingerprint:
                for line in lines[1:]:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:  # the line being written when the job was killed
                        break
                    self.rows[entry["key"]] = entry["row"]
            elif log:
                log.info("discarding %s: it was left by other arguments or inputs", self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w") as f:  # rewrite: drops a torn last line and a stale file
            f.write(self.fingerprint + "\n")
            f.writelines(json.dumps({"key": k, "row": r}) + "\n" for k, r in self.rows.items())
        if self.rows and log:
            log.info("resuming: %d finished items from %s", len(self.rows), self.path)

    def get(self, key: str):
        return self.rows.get(key)

    def add(self, key: str, row):
        """Record a finished item (flushed to disk before returning) and give the row back."""
        with open(self.path, "a") as f:
            f.write(json.dumps({"key": key, "row": row}) + "\n")  # key order kept: it is the columns
            f.flush()
            os.fsync(f.fileno())
        self.rows[key] = row
        return row

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)
