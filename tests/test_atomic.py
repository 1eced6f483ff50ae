from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from multiview import atomic


def test_write_json_replaces_whole_file(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    atomic.write_json(f, {"x": 1})
    atomic.write_json(f, {"y": [1, 2]})
    assert f.read_text() == '{\n  "y": [\n    1,\n    2\n  ]\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failed_writer_leaves_old_content_and_no_temp(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    atomic.write_bytes(f, b"old")

    def boom(fh) -> None:
        fh.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic.write_with(f, boom)
    assert f.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_staged_dir_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValueError):
        with atomic.staged_dir(out) as d:
            (d / "part").write_text("1")
            raise ValueError("stop")
    assert not out.exists() and os.listdir(tmp_path) == []
    with atomic.staged_dir(out) as d:
        (d / "done").write_text("1")
    assert (out / "done").is_file()
    with pytest.raises(FileExistsError):
        with atomic.staged_dir(out):
            pass
    with atomic.staged_dir(out, overwrite=True) as d:
        (d / "new").write_text("2")
    assert sorted(os.listdir(out)) == ["new"] and sorted(os.listdir(tmp_path)) == ["out"]


def test_write_npz_and_image_round_trip(tmp_path: Path) -> None:
    import cv2

    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    atomic.write_npz(tmp_path / "a.npz", a=a)
    with np.load(tmp_path / "a.npz") as z:
        np.testing.assert_array_equal(z["a"], a)
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[..., 0] = 200  # red
    atomic.write_image(tmp_path / "r.png", rgb)
    bgr = cv2.imread(str(tmp_path / "r.png"))
    assert bgr.shape == (5, 6, 3) and (bgr[..., 2] == 200).all() and (bgr[..., 0] == 0).all()


def test_new_files_get_normal_permissions(tmp_path: Path) -> None:
    atomic.write_text(tmp_path / "a.txt", "x")
    with atomic.staged_dir(tmp_path / "d") as d:
        (d / "f").write_text("1")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == atomic.FILE_MODE
    assert (tmp_path / "d").stat().st_mode & 0o777 == atomic.DIR_MODE


def test_create_bytes_never_replaces_an_existing_file(tmp_path: Path, monkeypatch) -> None:
    import errno
    import os

    f = tmp_path / "IMG_1.jpg.mask.png"
    atomic.create_bytes(f, b"new")
    assert f.read_bytes() == b"new" and f.stat().st_mode & 0o777 == atomic.FILE_MODE
    with pytest.raises(FileExistsError):
        atomic.create_bytes(f, b"other")
    assert f.read_bytes() == b"new"

    def no_links(src, dst):  # FAT/exFAT drives and some shares have no hard links
        raise OSError(errno.EPERM, "operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(FileExistsError):
        atomic.create_bytes(f, b"other")
    assert f.read_bytes() == b"new"
    atomic.create_bytes(tmp_path / "b.png", b"b")
    assert (tmp_path / "b.png").read_bytes() == b"b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IMG_1.jpg.mask.png", "b.png"]  # no temp files left


KILLED_WRITER = """
import os, sys
from pathlib import Path
from multiview import atomic
kind, target = sys.argv[1], Path(sys.argv[2])
if kind == "file":
    cm = atomic.replacing(target)
    tmp = cm.__enter__()
    tmp.write_bytes(b"half a file")
else:
    cm = atomic.staged_dir(target, overwrite=True)
    tmp = cm.__enter__()
    (tmp / "masks.h5").write_bytes(b"partial")
os._exit(9)  # killed: no cleanup runs; the kernel drops the writer's lock
"""


def kill_a_writer(kind: str, target: Path) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", KILLED_WRITER, kind, str(target)], check=False)


def test_clean_stale_removes_only_dead_writers_leftovers(tmp_path: Path) -> None:
    kill_a_writer("file", tmp_path / "project.json")
    kill_a_writer("dir", tmp_path / "out")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(n.startswith(".tmp-") for n in left)
    (tmp_path / ".tmp-notes.txt").write_text("a user's file that merely looks like ours")
    with atomic.replacing(tmp_path / "live.json") as live:  # a live writer in this process
        live.write_text("{}")
        assert atomic.clean_stale(tmp_path, "project.json.") == 1
        assert atomic.clean_stale(tmp_path, "out.") == 1
        assert live.exists()  # still being written: kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-notes.txt", "live.json"]


def test_interrupted_swap_is_put_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic.staged_dir(out) as d:
        (d / "a.txt").write_text("previous export")
    os.replace(out, atomic.old_name(out))  # killed between the two renames of a replacement
    assert atomic.recover_swap(out) and (out / "a.txt").read_text() == "previous export"
    assert not atomic.recover_swap(out)
