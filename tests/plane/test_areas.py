"""Areas: exact reference-plane areas through known homographies, and comparable areas across views."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from multiview.geometry import apply_h, polygon_area
from multiview.plane import Scale, mappings, plane_area, result_areas


def test_plane_area_affine_is_det_times_count() -> None:
    m = np.zeros((50, 60), bool)
    m[10:30, 5:45] = True
    H = np.array([[2.0, 0.3, 5.0], [0.1, 1.5, -3.0], [0, 0, 1]])
    assert plane_area(m, H) == pytest.approx(abs(np.linalg.det(H)) * 800)
    assert plane_area(np.zeros((5, 5), bool), H) == 0.0


def test_plane_area_recovers_projective_polygon_area() -> None:
    m = np.zeros((400, 500), bool)
    m[100:300, 150:400] = True  # pixels 150..399 x 100..299: the square [149.5, 399.5] x [99.5, 299.5]
    H = np.array([[1.1, 0.05, 20.0], [-0.02, 0.9, 10.0], [4e-4, -2e-4, 1.0]])
    corners = np.array([[149.5, 99.5], [399.5, 99.5], [399.5, 299.5], [149.5, 299.5]])
    truth = polygon_area(apply_h(H, corners))
    assert plane_area(m, H) == pytest.approx(truth, rel=2e-3)


def test_reference_plane_areas_compare_across_views(built) -> None:
    proj = built.project
    maps = mappings(proj)
    truth = {oid: float(np.count_nonzero(m)) for oid, m in built.panel_masks.items()}
    scale = Scale(4.0)
    px_areas = []
    for v in proj.views:
        for oid in (1, 2):
            if v.id in (built.lost_view,):
                continue
            r = proj.read_result(oid, v.id)
            a = result_areas(r, v, maps.get(v.id), scale)
            if v.id in maps:
                # Views see the panel from different distances: the view areas differ, the plane areas do not.
                assert a.ref_px == pytest.approx(truth[oid], rel=0.03), (v.id, oid)
                assert a.cm2 == pytest.approx(a.ref_px / 16.0)
            else:
                assert a.ref_px is None and a.cm2 is None
            if oid == 1:
                px_areas.append(a.px)
    assert max(px_areas) / min(px_areas) > 1.5


def test_view_pixel_area_is_scaled_from_the_working_copy(tmp_path, builder) -> None:
    b = builder.build_project(tmp_path, 3, size=(400, 300), work_max_side=256)
    v = b.project.views[0]
    assert v.work_size == (256, 192)
    r = b.project.read_result(1, v.id)
    a = result_areas(r, v, None)
    exact = np.count_nonzero(cv2.resize(r.prob, v.size, interpolation=cv2.INTER_LINEAR) >= 128)
    assert a.px == pytest.approx(exact, rel=0.03) and a.ref_px is None
