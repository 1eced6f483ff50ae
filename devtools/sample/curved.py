"""A curved-wall sample: the painted panel on the inside of a cylinder (an apse), with exact truth.

Frescoes are painted on apses, vaults and niches, where one homography cannot map one photo
onto another. This module paints the same panel as the flat sample onto the *intrados* of a
vertical cylinder of radius ``radius_m`` (an apse: the camera is inside, the wall concave)
and photographs it with pinhole cameras moving along the wall. Nothing is approximated by a
plane or a mesh: every photo pixel centre is **ray-cast** onto the cylinder, so the photos,
the object masks and the point maps between photos are exact.

Geometry:
    World (wall) coordinates in metres, as the flat sample: ``x`` right, ``y`` down, ``z``
    into the wall. The cylinder's axis is the ``y`` axis; the wall is its half ``z > 0``:
    ``(R sin(phi), y, R cos(phi))``. The panel, ``PANEL_SIZE`` pixels of
    ``PANEL_METRES_PER_PIXEL`` metres, is laid on it by arc length: panel pixel ``(u, v)`` is at
    ``phi = (u - (W - 1) / 2) * m / R``, ``y = (v - (H - 1) / 2) * m``. With ``R = 2 m`` the
    2.4 m panel spans 68.75 degrees of arc. A camera ``K [R | t]`` has centre ``C`` and
    world-to-camera rotation ``R``.

Layout written by :func:`make_curved_sample` in ``out_dir`` (as the flat sample, with
``geometry.json`` instead of ``homographies.json``)::

    photos/IMG_0201.jpg ...                      the photos, nothing else
    ground_truth/panel.png                       the clean panel (RGB)
    ground_truth/panel_masks/<obj_id>.png        object masks on the panel
    ground_truth/masks/<obj_id>/<stem>.png       object masks in each photo (NOT cut by occluders)
    ground_truth/occluders/<stem>.png            occluder masks (occluded photos only)
    ground_truth/geometry.json                   cylinder, cameras, sizes, objects

Convention:
    Pixel ``(x, y)``, origin at the top-left of the pixel grid, pixel centres at integer
    coordinates (OpenCV). Sizes are ``(width, height)``; arrays ``(height, width[, channels])``.
    A photo mask pixel is true when the panel mask, sampled bilinearly (0/255) at the point the
    pixel centre's ray hits, is >= 128: the flat sample's rule.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devtools.sample.camera import _VIEW_SIZES, _look_at
from devtools.sample.errors import SampleExistsError, SampleFormatError, SampleValueError
from devtools.sample.panel import PANEL_METRES_PER_PIXEL, PANEL_SIZE, _render_panel
from devtools.sample.photo import _antialiased, _photograph
from devtools.sample.sequence import SAMPLE_OBJECTS, SampleObject
from devtools.sample.store import _clear_previous, _encode, _mask_png, _read_mask, _write_bytes

__all__ = ["CURVED_FORMAT_VERSION", "CurvedSequence", "Cylinder", "load_curved_sample", "make_curved_sample"]

logger = logging.getLogger("devtools.sample")

CURVED_FORMAT_VERSION = 1
_FIRST_PHOTO_NUMBER = 201
_JPEG_QUALITY = 90
#: Far outside any raster (cv2.remap source coordinate for "no wall here").
_FAR = -1.0e5


@dataclass(frozen=True)
class Cylinder:
    """The wall: the inside of a vertical cylinder, the panel laid on it by arc length.

    Attributes:
        radius_m: radius, metres (> 0).
    """

    radius_m: float

    @property
    def arc_deg(self) -> float:
        """Angle of arc the panel spans, degrees."""
        return math.degrees(PANEL_SIZE[0] * PANEL_METRES_PER_PIXEL / self.radius_m)

    def world_from_panel(self, uv: np.ndarray) -> np.ndarray:
        """(N, 2) panel pixels -> (N, 3) wall points, metres."""
        W, H = PANEL_SIZE
        uv = np.asarray(uv, np.float64).reshape(-1, 2)
        phi = (uv[:, 0] - (W - 1) / 2) * PANEL_METRES_PER_PIXEL / self.radius_m
        y = (uv[:, 1] - (H - 1) / 2) * PANEL_METRES_PER_PIXEL
        return np.stack([self.radius_m * np.sin(phi), y, self.radius_m * np.cos(phi)], 1)

    def panel_from_world(self, X: np.ndarray) -> np.ndarray:
        """(N, 3) wall points -> (N, 2) panel pixels (NaN rows stay NaN)."""
        W, H = PANEL_SIZE
        X = np.asarray(X, np.float64).reshape(-1, 3)
        phi = np.arctan2(X[:, 0], X[:, 2])
        u = phi * self.radius_m / PANEL_METRES_PER_PIXEL + (W - 1) / 2
        v = X[:, 1] / PANEL_METRES_PER_PIXEL + (H - 1) / 2
        return np.stack([u, v], 1)

    def hit(self, C: np.ndarray, d: np.ndarray) -> np.ndarray:
        """First point where rays ``C + t d`` (t > 0) meet the wall (the half ``z > 0``); NaN when none.

        Args:
            C: (3,) ray origin; d: (N, 3) directions.
        """
        a = d[:, 0] ** 2 + d[:, 2] ** 2
        b = 2 * (C[0] * d[:, 0] + C[2] * d[:, 2])
        c = C[0] ** 2 + C[2] ** 2 - self.radius_m**2
        disc = b * b - 4 * a * c
        ok = (disc >= 0) & (a > 0)
        sq = np.sqrt(np.where(ok, disc, 0.0))
        best = np.full(len(d), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            for sgn in (-1.0, 1.0):
                t = (-b + sgn * sq) / (2 * a)
                z = C[2] + t * d[:, 2]
                good = ok & (t > 1e-9) & (z > 0) & (t < best)
                best = np.where(good, t, best)
        out = np.full((len(d), 3), np.nan)
        found = np.isfinite(best)
        out[found] = C + best[found, None] * d[found]
        return out


@dataclass(frozen=True)
class _CurvedView:
    name: str
    size: tuple[int, int]
    K: np.ndarray
    R: np.ndarray
    C: np.ndarray
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    occluder: str | None


def _project(K: np.ndarray, R: np.ndarray, C: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(N, 3) world points -> (N, 2) pixels; NaN behind the camera."""
    xc = (np.asarray(X, np.float64) - C) @ R.T
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xc @ K.T
        uv = p[:, :2] / p[:, 2:3]
    uv[~(xc[:, 2] > 0)] = np.nan
    return uv


