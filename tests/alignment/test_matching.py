"""Matching and robust estimation: recovery of random synthetic homographies."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers import textured

from multiview import geometry as g
from multiview.alignment.features import extract_features
from multiview.alignment.matching import guided_match, match_features, plausible
from multiview.alignment.refine import rewarp_refine


def _scene(seed: int, size=(640, 480)) -> np.ndarray:
    """A textured picture with blobs and sharp strokes (SIFT-friendly, not periodic)."""
    rng = np.random.default_rng(seed)
    img = textured(size[0], size[1], seed)
    for _ in range(120):
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        p0 = tuple(int(v) for v in rng.integers(0, size, 2))
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.line(img, p0, p1, c, int(rng.integers(1, 4)), cv2.LINE_AA)
    return img


def _random_view(img: np.ndarray, rng: np.random.Generator, jitter: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * np.float32([w, h])
    H = cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    out = cv2.warpPerspective(img, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out, H  # H = H_view_from_base


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_random_homography(seed):
    rng = np.random.default_rng(seed)
    base = _scene(seed)
    view, H_view_from_base = _random_view(base, rng, 0.12)
    fb, fv = extract_features(base), extract_features(view)
    pm = match_features(fv, fb)  # H_base_from_view
    assert pm.ok, pm.reason
    mean, mx = g.corner_error(pm.H_b_from_a, g.invert(H_view_from_base), fv.size)
    assert mean < 1.0 and mx < 2.0
    # Re-matching on the warped view keeps (or improves) the accuracy.
    r = rewarp_refine(view, fv.size, fb, fb.size, pm.H_b_from_a)
    assert r is not None and r.inliers >= 50
    mean2, mx2 = g.corner_error(r.H_ref_from_view, g.invert(H_view_from_base), fv.size)
    assert mean2 < 0.5 and mx2 < 1.0


def test_unrelated_images_do_not_match():
    fa, fb = extract_features(_scene(3)), extract_features(_scene(4))
    pm = match_features(fa, fb)
    assert not pm.ok and pm.reason


def test_guided_match_finds_true_pairs_only_near_prediction():
    rng = np.random.default_rng(0)
    xy_b = rng.uniform(0, 500, (400, 2))
    desc_b = rng.normal(size=(400, 16)).astype(np.float32)
    T = np.array([[1, 0, 5.0], [0, 1, -3.0], [0, 0, 1]])  # b = a + (5, -3)
    xy_a = g.apply_h(g.invert(T), xy_b) + rng.normal(0, 0.5, (400, 2))
    desc_a = desc_b + rng.normal(0, 0.05, desc_b.shape).astype(np.float32)
    ia, ib = guided_match(xy_a, desc_a, xy_b, desc_b, T, radius=4.0)
    assert len(ia) > 380 and np.all(ia == ib)
    # With a wrong prediction (off by 50 px) the true partners are out of reach.
    ia2, ib2 = guided_match(xy_a, desc_a, xy_b, desc_b, np.array([[1, 0, 55.0], [0, 1, -3.0], [0, 0, 1]]), radius=4.0)
    assert not np.any(ia2 == ib2)
    assert len(np.unique(ib2)) == len(ib2)  # each b keypoint used once


def test_plausible_rejects_mirror_and_collapse():
    assert plausible(np.eye(3), (100, 100), (100, 100)) is None
    assert "mirror" in plausible(np.diag([-1.0, 1.0, 1.0]), (100, 100), (100, 100))
    assert "field of view" in plausible(np.diag([0.01, 0.01, 1.0]), (100, 100), (100, 100))


def test_resolution_is_not_scale():
    """A 56 MP photo framed exactly like a 0.3 MP one (157x the pixels) covers the same view: plausible."""
    big, small = (8640, 6480), (640, 480)
    s = small[0] / big[0]
    H_small_from_big = np.array([[s, 0, 0.5 * s - 0.5], [0, s, 0.5 * s - 0.5], [0, 0, 1.0]])
    assert plausible(H_small_from_big, big, small) is None
    assert plausible(np.linalg.inv(H_small_from_big), small, big) is None
    # a medium-format close-up of 1/40 of the overview's width: normal
    close = np.array([[0.025, 0, 300.0], [0, 0.025, 200.0], [0, 0, 1.0]])
    assert plausible(close, (8000, 6000), (4000, 3000)) is None
    # a view shrunk to a dot (1/2500 of the frame) is a degenerate mapping
    assert "field of view" in plausible(np.diag([0.02, 0.02, 1.0]), (1000, 1000), (1000, 1000))
