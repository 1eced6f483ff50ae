"""``multiview status`` (areas, scores, drift flags) and ``multiview show`` (pictures), with CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import review_builder
from click.testing import CliRunner

from multiview.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def built(tmp_path: Path):
    """8 views; object 1 drifted on #5 (IMG_6), object 2 lost on #6 (IMG_7), #7 (IMG_8) unregistered."""
    return review_builder.build_project(tmp_path, 8, drift_view=5, lost_view=6, unregistered=(7,))


def test_status_table(built) -> None:
    r = run("status", built.project.root)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == [
        "#",
        "view",
        "size",
        "align",
        "obj",
        "mask",
        "area",
        "px",
        "ref",
        "px",
        "occl",
        "score",
        "present",
        "drift",
        "reason",
    ]
    assert lines[1].split()[:5] == ["0", "IMG_1.jpg", "160x120", "registered", "1"]
    assert len(lines) == 1 + 16 + 1 + 3 + 1  # table, occlusion note, damage map (title + 2 objects), summary
    assert lines[17] == "occl: occlusion layers not computed: run `multiview align`"
    assert lines[-4].startswith("damage map") and lines[-3].split()[:3] == ["1", "figure", "[figure]:"]
    row6 = lines[1 + 2 * 5]
    assert row6.split()[:4] == ["5", "IMG_6.jpg", "160x120", "registered"] and "DRIFT  IoU 0." in row6
    assert "DRIFT  object lost (empty mask)" in lines[1 + 2 * 6 + 1]
    assert "no registration: IoU skipped" in lines[1 + 2 * 7]
    assert lines[-1] == "8 views, 2 objects, 2 prompts; 2 view(s) to correct (worst first): IMG_7.jpg, IMG_6.jpg"


def test_status_drifted_json_scale_and_thresholds(built) -> None:
    root = built.project.root
    r = run("status", root, "--drifted")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[1].split()[:3] == ["6", "IMG_7.jpg", "2"] and lines[2].split()[:3] == ["5", "IMG_6.jpg", "1"]
    assert lines[-1] == "2 view(s) to correct: IMG_7.jpg, IMG_6.jpg"
    r = run("status", root, "--drifted", "--min-iou", "0.01", "--obj", "1")
    assert r.exit_code == 0 and r.output == "no drifted views\n"
    r = run("status", root, "--json", "--scale", "4")
    data = json.loads(r.output)
    assert data["to_correct"] == ["IMG_7.jpg", "IMG_6.jpg"] and data["scale_px_per_cm"] == 4.0
    row = next(x for x in data["rows"] if x["view"] == "IMG_2.jpg" and x["obj_id"] == 1)
    assert row["area_cm2"] == pytest.approx(row["area_ref_px"] / 16.0) and row["iou"] > 0.95
    r = run("status", root, "--scale", "4")
    assert r.output.splitlines()[0].split()[8] == "cm2"
    r = run("status", root, "--min-iou", "2")
    assert r.exit_code == 2


def test_show_sheet_pages_and_one_view(built, tmp_path) -> None:
    root = built.project.root
    out = tmp_path / "pics" / "sheet.png"
    r = run("show", root, out, "--tile", "120")
    assert r.exit_code == 0, r.output
    img = cv2.imread(str(out))
    assert img.shape[1] == 3 * 128 + 8 and img.shape[0] > 3 * 90
    r = run("show", root, out, "--tile", "120")
    assert r.exit_code == 1 and "overwrite" in r.output
    r = run("show", root, out, "--per-page", "5", "--overwrite")
    assert r.exit_code == 0 and "sheet-1.png, " in r.output
    r = run("show", root, tmp_path / "v.png", "--view", "IMG_6", "--size", "400", "--obj", "1")
    assert r.exit_code == 0, r.output
    v = cv2.imread(str(tmp_path / "v.png"))
    assert v.shape[1] == 480 and v.shape[0] > 300
    r = run("show", root, tmp_path / "w.png", "--view", "nope")
    assert r.exit_code == 1 and "no view named 'nope'" in r.output and not (tmp_path / "w.png").exists()


def test_real_homography_tracker_then_status_export_show(tmp_path) -> None:
    """The path a restorer takes without model weights: track, review, export, look."""
    import numpy as np

    import multiview

    b = review_builder.build_project(tmp_path, 6, mask_prompts=True, results=False)
    root = b.project.root
    r = run("track", root, "--tracker", "homography")
    assert r.exit_code == 0, r.output
    r = run("status", root, "--json")
    data = json.loads(r.output)
    assert data["to_correct"] == []
    rows = [x for x in data["rows"] if not x["prompted"]]
    assert len(rows) == 2 * 5 and all(x["tracker"] == "homography" and x["iou"] > 0.97 for x in rows)
    truth = {oid: float(np.count_nonzero(m)) for oid, m in b.panel_masks.items()}
    for x in data["rows"]:
        assert x["area_ref_px"] == pytest.approx(truth[x["obj_id"]], rel=0.03)
    r = run("export", root, tmp_path / "out", "--format", "h5", "--format", "labels")
    assert r.exit_code == 0, r.output
    stack = multiview.read_h5(tmp_path / "out" / "masks.h5")
    # The tracker marks pixels outside the prompted photo as unknown; the file keeps that.
    assert any(not v.known.all() for v in stack.views)
    for v in stack.views:
        np.testing.assert_array_equal(v.masks & ~v.known, False)
    r = run("show", root, tmp_path / "sheet.png")
    assert r.exit_code == 0 and cv2.imread(str(tmp_path / "sheet.png")) is not None


def test_show_never_replaces_a_photo_or_a_non_picture(built, tmp_path) -> None:
    root = built.project.root
    photos = Path(built.project.state.photos_dir)
    r = run("show", root, tmp_path / "out.txt")
    assert r.exit_code == 2 and ".png" in r.output and "Traceback" not in r.output  # usage error
    assert not (tmp_path / "out.txt").exists()
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    r = run("show", root, notes, "--overwrite")
    assert r.exit_code == 1 and "not a PNG picture" in r.output and notes.read_text() == "not a picture"
    import shutil

    proj_png = tmp_path / "png_photos"
    shutil.copytree(photos, proj_png)
    for f in proj_png.iterdir():
        cv2.imwrite(str(f.with_suffix(".png")), cv2.imread(str(f)))
        f.unlink()
    from multiview.project import Project

    p2 = Project.create(proj_png, tmp_path / "p2")
    photo = proj_png / "IMG_2.png"
    before = photo.read_bytes()
    r = run("show", p2.root, photo, "--view", "IMG_2", "--overwrite")
    assert r.exit_code == 1 and "is one of the project's photos" in r.output and photo.read_bytes() == before