def _border(region: tuple[float, float, float, float], n: int = 24) -> np.ndarray:
    x0, y0, x1, y1 = region
    t = np.linspace(0.0, 1.0, n)
    return np.concatenate(
        [
            np.c_[x0 + (x1 - x0) * t, np.full(n, y0)],
            np.c_[x0 + (x1 - x0) * t, np.full(n, y1)],
            np.c_[np.full(n, x0), y0 + (y1 - y0) * t],
            np.c_[np.full(n, x1), y0 + (y1 - y0) * t],
        ]
    )


def _plan_curved_views(seed: int, n_views: int, wall: Cylinder, view_scale: float = 1.0) -> list[_CurvedView]:
    """Viewpoints along the wall, left to right (as the flat sample's, aimed at the curved panel)."""
    rng = np.random.RandomState([seed, 12])
    W, H = PANEL_SIZE
    middle = n_views // 2
    roles = {"crop": n_views - 2 if n_views >= 3 else -1, "pole": 1 if n_views >= 3 else -1}
    roles["bar"] = n_views - 1 if n_views >= 5 else -1
    roles = {k: v for k, v in roles.items() if v != middle}
    views = []
    for i in range(n_views):
        base = _VIEW_SIZES[i % len(_VIEW_SIZES)]
        size = (max(64, round(base[0] * view_scale)), max(64, round(base[1] * view_scale)))
        s = i / (n_views - 1) if n_views > 1 else 0.5
        yaw = -35.0 + 70.0 * s + rng.uniform(-3, 3)
        pitch = 6.0 * math.sin(math.pi * s) - 2.0 + rng.uniform(-2, 2)
        roll = rng.uniform(-4, 4)
        if i == roles.get("crop"):  # a close-up of the figure
            target = np.array([430.0, 470.0]) + rng.uniform(-15, 15, 2)
            region = (target[0] - 240, target[1] - 300, target[0] + 240, target[1] + 300)
            fill, zoom = rng.uniform(0.95, 1.05), 1.5
        else:
            target = np.array([(W - 1) / 2, (H - 1) / 2]) + rng.uniform(-40, 40, 2)
            region = (0.0, 0.0, W - 1.0, H - 1.0)
            fill, zoom = rng.uniform(0.88, 0.97), 1.0
        f = 0.9 * math.hypot(*size) * zoom
        cx = (size[0] - 1) / 2 + rng.uniform(-6, 6) * view_scale
        cy = (size[1] - 1) / 2 + rng.uniform(-6, 6) * view_scale
        K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]], np.float64)
        T = wall.world_from_panel(target[None])[0]
        yr, pr = math.radians(yaw), math.radians(pitch)
        fwd = np.array([-math.sin(yr) * math.cos(pr), -math.sin(pr), math.cos(yr) * math.cos(pr)])
        R = _look_at(fwd, math.radians(roll))
        edge = wall.world_from_panel(_border(region))
        d = 2.0
        for _ in range(10):  # step back until the region fills the wanted fraction of the frame
            uv = _project(K, R, T - d * fwd, edge)
            reach = max(
                np.nanmax(np.abs(uv[:, 0] - K[0, 2])) / (size[0] / 2),
                np.nanmax(np.abs(uv[:, 1] - K[1, 2])) / (size[1] / 2),
            )
            d *= reach / fill
        occ = next((k for k in ("pole", "bar") if roles.get(k) == i), None)
        name = f"IMG_{_FIRST_PHOTO_NUMBER + i:04d}.jpg"
        views.append(_CurvedView(name, size, K, R, T - d * fwd, yaw, pitch, roll, occ))
    return views


