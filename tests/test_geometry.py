"""Tests of the homography helpers: round trips, composition, warps, areas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multiview import geometry as g


def _random_h(rng: np.random.Generator, size=(200, 150), jitter=0.15) -> np.ndarray:
    """A well-conditioned homography: perturb the image corners by up to ``jitter`` of the size."""
    import cv2

    w, h = size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * np.float32([w, h])
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_apply_invert_round_trip(seed):
    rng = np.random.default_rng(seed)
    H = _random_h(rng)
    pts = rng.uniform(0, 200, (20, 2))
    back = g.apply_h(g.invert(H), g.apply_h(H, pts))
    np.testing.assert_allclose(back, pts, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_compose_is_sequential_application(seed):
    rng = np.random.default_rng(seed)
    H_b_from_a, H_c_from_b = _random_h(rng), _random_h(rng)
    pts = rng.uniform(0, 200, (10, 2))
    direct = g.apply_h(g.compose(H_c_from_b, H_b_from_a), pts)
    stepwise = g.apply_h(H_c_from_b, g.apply_h(H_b_from_a, pts))
    np.testing.assert_allclose(direct, stepwise, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(g.compose(H_b_from_a, g.invert(H_b_from_a)), np.eye(3), atol=1e-9)


def test_normalize_and_errors():
    H = np.diag([2.0, 2.0, 2.0])
    np.testing.assert_allclose(g.normalize_h(H), np.eye(3))
    from multiview.errors import ValidationError

    with pytest.raises(ValidationError):
        g.invert(np.zeros((3, 3)))
    with pytest.raises(ValidationError):
        g.normalize_h(np.eye(2))
    with pytest.raises(ValidationError):
        g.normalize_h(np.full((3, 3), np.nan))


def test_corner_error_and_area():
    H = np.eye(3)
    T = np.array([[1, 0, 3.0], [0, 1, 4.0], [0, 0, 1]])
    assert g.corner_error(H, T, (100, 50)) == pytest.approx((5.0, 5.0))
    assert g.polygon_area(g.corners((10, 20))) == pytest.approx(200.0)
    S = np.diag([2.0, 3.0, 1.0])
    assert g.polygon_area(g.footprint(S, (10, 20))) == pytest.approx(1200.0)


def test_warp_prob_recovers_known_transform_and_validity():
    # A disc mask shifted and scaled by 2: the warped soft mask matches the disc drawn in the target.
    import cv2

    src = np.zeros((100, 120), np.uint8)
    cv2.circle(src, (60, 50), 30, 255, -1)
    S = np.array([[2.0, 0, 0.5], [0, 2.0, 0.5], [0, 0, 1]])  # scale_between((120,100),(240,200))
    warped, valid = g.warp_prob(src, S, (300, 220))
    assert warped.dtype == np.float32 and warped.shape == (220, 300)
    expect = np.zeros((220, 300), np.uint8)
    cv2.circle(expect, (120, 100), 60, 1, -1)
    assert g.mask_iou(warped >= 0.5, expect > 0) > 0.97
    # Valid exactly where the destination centre maps inside the 120x100 grid: x < 240, y < 200.
    assert valid[:200, :240].all() and not valid[:, 240:].any() and not valid[200:, :].any()
    assert not warped[~valid].any()
    # Soft, not binary: interpolation leaves intermediate values on the edge.
    assert ((warped > 0.05) & (warped < 0.95)).any()


def test_coverage_handles_points_behind_the_camera():
    # Strong perspective: part of the destination maps to w <= 0 in the source.
    H = np.array([[1, 0, 0], [0, 1, 0], [0.01, 0, 1.0]])
    cov = g.coverage(H, (100, 100), (200, 100))
    assert cov[:, :40].any() and not cov[:, 150:].any()


def test_mask_iou():
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert g.mask_iou(a, b) == 1.0
    a[:2] = True
    b[1:3] = True
    assert g.mask_iou(a, b) == pytest.approx(4 / 12)
    known = np.zeros((4, 4), bool)
    known[:2] = True
    assert g.mask_iou(a, b, known) == pytest.approx(4 / 8)
