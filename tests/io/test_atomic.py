"""Atomic outputs: a failed step leaves the previous output (or nothing), never a partial one, and what
lands has the mode a plain open()/mkdir would give."""
import os
import stat

import pytest

from xairepro.io import atomic_dir, atomic_path


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def umask():
    current = os.umask(0)
    os.umask(current)
    return current


def test_failed_block_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    out = tmp_path / "metrics.json"
    with atomic_path(out) as tmp:
        tmp.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    assert mode(out) == 0o666 & ~umask()


def test_failed_block_keeps_the_old_folder_and_leaves_no_partial(tmp_path):
    out = tmp_path / "model"
    with atomic_dir(out) as tmp:
        (tmp / "weights").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "weights").write_text("half")
            raise RuntimeError("killed")
    assert (out / "weights").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert mode(out) == 0o777 & ~umask()
    with atomic_dir(out) as tmp:  # a rerun replaces the folder whole
        (tmp / "other").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["other"]


def test_a_killed_run_s_partial_folder_is_cleared_by_the_next(tmp_path):
    stale = tmp_path / ".model.abc123.partial"  # what SIGKILL leaves: the context manager never exits
    stale.mkdir()
    (stale / "weights").write_text("half")
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "weights").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_resumable_keeps_finished_items_and_discards_what_other_inputs_left(tmp_path):
    from xairepro.io import Resumable

    out, data = tmp_path / "out.csv", tmp_path / "input.txt"
    data.write_text("a")
    done = Resumable(out, {"lr": 0.1}, inputs=[data])
    done.add("a", {"z": 1, "b": [1.5, "x"]})
    done.add("b", {"z": 2})
    with open(done.path, "a") as f:
        f.write('{"key": "c", "ro')  # the line being written when the job was killed
    again = Resumable(out, {"lr": 0.1}, inputs=[data])
    assert again.rows == {"a": {"z": 1, "b": [1.5, "x"]}, "b": {"z": 2}}
    assert list(again.get("a")) == ["z", "b"]  # order kept: rows become CSV columns
    again.add("c", {"z": 3})
    assert set(Resumable(out, {"lr": 0.1}, inputs=[data]).rows) == {"a", "b", "c"}
    assert Resumable(out, {"lr": 0.2}, inputs=[data]).rows == {}  # other arguments
    Resumable(out, {"lr": 0.1}, inputs=[data]).add("a", {"z": 1})
    data.write_text("changed")
    os.utime(data, ns=(1, 1))
    assert Resumable(out, {"lr": 0.1}, inputs=[data]).rows == {}  # the input was made again
    done.finish()
    assert not done.path.exists()
