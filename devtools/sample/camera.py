"""Pinhole cameras moving along the wall and their homographies ``H_view_from_panel``.

Convention:
    World (wall) coordinates in metres: ``x`` right, ``y`` down, the panel in
    the plane ``z = 0`` centred on the origin.  ``R`` is the world-to-camera
    rotation, ``C`` the camera centre.  ``H_view_from_panel = K [r1 r2 t] S``
    (``S`` maps panel pixels to wall metres), normalised to ``H[2, 2] == 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devtools.sample.panel import PANEL_METRES_PER_PIXEL, PANEL_SIZE

_FIRST_PHOTO_NUMBER = 101
_VIEW_SIZES: tuple[tuple[int, int], ...] = (
    (800, 600),
    (640, 480),
    (720, 540),
    (600, 800),  # portrait
    (800, 600),
    (768, 576),
)


def _look_at(forward: np.ndarray, roll: float) -> np.ndarray:
    """World-to-camera rotation for a camera looking along ``forward`` (world y is down)."""
    z = forward / np.linalg.norm(forward)
    x = np.cross(np.array([0.0, 1.0, 0.0]), z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c, s = math.cos(roll), math.sin(roll)
    return np.stack([c * x + s * y, -s * x + c * y, z])


def _panel_to_world() -> np.ndarray:
    """``(3, 3)`` map from homogeneous panel pixels to wall coordinates (X, Y, 1) in metres."""
    w, h = PANEL_SIZE
    m = PANEL_METRES_PER_PIXEL
    return np.array([[m, 0, -m * (w - 1) / 2], [0, m, -m * (h - 1) / 2], [0, 0, 1]], np.float64)


def _homography(K: np.ndarray, R: np.ndarray, C: np.ndarray) -> np.ndarray:
    t = -R @ C
    Hw = K @ np.column_stack([R[:, 0], R[:, 1], t])
    Hm = Hw @ _panel_to_world()
    return Hm / Hm[2, 2]


def _fill_factor(
    H: np.ndarray, size: tuple[int, int], K: np.ndarray, region: tuple[float, float, float, float]
) -> float:
    """How far the corners of panel ``region`` ``(x0, y0, x1, y1)`` reach in the view, as a fraction of
    the half image size around the principal point (1 = touches an image edge)."""
    x0, y0, x1, y1 = region
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], np.float64)
    proj = corners @ H.T
    uv = proj[:, :2] / proj[:, 2:3]
    fx = np.abs(uv[:, 0] - K[0, 2]).max() / (size[0] / 2)
    fy = np.abs(uv[:, 1] - K[1, 2]).max() / (size[1] / 2)
    return float(max(fx, fy))


@dataclass(frozen=True)
class _View:
    name: str
    size: tuple[int, int]
    K: np.ndarray
    R: np.ndarray
    C: np.ndarray
    H: np.ndarray
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    occluder: str | None


def _view_roles(n_views: int) -> dict[str, int]:
    """Which view is the close-up (``"crop"``) and which have an occluder (``"pole"``, ``"bar"``).

    The middle view ``n_views // 2`` (the default reference of ``multiview init``)
    always stays a clean view of the whole panel.
    """
    middle = n_views // 2
    wanted = (  # role, smallest n_views, preferred indices
        ("crop", 3, (n_views - 2, n_views - 1)),
        ("pole", 3, (1, 0)),
        ("bar", 5, (n_views - 1,)),
    )
    roles: dict[str, int] = {}
    for role, min_views, prefs in wanted:
        if n_views < min_views:
            continue
        for i in prefs:
            if 0 <= i < n_views and i != middle and i not in roles.values():
                roles[role] = i
                break
    return roles


def _plan_views(seed: int, n_views: int) -> list[_View]:
    """Viewpoints along the wall, left to right, and their homographies."""
    rng = np.random.RandomState([seed, 2])
    W, H = PANEL_SIZE
    roles = _view_roles(n_views)
    crop = roles.get("crop")
    occluded = {i: kind for kind, i in roles.items() if kind in ("pole", "bar")}
    views = []
    for i in range(n_views):
        size = _VIEW_SIZES[i % len(_VIEW_SIZES)]
        s = i / (n_views - 1) if n_views > 1 else 0.5
        yaw = -35.0 + 70.0 * s + rng.uniform(-3, 3)
        pitch = 6.0 * math.sin(math.pi * s) - 2.0 + rng.uniform(-2, 2)  # camera slightly below, tilted up
        roll = rng.uniform(-4, 4)
        if i == crop:  # a close-up of the figure: the panel edges are all out of the frame
            target = np.array([430.0, 470.0]) + rng.uniform(-15, 15, 2)
            region = (target[0] - 240, target[1] - 300, target[0] + 240, target[1] + 300)
            fill = rng.uniform(0.95, 1.05)
            zoom = 1.5
        else:
            target = np.array([(W - 1) / 2, (H - 1) / 2]) + rng.uniform(-40, 40, 2)
            region = (0.0, 0.0, W - 1.0, H - 1.0)
            fill = rng.uniform(0.88, 0.97)
            zoom = 1.0
        f = 0.9 * math.hypot(*size) * zoom
        cx = (size[0] - 1) / 2 + rng.uniform(-6, 6)
        cy = (size[1] - 1) / 2 + rng.uniform(-6, 6)
        K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]], np.float64)
        T = _panel_to_world() @ np.array([target[0], target[1], 1.0])
        T = np.array([T[0], T[1], 0.0])
        yr, pr = math.radians(yaw), math.radians(pitch)
        forward = np.array([-math.sin(yr) * math.cos(pr), -math.sin(pr), math.cos(yr) * math.cos(pr)])
        R = _look_at(forward, math.radians(roll))
        d = 3.0
        for _ in range(6):  # move the camera until the panel fills the wanted fraction of the frame
            C = T - d * forward / np.linalg.norm(forward)
            Hv = _homography(K, R, C)
            d *= _fill_factor(Hv, size, K, region) / fill
        C = T - d * forward / np.linalg.norm(forward)
        Hv = _homography(K, R, C)
        name = f"IMG_{_FIRST_PHOTO_NUMBER + i:04d}.jpg"
        views.append(_View(name, size, K, R, C, Hv, yaw, pitch, roll, occluded.get(i)))
    return views
