"""The photo folder moved: stored-data commands still run, ``relink`` finds the photos by content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import review_builder
from click.testing import CliRunner

from multiview.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_moved_photos_status_export_then_relink(tmp_path: Path) -> None:
    b = review_builder.build_project(tmp_path / "w", 3)
    proj = b.project.root
    moved = tmp_path / "archive" / "fresco"
    moved.parent.mkdir()
    shutil.move(b.project.state.photos_dir, moved)
    (moved / "IMG_2.jpg").rename(moved / "north wall 2.jpg")  # renamed on the way
    # commands that need no pixels run without the photos
    assert run("status", proj).exit_code == 0
    r = run("export", proj, tmp_path / "out", "--format", "png", "--format", "coco")
    assert r.exit_code == 0, r.output
    # commands that need pixels say what to do, in one line
    r = run("show", proj, tmp_path / "sheet.png")
    assert r.exit_code == 1 and "multiview relink" in r.output and r.output.count("\n") == 1
    r = run("relink", proj, moved)
    assert r.exit_code == 0, r.output
    assert "IMG_2.jpg is now north wall 2.jpg" in r.output
    state = json.loads((proj / "project.json").read_text())
    assert state["photos_dir"] == str(moved)
    assert run("show", proj, tmp_path / "sheet.png").exit_code == 0
    r = run("export", proj, tmp_path / "rc", "--format", "realitycapture")
    assert r.exit_code == 0 and (tmp_path / "rc" / "realitycapture" / "north wall 2.jpg.mask.png").is_file()


def test_relink_refuses_a_folder_without_every_photo(tmp_path: Path) -> None:
    b = review_builder.build_project(tmp_path / "w", 3)
    proj = b.project.root
    elsewhere = tmp_path / "copy"
    shutil.copytree(b.project.state.photos_dir, elsewhere)
    (elsewhere / "IMG_3.jpg").unlink()
    before = (proj / "project.json").read_bytes()
    r = run("relink", proj, elsewhere)
    assert r.exit_code == 1 and "does not hold photo 'IMG_3.jpg'" in r.output and r.output.count("\n") == 1
    assert (proj / "project.json").read_bytes() == before
