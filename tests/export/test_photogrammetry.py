"""Photogrammetry masks: each tool's naming and polarity, keeping the object or the background."""

from __future__ import annotations

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
