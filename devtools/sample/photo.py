"""Photographing the panel: warping, wall, occluders, lighting, vignetting, blur and noise.

Convention:
    View pixel ``(x, y)`` is ``img[y, x]``; photos are RGB ``uint8``
    ``(h, w, 3)``; view sizes are ``(width, height)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from devtools.sample.camera import _View
from devtools.sample.painter import _lowfreq
from devtools.sample.panel import PANEL_SIZE


def _panel_x_range(H: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    """Columns ``(x_lo, x_hi)`` of the photo the (flat) panel spans, clipped to the photo."""
    W, Hp = PANEL_SIZE
    corners = np.array([[0, 0, 1], [W - 1, 0, 1], [W - 1, Hp - 1, 1], [0, Hp - 1, 1]], np.float64) @ H.T
    uv = corners[:, :2] / corners[:, 2:3]
    return max(uv[:, 0].min(), 0), min(uv[:, 0].max(), size[0] - 1)


def _draw_occluder(
    kind: str, size: tuple[int, int], x_range: tuple[float, float], rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Occluder in view space: ``(h, w)`` float alpha in 0..1 and ``(h, w, 3)`` float RGB colour.

    ``x_range`` is the span of columns the painted panel covers (the pole stands in front of it).
    """
    w, h = size
    x_lo, x_hi = x_range
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    colour = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)

    def tube(p0, p1, radius, base, highlight):
        d = np.asarray(p1, np.float64) - np.asarray(p0, np.float64)
        L = float(np.hypot(*d))
        n = np.array([-d[1], d[0]]) / L
        dist = ((xx - p0[0]) * n[0] + (yy - p0[1]) * n[1]).astype(np.float32)
        along = ((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / L
        inside = (np.abs(dist) <= radius) & (along >= 0) & (along <= L)
        t = np.clip(dist / radius, -1, 1)
        shade = np.sqrt(np.clip(1 - t * t, 0, 1))  # cylinder profile
        spec = np.exp(-(((t + 0.35) / 0.18) ** 2))
        col = base[None, None, :] * (0.45 + 0.55 * shade[..., None]) + highlight * spec[..., None]
        a = inside.astype(np.float32)
        colour[:] = colour * (1 - a[..., None]) + col * a[..., None]
        alpha[:] = np.maximum(alpha, a)

    if kind == "pole":
        x0 = x_lo + (x_hi - x_lo) * rng.uniform(0.55, 0.7)
        tilt = rng.uniform(-0.06, 0.06) * h
        r = 0.028 * w
        tube((x0 - tilt, -10), (x0 + tilt, h + 10), r, np.array([128, 130, 134], np.float32), 90.0)
        yb = h * rng.uniform(0.22, 0.32)
        yb_end = yb + rng.uniform(-0.05, 0.05) * h
        tube((x0 - 4 * r, yb), (w + 10, yb_end), 0.6 * r, np.array([118, 120, 124], np.float32), 70.0)
        coupler = ((xx - x0) ** 2 / (1.4 * r) ** 2 + (yy - yb) ** 2 / (1.0 * r) ** 2) <= 1
        colour[coupler] = np.array([70, 72, 76], np.float32)
        alpha[coupler] = 1.0
    else:  # "bar": a dark wooden beam crossing the frame diagonally
        r = 0.022 * w
        y0, y1 = rng.uniform(0.55, 0.75) * h, rng.uniform(0.05, 0.2) * h
        tube((-10, y0), (w + 10, y1), r, np.array([58, 48, 40], np.float32), 25.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.3)  # out of focus, closer than the wall
    colour = cv2.GaussianBlur(colour, (0, 0), 1.3)
    return alpha, colour


def _render_view(panel: np.ndarray, view: _View, seed: int, index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Photograph the flat panel: returns ``(h, w, 3)`` uint8 RGB photo and the occluder mask (or None)."""
    rng = np.random.RandomState([seed, 3, index])
    w, h = view.size
    Hv = view.H
    # Anti-alias according to the local scale at the panel centre.
    W, Hp = PANEL_SIZE
    c = np.array([(W - 1) / 2, (Hp - 1) / 2, 1.0])
    q = Hv @ c
    J = (Hv[:2, :2] * q[2] - np.outer(q[:2], Hv[2, :2])) / q[2] ** 2
    scale = math.sqrt(abs(np.linalg.det(J)))
    src = _antialiased(panel, scale)
    warped = cv2.warpPerspective(src, Hv, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cover = cv2.warpPerspective(
        np.ones((Hp, W), np.float32), Hv, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return _photograph(warped, cover, view.size, view.occluder, _panel_x_range(Hv, view.size), rng)


def _antialiased(panel: np.ndarray, scale: float) -> np.ndarray:
    """The panel as float32, blurred so that shrinking it by ``scale`` (view px per panel px) does not alias."""
    src = panel.astype(np.float32)
    if scale < 1:
        sigma = 0.45 * math.sqrt(1 / scale**2 - 1)
        src = cv2.GaussianBlur(src, (0, 0), sigma)
    return src


def _photograph(
    warped: np.ndarray,
    cover: np.ndarray,
    size: tuple[int, int],
    occluder: str | None,
    x_range: tuple[float, float],
    rng: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Everything a camera adds to the panel as it lands in the photo (whatever the wall's shape).

    Args:
        warped: (h, w, 3) float32 panel colours at every photo pixel; cover: (h, w) float32 0..1,
            where the panel is (elsewhere the plain wall shows).
        occluder: ``"pole"``, ``"bar"`` or None; x_range: columns the panel spans (see :func:`_draw_occluder`).
        rng: the view's random state (wall tint, occluder, lighting, noise, in this order).

    Returns:
        ``(h, w, 3)`` uint8 RGB photo and the occluder mask (alpha >= 0.5) or None.
    """
    w, h = size
    wall = np.empty((h, w, 3), np.float32)
    wall[:] = np.array([198, 192, 180], np.float32) + rng.uniform(-8, 8, 3)
    wall += 5 * _lowfreq(rng, (w, h), (4, 3))[..., None]
    a = cover[..., None]
    img = warped * a + wall * (1 - a)
    occ_mask = None
    if occluder is not None:
        oa, ocol = _draw_occluder(occluder, size, x_range, rng)
        img = img * (1 - oa[..., None]) + ocol * oa[..., None]
        occ_mask = oa >= 0.5
    # Lighting: side light gradient, gain, colour temperature, gamma, vignetting.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xn, yn = (xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)
    phi = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.05, 0.14) * (xn * math.cos(phi) + yn * math.sin(phi))
    temp = rng.uniform(-1, 1)
    gain = rng.uniform(0.86, 1.1) * np.array([1 + 0.07 * temp, 1 + 0.01 * temp, 1 - 0.08 * temp], np.float32)
    r2 = (xn**2 + yn**2) / 2
    vignette = 1 - rng.uniform(0.18, 0.32) * r2 - 0.08 * r2**2
    img = img * (light * vignette)[..., None] * gain
    gamma = rng.uniform(0.88, 1.12)
    img = 255.0 * np.power(np.clip(img, 0, 255) / 255.0, gamma)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 0.9))
    noise_sigma = rng.uniform(1.2, 2.2)
    luma_noise = rng.normal(0, noise_sigma, (h, w, 1)).astype(np.float32)
    img += luma_noise + rng.normal(0, noise_sigma * 0.5, (h, w, 3)).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), occ_mask
