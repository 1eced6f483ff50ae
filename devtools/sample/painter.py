"""Painting helpers for the fresco panel: smooth random fields, brush fills, sub-pixel drawing.

Convention:
    Sizes are ``(width, height)``; arrays are ``(height, width[, channels])``.
    The canvas is ``float32`` RGB with values in ``0..255``.  Points drawn with
    :func:`_pt` / :func:`_poly` are for OpenCV calls with ``shift=4``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def _lowfreq(rng: np.random.RandomState, size: tuple[int, int], grid: tuple[int, int], channels: int = 1) -> np.ndarray:
    """Smooth random field, ``(h, w)`` or ``(h, w, c)`` float32, roughly unit std.

    ``size`` is ``(width, height)``; ``grid`` is the ``(gx, gy)`` number of random
    control values, upsampled bicubically.
    """
    w, h = size
    gx, gy = grid
    coarse = rng.standard_normal((gy, gx, channels)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    if channels == 1:
        field = field.reshape(h, w)
    return field


def _bbox(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """Bounding box (rows, cols slices) of ``mask`` grown by ``margin`` pixels, or None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


class _Painter:
    """Paints on a float32 RGB canvas ``(H, W, 3)`` with values in 0..255."""

    def __init__(self, rng: np.random.RandomState, size: tuple[int, int]):
        self.rng = rng
        self.w, self.h = size
        self.canvas = np.zeros((self.h, self.w, 3), np.float32)
        # Shared noise that makes painted edges wobble like a brush.
        self.edge_noise = _lowfreq(rng, size, (self.w // 14, self.h // 14)) + 0.5 * _lowfreq(
            rng, size, (self.w // 5, self.h // 5)
        )

    def layer(self) -> np.ndarray:
        return np.zeros((self.h, self.w), np.uint8)

    def painterly(self, mask: np.ndarray, sigma: float = 2.5, amp: float = 0.3) -> np.ndarray:
        """Give a crisp drawn ``(H, W)`` mask (bool or 0/255) an irregular, brush-like edge."""
        m = mask > 0
        box = _bbox(m, int(4 * sigma + 6))
        out = np.zeros_like(m)
        if box is None:
            return out
        sub = cv2.GaussianBlur(m[box].astype(np.float32), (0, 0), sigma)
        out[box] = (sub + amp * self.edge_noise[box] * 0.5) > 0.5
        return out

    def fill(
        self,
        mask: np.ndarray,
        colour: tuple[float, float, float],
        *,
        var: float = 8.0,
        strokes: float = 6.0,
        jitter: float = 10.0,
        angle: float | None = None,
        opacity: float = 1.0,
        soft: float = 0.8,
    ) -> None:
        """Paint ``colour`` (RGB) inside ``mask`` with colour variation and brush strokes.

        ``strokes`` is the number of strokes per 10 000 pixels of the bounding box.
        The strokes never leave ``mask`` (they are part of the fill texture).
        """
        m = mask > 0
        box = _bbox(m, 3)
        if box is None:
            return
        rng = self.rng
        bh = box[0].stop - box[0].start
        bw = box[1].stop - box[1].start
        tex = np.empty((bh, bw, 3), np.float32)
        tex[:] = np.asarray(colour, np.float32)
        if var > 0:
            grid = (max(bw // 60, 2), max(bh // 60, 2))
            tex += 0.3 * var * _lowfreq(rng, (bw, bh), grid, 3)  # slight hue changes
            tex += var * _lowfreq(rng, (bw, bh), grid)[..., None] * np.array([1.0, 0.95, 0.85], np.float32)
        n = int(strokes * bw * bh / 10000.0)
        if n > 0:
            stroked = np.clip(tex, 0, 255).astype(np.uint8)
            xs = rng.uniform(0, bw, n)
            ys = rng.uniform(0, bh, n)
            base = rng.uniform(0, math.pi) if angle is None else angle
            angs = base + rng.normal(0, 0.45, n)
            lens = rng.uniform(6, 26, n)
            thick = rng.randint(2, 6, n)
            cols = tex[ys.astype(int), xs.astype(int)] + rng.normal(0, jitter, (n, 1))
            cols = cols + rng.normal(0, jitter * 0.4, (n, 3))
            cols = np.clip(cols, 0, 255)
            x2 = xs + lens * np.cos(angs)
            y2 = ys + lens * np.sin(angs)
            for i in range(n):
                cv2.line(
                    stroked,
                    (int(xs[i] * 16), int(ys[i] * 16)),
                    (int(x2[i] * 16), int(y2[i] * 16)),
                    tuple(float(c) for c in cols[i]),
                    int(thick[i]),
                    cv2.LINE_AA,
                    4,
                )
            tex = tex * 0.45 + stroked.astype(np.float32) * 0.55
        alpha = m[box].astype(np.float32)
        if soft > 0:
            alpha = cv2.GaussianBlur(alpha, (0, 0), soft)
        alpha = (alpha * opacity)[..., None]
        roi = self.canvas[box]
        roi *= 1.0 - alpha
        roi += tex * alpha

    def blend(self, alpha: np.ndarray, colour: tuple[float, float, float] | np.ndarray) -> None:
        """Blend towards ``colour`` with per-pixel ``alpha`` ``(H, W)`` float in 0..1."""
        box = _bbox(alpha > 0, 0)
        if box is None:
            return
        a = alpha[box][..., None].astype(np.float32)
        roi = self.canvas[box]
        roi *= 1.0 - a
        roi += a * np.asarray(colour, np.float32)

    def line_layer(self, draw) -> np.ndarray:
        """Run ``draw(layer)`` on a fresh uint8 layer, return it as alpha in 0..1."""
        lay = self.layer()
        draw(lay)
        return lay.astype(np.float32) / 255.0


def _pt(x: float, y: float) -> tuple[int, int]:
    """Sub-pixel point for cv2 drawing with ``shift=4``."""
    return (round(x * 16), round(y * 16))


def _poly(points) -> np.ndarray:
    return (np.asarray(points, np.float64) * 16).round().astype(np.int32).reshape(-1, 1, 2)
