"""Raster helpers: soft-mask resizing, pixel-grid scales, working sizes."""

from __future__ import annotations

import numpy as np

from multiview.raster import resize_prob, scale_between, working_size


def test_resize_prob_interpolates() -> None:
    p = np.zeros((4, 4), np.uint8)
    p[:, 2:] = 255
    up = resize_prob(p, (8, 8))
    assert up.shape == (8, 8) and 0 < up[0, 3] < 255  # soft edge, not nearest neighbour


def test_scale_between_maps_pixel_centres() -> None:
    S = scale_between((100, 50), (50, 25))
    corner = S @ np.array([-0.5, -0.5, 1.0])
    far = S @ np.array([99.5, 49.5, 1.0])
    np.testing.assert_allclose(corner[:2], [-0.5, -0.5])
    np.testing.assert_allclose(far[:2], [49.5, 24.5])


def test_working_size_bounds_the_longer_side() -> None:
    assert working_size(4000, 3000, 2048) == (2048, 1536)
    assert working_size(800, 600, 2048) == (800, 600)
    assert working_size(800, 600, None) == (800, 600)
