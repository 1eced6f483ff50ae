"""Outlines fused on the reference plane against ground truth: the sample, a frontal panel, graf."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from affine import Affine
from rasterio.features import rasterize

from multiview.damage import damage_map
from multiview.plane import Scale, plane_area
from multiview.project import MaskResult, Project, Registration
from multiview.raster import resize_prob


def _raster(geom, size):
    """Rasterise a plane-coordinate geometry on the reference photo's pixel grid (pixel centres)."""
    w, h = size
    return rasterize([(geom, 1)], out_shape=(h, w), transform=Affine(1, 0, -0.5, 0, 1, -0.5)).astype(bool)


def _iou(a, b):
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def test_sample_outlines_match_truth_on_the_reference_plane(sample_map) -> None:
    seq, proj = sample_map
    ref = proj.reference
    H_ref_from_panel = seq.H_view_from_panel[ref.id]
    dm = damage_map(proj)
    assert [o.obj_id for o in dm.outlines] == [1, 2, 3] and not dm.skipped
    for o in dm.outlines:
        panel = seq.panel_masks[o.obj_id].astype(np.float32)
        truth = cv2.warpPerspective(panel, H_ref_from_panel, ref.size, flags=cv2.INTER_LINEAR) >= 0.5
        assert _iou(_raster(o.geometry, ref.size), truth) >= 0.97, o.name
        true_area = plane_area(seq.panel_masks[o.obj_id], H_ref_from_panel)
        assert abs(o.area_ref_px / true_area - 1) < 0.015, o.name
        assert abs(o.area_ref_px / o.raster_area_ref_px - 1) < 0.01  # vector vs raster
        assert o.geometry.is_valid
    lacuna = dm.outlines[2]
    assert lacuna.category.key == "loss"
    assert "IMG_0105.jpg" not in lacuna.views  # the close-up does not see the lacuna
    assert "IMG_0104.jpg" in lacuna.views and len(lacuna.views) == 5


def test_areas_in_cm2_on_a_frontal_reference(builder, tmp_path: Path) -> None:
    # the reference view is the panel itself (identity), so one scale is exact everywhere
    built = builder.build_project(tmp_path, 5, size=(640, 480), work_max_side=400)
    px_per_cm = 4.0
    dm = damage_map(built.project, scale=Scale(px_per_cm, "test"))
    for o in dm.outlines:
        true_cm2 = np.count_nonzero(built.panel_masks[o.obj_id]) / px_per_cm**2
        assert abs(o.area_cm2(dm.scale) / true_cm2 - 1) < 0.015, o.name
        truth = built.panel_masks[o.obj_id] > 0
        assert _iou(_raster(o.geometry, built.panel_size), truth) >= 0.97
    # a perimeter is in cm too: the rectangle (object 2) is 2 * (w + h)
    m2 = built.panel_masks[2] > 0
    ys, xs = np.nonzero(m2)
    true_perimeter = 2 * ((xs.max() - xs.min() + 1) + (ys.max() - ys.min() + 1)) / px_per_cm
    assert abs(dm.outlines[1].perimeter_cm(dm.scale) / true_perimeter - 1) < 0.03


def test_object_outside_the_reference_photo_and_unregistered_views(builder, tmp_path: Path) -> None:
    built = builder.build_project(tmp_path, 5, size=(320, 240), unregistered=(4,))
    proj = built.project
    views = proj.views
    # object 5: only on the first view, beyond the reference photo's left border
    v0 = views[0]
    H_ref_from_v0 = proj.registrations[v0.id].H_ref_from_view
    m = np.zeros((v0.height, v0.width), np.uint8)
    cv2.rectangle(m, (2, 60), (8, 120), 255, -1)
    corner = cv2.perspectiveTransform(np.float64([[[2, 60]]]), H_ref_from_v0)[0, 0]
    assert corner[0] < -0.5  # really outside the reference photo
    proj.add_object(5, "outside", category="crack")
    proj.write_result(MaskResult(5, v0.id, resize_prob(m, v0.work_size)))
    # object 6: only on the unregistered view
    v4 = views[4]
    proj.add_object(6, "nowhere")
    proj.write_result(MaskResult(6, v4.id, resize_prob(m, v4.work_size)))
    dm = damage_map(proj)
    by_id = {o.obj_id: o for o in dm.outlines}
    assert by_id[5].views == (v0.id,) and by_id[5].geometry.bounds[0] < 0
    assert dm.skipped == ((6, "no registered view has a mask of it (register its views with `multiview align`)"),)


def _oxford_h(path: Path) -> np.ndarray:
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    H = fs.getFirstTopLevelNode().mat()
    fs.release()
    return np.asarray(H, np.float64)


@pytest.mark.parametrize("n", [3, 5])
def test_graf_drawing_on_one_view_keeps_its_shape_on_the_plane(datasets_dir, tmp_path: Path, n: int) -> None:
    src = datasets_dir / "graf"
    photos = tmp_path / "photos"
    photos.mkdir()
    for k in (1, n):
        shutil.copy(src / f"img{k}.png", photos / f"img{k}.png")
    proj = Project.create(photos, tmp_path / "p", reference="img1")
    H_n_from_1 = _oxford_h(src / f"H1to{n}p.xml")
    v = proj.view(f"img{n}")
    proj.set_registrations(
        {
            "img1.png": Registration("img1.png", "reference", np.eye(3)),
            v.id: Registration(v.id, "registered", np.linalg.inv(H_n_from_1), method="ground truth"),
        }
    )
    # an irregular lacuna-like outline drawn on view n (original pixels)
    drawing = np.zeros((v.height, v.width), np.uint8)
    poly = np.int32([[300, 200], [420, 180], [500, 260], [470, 380], [360, 400], [330, 300]])
    cv2.fillPoly(drawing, [poly], 255)
    cv2.circle(drawing, (420, 290), 25, 0, -1)  # a hole
    proj.add_object(1, "drawn", category="loss")
    proj.write_result(MaskResult(1, v.id, resize_prob(drawing, v.work_size)))
    (o,) = damage_map(proj).outlines
    assert len(o.geometry.interiors) == 1  # the hole survives tracing and simplification
    ref = proj.reference
    truth = cv2.warpPerspective(drawing.astype(np.float32) / 255, np.linalg.inv(H_n_from_1), ref.size) >= 0.5
    assert _iou(_raster(o.geometry, ref.size), truth) >= 0.95
