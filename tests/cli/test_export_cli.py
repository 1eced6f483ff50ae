"""``multiview export`` with several formats, --keep, --scale and refusals (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import review_builder
from click.testing import CliRunner

import multiview
from multiview.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def built(tmp_path: Path):
    return review_builder.build_project(tmp_path, 5, lost_view=4)


def test_all_formats_in_one_call(built, tmp_path) -> None:
    proj_dir = built.project.root
    out = tmp_path / "out"
    args = ["export", proj_dir, out, "--keep", "background", "--scale", "0,0,30,40,10mm"]
    for fmt in ("png", "labels", "h5", "coco", "metashape", "colmap", "realitycapture"):
        args += ["--format", fmt]
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("png: 10 file(s), labels: 6 file(s), h5: 1 file(s), coco: 1 file(s), metashape: 5")
    top = sorted(p.name for p in out.iterdir())
    assert top == ["1", "2", "coco.json", "colmap", "export.json", "labels", "masks.h5", "metashape", "realitycapture"]
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["keep"] == "background" and manifest["scale_px_per_cm"] == pytest.approx(50.0)
    stack = multiview.read_h5(out / "masks.h5")
    ok = np.isfinite(stack.views[0].area_ref_px)
    np.testing.assert_allclose(stack.views[0].area_cm2[ok], stack.views[0].area_ref_px[ok] / 2500.0)
    m = cv2.imread(str(out / "colmap" / "IMG_2.jpg.png"), cv2.IMREAD_UNCHANGED)
    obj = cv2.imread(str(out / "1" / "IMG_2.png"), cv2.IMREAD_UNCHANGED) > 0
    assert (m[obj] == 0).all()  # background kept: the object is black
    coco = json.loads((out / "coco.json").read_text())
    assert all(a["area_cm2"] == pytest.approx(a["area_ref_px"] / 2500.0) for a in coco["annotations"])


def test_refusals_and_bad_options(built, tmp_path) -> None:
    proj_dir = built.project.root
    out = tmp_path / "out"
    assert run("export", proj_dir, out, "--format", "h5").exit_code == 0
    r = run("export", proj_dir, out, "--format", "h5")
    assert r.exit_code == 1 and "overwrite" in r.output and r.output.count("\n") == 1
    assert run("export", proj_dir, out, "--format", "coco", "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["coco.json", "export.json"]
    r = run("export", proj_dir, tmp_path / "o2", "--format", "tiff")
    assert r.exit_code == 2 and "tiff" in r.output
    r = run("export", proj_dir, tmp_path / "o2", "--keep", "occluder")
    assert r.exit_code == 2
    r = run("export", proj_dir, tmp_path / "o2", "--scale", "1,1,1,1,5")
    assert r.exit_code == 2 and "coincide" in r.output
    assert not (tmp_path / "o2").exists()


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_overwrite_never_deletes_photos_project_or_other_files(built, tmp_path) -> None:
    proj_dir = built.project.root
    photos = Path(built.project.state.photos_dir)
    (photos / "notes.txt").write_text("scaffold moved on day 2")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "condition report.odt").write_bytes(b"report")
    before = tree(tmp_path)
    for out, why in (
        (photos, "is the project's photo folder"),  # RealityCapture wants masks beside the photos...
        (proj_dir, "is the project folder"),
        (tmp_path, "contains the project"),
        (docs, "is not a multiview export"),
    ):
        r = run("export", proj_dir, out, "--format", "realitycapture", "--overwrite")
        assert r.exit_code == 1 and why in r.output and r.output.count("\n") == 1, r.output
        assert "Traceback" not in r.output
        assert tree(tmp_path) == before  # nothing deleted, nothing written
    r = run("export", proj_dir, photos, "--format", "realitycapture", "--overwrite")
    assert "beside-photos" in r.output  # ...and the refusal says how to get that


def test_beside_photos(built) -> None:
    proj_dir = built.project.root
    photos = Path(built.project.state.photos_dir)
    before = tree(photos)
    r = run("export", proj_dir, "--beside-photos")
    assert r.exit_code == 0 and r.output == f"realitycapture: 5 file(s) -> {photos}\n", r.output
    r = run("export", proj_dir, "--beside-photos", "--format", "metashape", "--format", "realitycapture")
    assert r.exit_code == 0 and "metashape: 5 file(s), realitycapture: 5 file(s)" in r.output, r.output
    after = tree(photos)
    assert {k: after[k] for k in before} == before and len(after) == len(before) + 11
    r = run("export", proj_dir, "--beside-photos", "--format", "colmap")
    assert r.exit_code == 1 and "COLMAP reads masks from a folder of their own" in r.output
    assert r.output.count("\n") == 1
    assert run("export", proj_dir).exit_code == 2  # neither OUT nor --beside-photos
    assert run("export", proj_dir, photos / "x", "--beside-photos").exit_code == 2
    assert run("export", proj_dir, "--beside-photos", "--overwrite").exit_code == 2
    assert tree(photos) == after
