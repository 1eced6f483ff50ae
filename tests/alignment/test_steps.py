"""The viewpoint step between two views, from their homography: known mappings and ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import camera_h

from multiview.alignment.steps import ViewStep, view_step

SIZE = (800, 600)


def _between(yaw_a: float, yaw_b: float, **kw) -> np.ndarray:
    return camera_h(yaw_b, **kw) @ np.linalg.inv(camera_h(yaw_a, **kw))


def _oxford(folder: Path, n: int) -> np.ndarray:
    fs = cv2.FileStorage(str(folder / f"H1to{n}p.xml"), cv2.FILE_STORAGE_READ)
    H = fs.getFirstTopLevelNode().mat()
    fs.release()
    return np.asarray(H, np.float64)


def test_identity_is_no_step():
    s = view_step(np.eye(3), SIZE, SIZE)
    assert s == ViewStep(0.0, 0.0, 0.0, 0.0, 1.0)
    assert s.cost == 0.0


def test_zoom_is_the_log_of_the_field_of_view_ratio_not_of_pixel_counts():
    c = np.array([(SIZE[0] - 1) / 2, (SIZE[1] - 1) / 2])
    T = np.array([[1, 0, -c[0]], [0, 1, -c[1]], [0, 0, 1.0]])
    zoom2 = np.linalg.inv(T) @ np.diag([2.0, 2.0, 1.0]) @ T  # 2x close-up of the centre, same sensor
    s = view_step(zoom2, SIZE, SIZE)
    assert s.zoom == pytest.approx(math.log(2), abs=1e-9)
    assert s.tilt == pytest.approx(0, abs=1e-9) and s.perspective == pytest.approx(0, abs=1e-9)
    assert s.overlap == pytest.approx((0.25 + 1) / 2, abs=0.02)  # a quarter of a is in b; all of b is in a
    # The same framing on a sensor with 4x the pixels: no zoom at all.
    big = (2 * SIZE[0], 2 * SIZE[1])
    s = view_step(np.diag([2.0, 2.0, 1.0]), SIZE, big)
    assert s.zoom == pytest.approx(0, abs=1e-9) and s.overlap == pytest.approx(1.0)
    assert s.cost < 0.01


def test_foreshortening_is_the_transition_tilt():
    theta = math.radians(40)
    s = view_step(np.diag([1.0, math.cos(theta), 1.0]), SIZE, SIZE)
    assert s.tilt == pytest.approx(-math.log(math.cos(theta)), rel=1e-9)
    assert s.perspective == pytest.approx(0, abs=1e-9)


def test_symmetric_in_the_two_views():
    H = _between(-10, 25)
    sizes = ((800, 600), (640, 480))
    a = view_step(H, *sizes)
    b = view_step(np.linalg.inv(H), *sizes[::-1])
    for name in ("tilt", "perspective", "zoom", "shift", "overlap"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-9, abs=1e-12), name


def test_turning_the_camera_grows_the_step():
    """A camera turning around the wall: the step grows with the angle, on either side of the wall's normal."""
    costs = [view_step(_between(0, yaw), SIZE, SIZE).cost for yaw in (10, 20, 30, 40, 50)]
    assert costs == sorted(costs) and costs[0] > 0
    # -20 deg to +20 deg is a 40 deg turn although both views foreshorten the wall alike:
    # it costs more than either 20 deg half, mostly through the perspective term.
    whole = view_step(_between(-20, 20), SIZE, SIZE)
    halves = [view_step(_between(-20, 0), SIZE, SIZE), view_step(_between(0, 20), SIZE, SIZE)]
    assert all(whole.cost > h.cost for h in halves)
    assert whole.perspective > 1.5 * max(h.perspective for h in halves)


def test_no_overlap_or_a_singular_mapping_has_no_step():
    far = np.array([[1, 0, 5000.0], [0, 1, 0], [0, 0, 1]])
    assert view_step(far, SIZE, SIZE) is None
    assert view_step(np.zeros((3, 3)), SIZE, SIZE) is None
    assert view_step(np.full((3, 3), np.nan), SIZE, SIZE) is None


def test_graf_steps_grow_with_the_viewpoint_change(datasets_dir):
    """Oxford graf: image 1 to images 2..6 at growing viewpoint angle (ground-truth homographies)."""
    folder = datasets_dir / "graf"
    costs = [view_step(_oxford(folder, n), (800, 640), (800, 640)).cost for n in range(2, 7)]
    assert costs == sorted(costs)
    # Neighbours in the sequence are gentler than any pair that skips a view.
    H = [np.eye(3)] + [_oxford(folder, n) for n in range(2, 7)]
    for a in range(4):
        one = view_step(H[a + 1] @ np.linalg.inv(H[a]), (800, 640), (800, 640)).cost
        two = view_step(H[a + 2] @ np.linalg.inv(H[a]), (800, 640), (800, 640)).cost
        assert one < two, a
