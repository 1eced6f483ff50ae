"""``overwrite`` replaces only a previous, unchanged multiview export: never photos, a project or other files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from multiview import ProjectExistsError
from multiview.export import export


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links as their target text) with its bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            out[rel] = b"-> " + os.readlink(p).encode()
        elif p.is_file():
            out[rel] = p.read_bytes()
    return out


@pytest.fixture
def world(built, tmp_path):
    """The built project, its photos (plus a notes file beside them) and a snapshot of everything."""
    photos = built.project.root.parent / "photos"
    (photos / "notes.txt").write_text("lighting: raking from the left")
    return built.project, photos, snapshot(tmp_path)


def refused(project, out, match, tmp_path, before, **kw) -> None:
    with pytest.raises(ProjectExistsError, match=match):
        export(project, out, ["realitycapture"], overwrite=True, **kw)
    assert snapshot(tmp_path) == before  # nothing deleted, nothing written


def test_photo_folder_is_refused_and_kept(world, tmp_path) -> None:
    proj, photos, before = world
    refused(proj, photos, "is the project's photo folder.*beside-photos", tmp_path, before)


def test_project_folder_is_refused_and_kept(world, tmp_path) -> None:
    proj, _, before = world
    refused(proj, proj.root, "is the project folder", tmp_path, before)


def test_folders_containing_photos_or_project_are_refused(world, tmp_path) -> None:
    proj, photos, before = world
    # tmp_path holds both the photo folder and the project
    refused(proj, tmp_path, "contains the project's photo folder", tmp_path, before)
    shutil.move(str(photos), str(tmp_path / "elsewhere"))  # the photos move out: still the project inside
    before = snapshot(tmp_path)
    refused(proj, proj.root.parent, "contains the project", tmp_path, before)


def test_folder_with_other_files_is_refused(world, tmp_path) -> None:
    proj, _, _ = world
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "report.odt").write_bytes(b"restoration report")
    before = snapshot(tmp_path)
    refused(proj, docs, r"is not a multiview export \(no export.json\)", tmp_path, before)


def test_previous_export_is_replaced_only_while_unchanged(world, tmp_path) -> None:
    proj, _, _ = world
    out = tmp_path / "out"
    export(proj, out, ["png", "colmap"])
    contents = json.loads((out / "export.json").read_text())["contents"]
    assert "colmap/IMG_1.jpg.png" in contents and "export.json" not in contents
    assert export(proj, out, ["coco"], overwrite=True) == {"coco": 1}  # unchanged: replaced
    assert sorted(p.name for p in out.iterdir()) == ["coco.json", "export.json"]

    (out / "my notes.txt").write_text("keep me")  # someone else's file inside
    refused(proj, out, "'my notes.txt' was not written by multiview", tmp_path, snapshot(tmp_path))
    (out / "my notes.txt").unlink()

    (out / "coco.json").write_text("{}")  # a file multiview wrote, edited since
    refused(proj, out, "'coco.json' changed since multiview wrote it", tmp_path, snapshot(tmp_path))


def test_export_json_that_does_not_prove_an_export(world, tmp_path) -> None:
    proj, _, _ = world
    out = tmp_path / "out"
    out.mkdir()
    (out / "export.json").write_text('{"format": "something-else"}')
    refused(proj, out, "was not written by multiview", tmp_path, snapshot(tmp_path))
    # an export from before multiview recorded its files cannot be told apart from the user's
    (out / "export.json").write_text('{"format": "multiview-export", "files": {"png": 1}}')
    (out / "1").mkdir()
    (out / "1" / "IMG_1.png").write_bytes(b"mask?")
    refused(proj, out, "older multiview", tmp_path, snapshot(tmp_path))


def test_links_are_refused_whatever_they_point_to(world, tmp_path) -> None:
    proj, photos, _ = world
    prev = tmp_path / "prev"
    export(proj, prev, ["png"])
    for name, target in (("to_photos", photos), ("to_project", proj.root), ("to_export", prev)):
        link = tmp_path / name
        link.symlink_to(target, target_is_directory=True)
        refused(proj, link, "is a symbolic link", tmp_path, snapshot(tmp_path))
    # a path through a linked parent folder that ends at the photos is the photos
    (tmp_path / "up").symlink_to(photos.parent, target_is_directory=True)
    refused(proj, tmp_path / "up" / "photos", "is the project's photo folder", tmp_path, snapshot(tmp_path))
    refused(proj, photos / ".." / "photos", "is the project's photo folder", tmp_path, snapshot(tmp_path))


def test_linked_photos_protect_their_targets(tmp_path, builder) -> None:
    b = builder.build_project(tmp_path / "b", 3)
    store = tmp_path / "camera_card"
    shutil.move(str(tmp_path / "b" / "photos"), str(store))
    linked = tmp_path / "linked"
    linked.mkdir()
    for f in sorted(store.iterdir()):
        (linked / f.name).symlink_to(f)
    from multiview.project import Project

    proj = Project.create(linked, tmp_path / "p2")
    proj.add_object(1)
    proj.add_object(2)
    for v in b.project.views:
        for oid in (1, 2):
            r = b.project.read_result(oid, v.id)
            proj.write_result(r)
    before = snapshot(tmp_path)
    refused(proj, store, "the project's photo", tmp_path, before)


def test_empty_folder_new_folder_and_file(world, tmp_path) -> None:
    proj, _, _ = world
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export(proj, empty, ["coco"]) == {"coco": 1}  # nothing to lose: no overwrite needed
    assert export(proj, tmp_path / "a" / "b", ["coco"]) == {"coco": 1}
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ProjectExistsError, match="is a file"):
        export(proj, f, ["coco"], overwrite=True)
    assert f.read_text() == "x"


def test_killed_export_leftovers_are_cleaned_and_a_killed_swap_is_undone(world, tmp_path) -> None:
    import os

    from test_atomic import kill_a_writer

    from multiview import atomic

    proj, _, _ = world
    out = tmp_path / "out"
    kill_a_writer("dir", out)  # an export killed while writing (partial masks.h5)
    assert [p.name.startswith(".tmp-out.") for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == [True]
    export(proj, out, ["coco"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    os.replace(out, atomic.old_name(out))  # killed between the two renames of an overwrite
    with pytest.raises(ProjectExistsError, match="already exists"):
        export(proj, out, ["png"])  # the previous export is back, and not replaced without overwrite
    assert (out / "coco.json").is_file()
