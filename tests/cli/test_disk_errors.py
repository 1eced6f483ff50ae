"""Disk full and read-only projects: one line naming the folder and the cause, nothing corrupt, no traceback."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import review_builder
from click.testing import CliRunner
from helpers import failing

from multiview import atomic
from multiview.cli import main


@pytest.fixture
def built(tmp_path: Path):
    return review_builder.build_project(tmp_path / "w", 3)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("code", "cause"), [(errno.ENOSPC, "no space is left"), (errno.EROFS, "read-only")])
@pytest.mark.parametrize(
    "args",
    [
        ["init", "{photos}", "{tmp}/new"],
        ["align", "{proj}"],
        ["prompt", "{proj}", "--view", "IMG_2", "--obj", "1", "--point", "60,50"],
        ["track", "{proj}", "--full"],
        ["show", "{proj}", "{tmp}/sheet.png"],
        ["export", "{proj}", "{tmp}/out", "--format", "h5"],
    ],
    ids=["init", "align", "prompt", "track", "show", "export-h5"],
)
def test_one_line_and_nothing_corrupt(built, tmp_path, monkeypatch, args, code, cause) -> None:
    proj = built.project.root
    photos = Path(built.project.state.photos_dir)
    before = snapshot(tmp_path)
    replacing, staged = failing(code)
    monkeypatch.setattr(atomic, "replacing", replacing)
    monkeypatch.setattr(atomic, "staged_dir", staged)
    argv = [a.format(photos=photos, proj=proj, tmp=tmp_path) for a in args]
    r = CliRunner().invoke(main, argv)
    assert r.exit_code == 1, r.output
    line = r.output.strip().splitlines()[-1]  # (a tracker's warning may come before)
    assert r.output.count("Error") == 1 and "Traceback" not in r.output and cause in line, r.output
    assert line.startswith("Error: cannot write in '") and str(tmp_path) in line
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before or args[0] == "track"
    assert not [k for k in after if ".tmp-" in k]  # no temporary leftovers
    assert (proj / "project.json").read_bytes() == before[str((proj / "project.json").relative_to(tmp_path))]


def test_storage_error_names_folder_and_cause(tmp_path: Path) -> None:
    from multiview.errors import storage_error

    e = storage_error(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".tmp-x.npz.123")))
    assert e.kind == "full" and f"'{tmp_path}'" in str(e) and "free some space" in str(e)
    e = storage_error(PermissionError(errno.EACCES, "Permission denied", str(tmp_path)))
    assert e.kind == "readonly" and f"'{tmp_path}'" in str(e)
