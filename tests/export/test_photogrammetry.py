"""Photogrammetry masks: each tool's naming and polarity, keeping the object or the background."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from multiview.export import ExportOptions, export, original_mask

NAMES = {
    "metashape": "metashape/IMG_3_mask.png",
    "colmap": "colmap/IMG_3.jpg.png",
    "realitycapture": "realitycapture/IMG_3.jpg.mask.png",
}


@pytest.mark.parametrize("keep", ["object", "background"])
def test_naming_and_polarity(built, tmp_path, keep) -> None:
    proj = built.project
    out = tmp_path / keep
    counts = export(proj, out, list(NAMES), options=ExportOptions(keep=keep))
    assert counts == {"metashape": 6, "colmap": 6, "realitycapture": 6}
    v = proj.view("IMG_3")
    union = np.zeros((v.height, v.width), bool)
    for oid in (1, 2):
        union |= original_mask(proj.read_result(oid, v.id), v)[0]
    assert 0.02 < union.mean() < 0.5
    for _tool, rel in NAMES.items():
        m = cv2.imread(str(out / rel), cv2.IMREAD_UNCHANGED)
        assert m is not None, rel
        assert m.shape == (240, 320) and m.dtype == np.uint8 and set(np.unique(m)) == {0, 255}
        # White (255) = pixels the tool uses, black (0) = excluded, for all three tools.
        expect = union if keep == "object" else ~union
        np.testing.assert_array_equal(m == 255, expect)
    assert sorted(p.name for p in (out / "colmap").iterdir())[0] == "IMG_1.jpg.png"


def test_one_object_and_views_without_results(built, tmp_path, caplog) -> None:
    proj = built.project
    (proj.root / "results" / "2" / "IMG_2.jpg.npz").unlink()
    (proj.root / "results" / "1" / "IMG_2.jpg.npz").unlink()
    counts = export(proj, tmp_path / "o", ["colmap"], obj_ids=[2], options=ExportOptions(keep="background"))
    assert counts == {"colmap": 5}
    assert not (tmp_path / "o" / "colmap" / "IMG_2.jpg.png").exists()
    assert "IMG_2.jpg" in caplog.text
    v = proj.view("IMG_1")
    m = cv2.imread(str(tmp_path / "o" / "colmap" / "IMG_1.jpg.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(m == 0, original_mask(proj.read_result(2, v.id), v)[0])


# ----------------------------------------------------------------------------- masks beside the photos


def photo_folder_state(photos):
    return {p.name: p.read_bytes() for p in photos.iterdir()}


def test_beside_photos_adds_mask_files_only(built, tmp_path) -> None:
    from multiview.export.photogrammetry import export_beside_photos
    from multiview.loading import scan_photos

    proj = built.project
    photos = Path(proj.state.photos_dir)
    (photos / "notes.txt").write_text("mine")
    before = photo_folder_state(photos)
    counts = export_beside_photos(proj, ["realitycapture", "metashape"])
    assert counts == {"realitycapture": 6, "metashape": 6}
    after = photo_folder_state(photos)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing of the user's changed
    added = sorted(set(after) - set(before))
    assert "IMG_3.jpg.mask.png" in added and "IMG_3_mask.png" in added and ".multiview-masks.json" in added
    assert len(added) == 13
    export(proj, tmp_path / "o", ["realitycapture"])
    assert after["IMG_3.jpg.mask.png"] == (tmp_path / "o" / "realitycapture" / "IMG_3.jpg.mask.png").read_bytes()
    # a new project from that folder sees the photos, not the masks multiview added
    scan = scan_photos(photos)
    assert [p.name for p in scan.photos] == [f"IMG_{i}.jpg" for i in range(1, 7)]
    # a re-run replaces its own, unchanged masks (here: the other polarity)
    export_beside_photos(proj, ["realitycapture"], options=ExportOptions(keep="background"))
    again = cv2.imread(str(photos / "IMG_3.jpg.mask.png"), cv2.IMREAD_UNCHANGED)
    first = cv2.imdecode(np.frombuffer(after["IMG_3.jpg.mask.png"], np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(again, 255 - first)


def test_beside_photos_never_replaces_a_file_it_did_not_write(built) -> None:
    from multiview import ProjectExistsError
    from multiview.export.photogrammetry import export_beside_photos

    proj = built.project
    photos = Path(proj.state.photos_dir)
    (photos / "IMG_4.jpg.mask.png").write_bytes(b"a mask drawn by hand")
    before = photo_folder_state(photos)
    with pytest.raises(
        ProjectExistsError, match=r"'IMG_4\.jpg\.mask\.png' in photo folder .* not written by multiview"
    ):
        export_beside_photos(proj, ["realitycapture"])
    assert photo_folder_state(photos) == before  # nothing written at all, no record either
    (photos / "IMG_4.jpg.mask.png").unlink()
    export_beside_photos(proj, ["realitycapture"])
    (photos / "IMG_5.jpg.mask.png").write_bytes(b"touched up by the restorer")  # ours, changed since
    before = photo_folder_state(photos)
    with pytest.raises(ProjectExistsError, match=r"IMG_5\.jpg\.mask\.png"):
        export_beside_photos(proj, ["realitycapture"])
    assert photo_folder_state(photos) == before


def test_beside_photos_refuses_colmap_and_other_formats(built) -> None:
    from multiview import ValidationError
    from multiview.export.photogrammetry import export_beside_photos

    for fmt in ("colmap", "png", "h5"):
        with pytest.raises(ValidationError, match="COLMAP reads masks from a folder of their own"):
            export_beside_photos(built.project, [fmt])


def test_beside_photos_removes_only_its_own_stale_masks(built) -> None:
    from multiview.export.photogrammetry import export_beside_photos

    proj = built.project
    photos = Path(proj.state.photos_dir)
    export_beside_photos(proj, ["realitycapture"])
    for oid in (1, 2):
        (proj.root / "results" / str(oid) / "IMG_2.jpg.npz").unlink()
        (proj.root / "results" / str(oid) / "IMG_6.jpg.npz").unlink()
    (photos / "IMG_6.jpg.mask.png").write_bytes(b"edited")  # stale but changed by someone
    assert export_beside_photos(proj, ["realitycapture"]) == {"realitycapture": 4}
    assert not (photos / "IMG_2.jpg.mask.png").exists()  # ours, unchanged, stale: removed
    assert (photos / "IMG_6.jpg.mask.png").read_bytes() == b"edited"  # changed by someone: kept


def test_beside_photos_resumes_after_a_kill_between_record_and_file(built, monkeypatch) -> None:
    from multiview import atomic
    from multiview.export.photogrammetry import export_beside_photos

    proj = built.project
    photos = Path(proj.state.photos_dir)
    export_beside_photos(proj, ["realitycapture"])
    calls = []
    original = atomic.write_bytes

    class Killed(BaseException):
        pass

    def killed(path, data):
        if not str(path).endswith(".mask.png"):
            return original(path, data)
        calls.append(path)
        raise Killed  # the process dies after the record was updated, before the mask file

    monkeypatch.setattr(atomic, "write_bytes", killed)
    with pytest.raises(Killed):
        export_beside_photos(proj, ["realitycapture"], options=ExportOptions(keep="background"))
    assert len(calls) == 1
    monkeypatch.setattr(atomic, "write_bytes", original)
    # the old mask is still recognised as ours: the next run completes
    assert export_beside_photos(proj, ["realitycapture"], options=ExportOptions(keep="background")) == {
        "realitycapture": 6
    }
    assert len([p for p in photos.iterdir() if p.name.endswith(".mask.png")]) == 6


# ----------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("o", [3, 6, 7, 8])
def test_masks_follow_the_stored_pixels_and_carry_the_tag(tmp_path, o) -> None:
    """COLMAP reads stored pixels: sampled that way the mask must cover the object, for any orientation."""
    from helpers import textured
    from PIL import Image, ImageOps

    from multiview import orientation as orient
    from multiview.project import MaskResult, Project

    photos = tmp_path / "photos"
    photos.mkdir()
    stored_obj = np.zeros((40, 64), bool)
    stored_obj[5:20, 8:30] = True  # where the object is in the file's stored pixels
    for i in (1, 2):
        img = textured(64, 40, i)
        img[stored_obj] = (250, 250, 250)
        pil = Image.fromarray(img)
        exif = pil.getexif()
        exif[0x0112] = o if i == 1 else 1
        pil.save(photos / f"IMG_{i}.jpg", exif=exif, quality=95)
    proj = Project.create(photos, tmp_path / "p")
    proj.add_object(1)
    for v in proj.views:
        o_v = o if v.id == "IMG_1.jpg" else 1
        display_obj = orient.to_display(stored_obj, o_v)
        assert (v.width, v.height) == display_obj.shape[::-1] and v.orientation == o_v
        proj.write_result(MaskResult(1, v.id, display_obj.astype(np.uint8) * 255, tracker="test"))
    export(proj, tmp_path / "out", ["colmap", "metashape", "realitycapture", "png"])
    for rel in ("colmap/IMG_1.jpg.png", "metashape/IMG_1_mask.png", "realitycapture/IMG_1.jpg.mask.png"):
        with Image.open(tmp_path / "out" / rel) as m:
            assert m.getexif().get(0x0112) == o  # the photo's tag travels with the mask
            raw = np.asarray(m) == 255  # what a reader of stored pixels sees (COLMAP)
            shown = np.asarray(ImageOps.exif_transpose(m)) == 255  # what a tag-honouring reader sees
        assert np.array_equal(raw, stored_obj), rel
        assert np.array_equal(shown, orient.to_display(stored_obj, o)), rel
    with Image.open(tmp_path / "out" / "colmap" / "IMG_2.jpg.png") as m:  # no tag: plain mask
        assert 0x0112 not in m.getexif() and np.array_equal(np.asarray(m) == 255, stored_obj)
    png = cv2.imread(str(tmp_path / "out" / "1" / "IMG_1.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(png == 255, orient.to_display(stored_obj, o))  # documentation masks: as displayed
