"""Small helpers shared by the tests (import as ``from helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def textured(width: int, height: int, seed: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB image with smooth colour blobs and fine texture."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    img += rng.integers(-20, 21, size=img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_rgb(path: Path, rgb: np.ndarray, params: list[int] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params or [])
    if not ok:
        raise OSError(path)
    return path


def camera_h(yaw_deg: float, distance: float = 3.0, f: float = 900.0, size=(800, 600)) -> np.ndarray:
    """``H_view_from_wall`` of a pinhole camera looking at the wall point (0, 0) from ``yaw_deg``.

    Wall coordinates in metres (the z = 0 plane), camera ``distance`` metres away,
    focal length ``f`` pixels, principal point at the centre of a ``size = (w, h)`` photo.
    ``camera_h(b) @ inv(camera_h(a))`` is ``H_b_from_a`` between two such views.
    """
    import math

    yaw = math.radians(yaw_deg)
    centre = np.array([-distance * math.sin(yaw), 0.0, -distance * math.cos(yaw)])
    fwd = -centre / np.linalg.norm(centre)
    right = np.cross([0.0, 1.0, 0.0], fwd)
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    R = np.stack([right, down, fwd])  # rows: camera axes in wall coordinates
    t = -R @ centre
    K = np.array([[f, 0, (size[0] - 1) / 2], [0, f, (size[1] - 1) / 2], [0, 0, 1.0]])
    return K @ np.column_stack([R[:, 0], R[:, 1], t])


def failing(code: int):
    """Replacements of the atomic writers that fail with ``code`` while writing (after the temp exists)."""
    import contextlib
    import os

    from multiview import atomic

    real_replacing, real_staged = atomic.replacing, atomic.staged_dir

    @contextlib.contextmanager
    def replacing(path, lock=True):
        with real_replacing(path, lock=lock) as tmp:
            raise OSError(code, os.strerror(code), str(tmp))
            yield tmp  # pragma: no cover

    @contextlib.contextmanager
    def staged_dir(final, *, overwrite=False):
        with real_staged(final, overwrite=overwrite) as tmp:
            raise OSError(code, os.strerror(code), str(tmp / "masks.h5"))
            yield tmp  # pragma: no cover

    return replacing, staged_dir