def _panel_map(view: _CurvedView, wall: Cylinder) -> np.ndarray:
    """(h, w, 2) float64 panel pixel seen at every photo pixel centre (NaN where the ray misses the wall)."""
    w, h = view.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = np.c_[xx.ravel(), yy.ravel(), np.ones(w * h)]
    rays = pts @ np.linalg.inv(view.K).T @ view.R  # R^T K^-1 p, as rows
    return wall.panel_from_world(wall.hit(view.C, rays)).reshape(h, w, 2)


def _remap_maps(uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.where(np.isfinite(uv[..., 0]), uv[..., 0], _FAR).astype(np.float32)
    v = np.where(np.isfinite(uv[..., 1]), uv[..., 1], _FAR).astype(np.float32)
    return u, v


def _sample_mask(panel_mask: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Photo mask: the panel mask sampled bilinearly (0/255) at every pixel's wall point, >= 128."""
    mu, mv = _remap_maps(uv)
    src = panel_mask.astype(np.uint8) * 255
    return cv2.remap(src, mu, mv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0) >= 128


def _render_curved_view(
    panel: np.ndarray, view: _CurvedView, wall: Cylinder, uv: np.ndarray, seed: int, index: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Photograph the curved panel (ray-cast panel map ``uv``): (h, w, 3) uint8 RGB and the occluder mask."""
    rng = np.random.RandomState([seed, 13, index])
    w, h = view.size
    # Anti-alias with the local scale at the photo centre (view px per panel px).
    c = np.array([[w / 2, h / 2], [w / 2 + 1, h / 2], [w / 2, h / 2 + 1]])
    rays = np.c_[c, np.ones(3)] @ np.linalg.inv(view.K).T @ view.R
    P = wall.panel_from_world(wall.hit(view.C, rays))
    det = abs(np.linalg.det(np.c_[P[1] - P[0], P[2] - P[0]]))
    scale = 1.0 / math.sqrt(det) if np.isfinite(det) and det > 0 else 1.0
    src = _antialiased(panel, scale)
    mu, mv = _remap_maps(uv)
    warped = cv2.remap(src, mu, mv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    W, Hp = PANEL_SIZE
    cover = cv2.remap(
        np.ones((Hp, W), np.float32), mu, mv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    cols = np.flatnonzero((cover >= 0.5).any(axis=0))
    x_range = (float(cols.min()), float(cols.max())) if len(cols) else (0.0, float(w - 1))
    return _photograph(warped, cover, view.size, view.occluder, x_range, rng)


@dataclass(frozen=True, eq=False)
class CurvedSequence:
    """A curved-wall sample on disk, with exact ground truth (same methods as the flat ``SampleSequence``).

    Attributes:
        photos_dir: folder holding the photos (and nothing else).
        panel_size: ``(width, height)`` of the panel, pixels.
        wall: the cylinder.
        cameras: photo file name -> ``{"K", "R", "C"}`` (3x3, 3x3, (3,) float64), in wall order.
        objects: the painted objects.
        panel_masks: object id -> ``(H_panel, W_panel)`` bool.
        view_sizes: photo file name -> ``(width, height)``.
        occluder_masks: photo file name -> ``(h, w)`` bool, occluded photos only.
        ground_truth_dir: folder of ``panel.png``, the masks and ``geometry.json``.
    """

    photos_dir: Path
    panel_size: tuple[int, int]
    wall: Cylinder
    cameras: dict[str, dict[str, np.ndarray]]
    objects: tuple[SampleObject, ...]
    panel_masks: dict[int, np.ndarray]
    view_sizes: dict[str, tuple[int, int]]
    occluder_masks: dict[str, np.ndarray]
    ground_truth_dir: Path

    @property
    def view_names(self) -> list[str]:
        """Photo file names in wall order (= file-name order)."""
        return list(self.cameras)

    def _check(self, name: str) -> None:
        if name not in self.cameras:
            raise SampleValueError(f"unknown photo {name!r}; known photos: {', '.join(self.cameras)}")

    def photo_path(self, name: str) -> Path:
        self._check(name)
        return self.photos_dir / name

    def read_photo(self, name: str) -> np.ndarray:
        """``(h, w, 3)`` uint8 RGB photo."""
        img = cv2.imread(str(self.photo_path(name)), cv2.IMREAD_COLOR)
        if img is None:
            raise SampleFormatError(f"cannot read photo {self.photo_path(name)}; regenerate the sample")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def read_panel(self) -> np.ndarray:
        """``(H_panel, W_panel, 3)`` uint8 RGB clean panel."""
        img = cv2.imread(str(self.ground_truth_dir / "panel.png"), cv2.IMREAD_COLOR)
        if img is None:
            raise SampleFormatError(f"cannot read {self.ground_truth_dir / 'panel.png'}; regenerate the sample")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def panel_from_view(self, name: str, points: np.ndarray) -> np.ndarray:
        """(N, 2) photo pixels -> (N, 2) panel pixels where their rays meet the wall (NaN: no wall)."""
        self._check(name)
        cam = self.cameras[name]
        p = np.asarray(points, np.float64).reshape(-1, 2)
        rays = np.c_[p, np.ones(len(p))] @ np.linalg.inv(cam["K"]).T @ cam["R"]
        return self.wall.panel_from_world(self.wall.hit(cam["C"], rays))

    def view_from_panel(self, name: str, points: np.ndarray) -> np.ndarray:
        """(N, 2) panel pixels -> (N, 2) photo pixels (NaN behind the camera; not clipped to the photo)."""
        self._check(name)
        cam = self.cameras[name]
        return _project(cam["K"], cam["R"], cam["C"], self.wall.world_from_panel(points))

    def view_from_view(self, dst: str, src: str, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixels of photo ``src`` -> pixels of photo ``dst`` through the wall (the exact map)."""
        q = self.panel_from_view(src, points)
        out = np.full_like(q, np.nan)
        ok = np.all(np.isfinite(q), axis=1)
        out[ok] = self.view_from_panel(dst, q[ok])
        return out

    def view_mask(self, name: str, obj_id: int) -> np.ndarray:
        """``(h, w)`` bool mask of an object in a photo (ray-cast; not cut by the occluder)."""
        self._check(name)
        if obj_id not in self.panel_masks:
            raise SampleValueError(f"unknown object id {obj_id!r}; known ids: {sorted(self.panel_masks)}")
        return _sample_mask(self.panel_masks[obj_id], self._uv(name))

    def panel_coverage(self, name: str) -> np.ndarray:
        """``(h, w)`` bool: where the panel is in the photo (occluders ignored)."""
        W, H = self.panel_size
        return _sample_mask(np.ones((H, W), bool), self._uv(name))

    def occluder_mask(self, name: str) -> np.ndarray:
        """``(h, w)`` bool occluder mask; all False when the photo has none."""
        self._check(name)
        if name in self.occluder_masks:
            return self.occluder_masks[name].copy()
        w, h = self.view_sizes[name]
        return np.zeros((h, w), bool)

    def _uv(self, name: str) -> np.ndarray:
        cam = self.cameras[name]
        v = _CurvedView(name, self.view_sizes[name], cam["K"], cam["R"], cam["C"], 0, 0, 0, None)
        return _panel_map(v, self.wall)


def _check_args(seed: object, n_views: object, radius_m: object, view_scale: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise SampleValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if isinstance(n_views, bool) or not isinstance(n_views, (int, np.integer)) or not 2 <= int(n_views) <= 50:
        raise SampleValueError(f"n_views must be an integer between 2 and 50, got {n_views!r}")
    arc_min = PANEL_SIZE[0] * PANEL_METRES_PER_PIXEL / math.pi  # at most 180 degrees of arc
    if not isinstance(radius_m, (int, float)) or not math.isfinite(radius_m) or not radius_m >= arc_min:
        raise SampleValueError(
            f"radius_m must be a number >= {arc_min:.3f} (the panel may span at most 180 degrees), got {radius_m!r}"
        )
    if not isinstance(view_scale, (int, float)) or not 0.1 <= view_scale <= 4:
        raise SampleValueError(f"view_scale must be between 0.1 and 4, got {view_scale!r}")


def make_curved_sample(
    out_dir: Path,
    *,
    seed: int = 0,
    n_views: int = 6,
    radius_m: float = 2.0,
    view_scale: float = 1.0,
    overwrite: bool = False,
) -> CurvedSequence:
    """Render the curved-wall sample (the painted panel on an apse's intrados) into ``out_dir``.

    The panel is the flat sample's (same seed, same painting) laid on a vertical cylinder of
    radius ``radius_m`` seen from inside, photographed ``n_views`` times by a camera moving
    from left to right (yaw -35 to +35 degrees, tilt, roll, mixed photo sizes): for
    ``n_views >= 3`` view ``n_views - 2`` is a close-up of the figure and view 1 has a
    scaffolding pole in front of the wall; for ``n_views >= 5`` the last has a dark beam. The
    middle view (the default reference of ``multiview init``) is clean. Lighting, vignetting,
    blur, noise and JPEG 90 as the flat sample.

    Every file is written atomically and ``geometry.json`` last, so a folder with it holds a
    complete sample. Deterministic for a seed (byte-identical with the same numpy/OpenCV).

    Args:
        out_dir: output folder (created); photos in ``out_dir/photos``, truth in ``out_dir/ground_truth``.
        seed: random seed, 0 <= seed < 2**32.
        n_views: number of photos, 2..50.
        radius_m: cylinder radius, metres; the panel spans ``2.4 / radius_m`` radians (68.75 degrees
            at 2 m; at least 0.764 m: 180 degrees).
        view_scale: photo sizes times this (small scenes for tests), 0.1..4.
        overwrite: replace a previous sample's files in a non-empty ``out_dir`` (others are kept).

    Returns:
        The :class:`CurvedSequence` (same as :func:`load_curved_sample` of ``out_dir``).

    Raises:
        SampleExistsError: ``out_dir`` is not empty and ``overwrite`` is False.
        SampleValueError: a bad argument.
    """
    _check_args(seed, n_views, radius_m, view_scale)
    seed, n_views, radius_m, view_scale = int(seed), int(n_views), float(radius_m), float(view_scale)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SampleExistsError(f"{out_dir} exists and is not a folder; choose another output folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise SampleExistsError(
                f"{out_dir} is not empty; choose an empty or new folder, "
                "or pass overwrite=True (--overwrite) to replace it"
            )
        _clear_previous(out_dir, meta_name="geometry.json")
    t0 = time.perf_counter()
    wall = Cylinder(radius_m)
    panel, panel_masks = _render_panel(seed)
    views = _plan_curved_views(seed, n_views, wall, view_scale)
    photos_dir, gt = out_dir / "photos", out_dir / "ground_truth"
    photos_dir.mkdir(parents=True, exist_ok=True)
    panel_params = [cv2.IMWRITE_PNG_COMPRESSION, 6, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_FILTERED]
    _write_bytes(gt / "panel.png", _encode(".png", panel, panel_params))
    for obj in SAMPLE_OBJECTS:
        _write_bytes(gt / "panel_masks" / f"{obj.id}.png", _mask_png(panel_masks[obj.id]))
    occluders: dict[str, np.ndarray] = {}
    for i, v in enumerate(views):
        uv = _panel_map(v, wall)
        photo, occ = _render_curved_view(panel, v, wall, uv, seed, i)
        _write_bytes(photos_dir / v.name, _encode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]))
        stem = Path(v.name).stem
        if occ is not None:
            occluders[v.name] = occ
            _write_bytes(gt / "occluders" / f"{stem}.png", _mask_png(occ))
        for obj in SAMPLE_OBJECTS:
            _write_bytes(gt / "masks" / str(obj.id) / f"{stem}.png", _mask_png(_sample_mask(panel_masks[obj.id], uv)))
    meta = {
        "format_version": CURVED_FORMAT_VERSION,
        "generator": "devtools.sample.make_curved_sample",
        "seed": seed,
        "surface": {
            "kind": "cylinder intrados (apse)",
            "radius_m": radius_m,
            "axis": "world y (vertical, down); wall = the half z > 0",
            "arc_deg": round(wall.arc_deg, 4),
            "panel_on_surface": "phi = (u - (W-1)/2) * m / R, y = (v - (H-1)/2) * m; point (R sin phi, y, R cos phi)",
        },
        "pixel_convention": "x right, y down, origin at the top-left of the pixel grid, pixel centres at integers",
        "mask_convention": "photo pixel true when the panel mask sampled bilinearly (0/255) at its ray's wall point "
        ">= 128; not cut by occluders",
        "panel_size": list(PANEL_SIZE),
        "panel_metres_per_pixel": PANEL_METRES_PER_PIXEL,
        "photos_dir": "photos",
        "view_sizes": {v.name: list(v.size) for v in views},
        "occluders": {v.name: f"occluders/{Path(v.name).stem}.png" for v in views if v.occluder},
        "objects": [{"id": o.id, "name": o.name} for o in SAMPLE_OBJECTS],
        "cameras": {
            v.name: {
                "K": v.K.tolist(),
                "R_cam_from_wall": v.R.tolist(),
                "centre_wall_m": v.C.tolist(),
                "yaw_deg": round(v.yaw_deg, 3),
                "pitch_deg": round(v.pitch_deg, 3),
                "roll_deg": round(v.roll_deg, 3),
                "occluder": v.occluder,
            }
            for v in views
        },
    }
    _write_bytes(gt / "geometry.json", (json.dumps(meta, indent=1) + "\n").encode("utf-8"))
    logger.debug("curved sample: %d views in %.2f s", n_views, time.perf_counter() - t0)
    return load_curved_sample(out_dir)


def load_curved_sample(out_dir: Path) -> CurvedSequence:
    """Read a sample written by :func:`make_curved_sample`.

    Raises:
        SampleFormatError: not a curved sample, or a file is missing or unreadable.
    """
    out_dir = Path(out_dir)
    gt = out_dir / "ground_truth"
    meta_path = gt / "geometry.json"
    if not meta_path.is_file():
        raise SampleFormatError(
            f"{out_dir} is not a curved sample folder: {meta_path} is missing; make one with make_curved_sample"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        pw, ph = (int(v) for v in meta["panel_size"])
        wall = Cylinder(float(meta["surface"]["radius_m"]))
        objects = tuple(SampleObject(int(o["id"]), str(o["name"])) for o in meta["objects"])
        cameras = {
            name: {
                "K": np.asarray(c["K"], np.float64).reshape(3, 3),
                "R": np.asarray(c["R_cam_from_wall"], np.float64).reshape(3, 3),
                "C": np.asarray(c["centre_wall_m"], np.float64).reshape(3),
            }
            for name, c in sorted(meta["cameras"].items())
        }
        sizes = {name: (int(meta["view_sizes"][name][0]), int(meta["view_sizes"][name][1])) for name in cameras}
        occ_files = dict(meta.get("occluders", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise SampleFormatError(f"{meta_path} is not a valid curved sample ({exc}); regenerate the sample") from exc
    panel_masks = {o.id: _read_mask(gt / "panel_masks" / f"{o.id}.png", (ph, pw)) for o in objects}
    occluders = {
        name: _read_mask(gt / rel, (sizes[name][1], sizes[name][0])) for name, rel in occ_files.items() if name in sizes
    }
    return CurvedSequence(
        photos_dir=out_dir / meta.get("photos_dir", "photos"),
        panel_size=(pw, ph),
        wall=wall,
        cameras=cameras,
        objects=objects,
        panel_masks=panel_masks,
        view_sizes=sizes,
        occluder_masks=occluders,
        ground_truth_dir=gt,
    )
