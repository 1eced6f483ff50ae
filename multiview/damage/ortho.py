"""The orthophoto: one rectified image of the wall on the reference plane, mosaicked from every view.

Method, per output pixel (computed window by window, :meth:`Mosaic.window`):

* **Where it comes from.** Each registered view is sampled through its plane map
  (:class:`~multiview.damage.mapping.PlaneMap`, plane -> view) with bilinear interpolation,
  from a copy decoded at about the resolution needed (at most twice the orthophoto's, so
  distant pixels are not aliased).
* **Which view is best.** A view's quality is its resolution on the wall in the least
  resolved direction: the smaller singular value of the plane -> view Jacobian, in view
  pixels per orthophoto pixel. It falls with distance and with obliquity. Pixels the view's
  occlusion layer marks as hidden (scaffolding, a beam in front of the wall; computed by
  ``align``, ``Project.read_occlusion``) get no weight.
* **Seams.** A view's quality fades to zero over :data:`FEATHER` of its size towards its
  border (``q' = q * feather``); weights are ``(q' / q'_best) ** SHARPNESS``: the best view
  dominates, and where two views are of similar quality, or where the best one ends, they
  cross-fade smoothly instead of meeting at a hard seam.
* **Exposure.** Per-view, per-channel gains (:func:`exposure_gains`) equalise brightness and
  colour temperature between views, by least squares on the mean colours of pairwise overlaps
  with a prior pulling gains to 1: the gain compensation of Brown & Lowe, "Automatic panoramic
  image stitching using invariant features", IJCV 2007, section 6 (OpenCV's
  ``detail::GainCompensator`` uses the same criterion, on one channel).

Memory: a window holds a few float32 planes per view; decoded views are kept in an LRU cache
bounded by ``cache_mb``; windows are visited column band by column band, so along a wall
photographed left to right each view is decoded about once.

Convention: the output grid is a :class:`~multiview.damage.grid.PlaneGrid` (plane
coordinates = reference photo pixels); images are (h, w, 3) uint8 RGB, alpha (h, w) uint8
(255 = wall seen by some view, 0 = nothing).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ExportError
from .grid import PlaneGrid, plane_box
from .mapping import PlaneMap, local_resolution, view_occlusion

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

log = logging.getLogger(__name__)

#: Exponent of the quality ratio in the blending weights (higher = sharper hand-over).
SHARPNESS = 12.0
#: Fraction of a view's shorter side over which it fades out towards its border.
FEATHER = 0.2
#: Longer side of the low-resolution mosaic used to estimate the exposure gains.
GAIN_SIDE = 384
#: Prior standard deviation of a gain (Brown & Lowe use 0.1) relative to the intensity noise (10 levels).
GAIN_SIGMA = 0.1
INTENSITY_SIGMA = 10.0


def ortho_grid(
    project: Project, maps: dict[str, PlaneMap], step: float = 1.0, max_side: int | None = None
) -> PlaneGrid:
    """The output grid covering what the registered views see.

    Args:
        step: plane pixels per orthophoto pixel (1 = the reference photo's resolution).
        max_side: if given, the step grows so that the longer side is at most this.

    Raises:
        ExportError: no registered view maps onto the plane.
    """
    box = plane_box(maps.values(), project.reference.size)
    if box is None:
        raise ExportError("no registered view maps onto the reference plane; run `multiview align` first")
    if max_side is not None:
        step = max(step, max(box[2] - box[0], box[3] - box[1]) / max_side)
    return PlaneGrid.covering(*box, step=step)


@dataclass(frozen=True)
class _Sampled:
    rgb: np.ndarray  # (h, w, 3) float32
    quality: np.ndarray  # (h, w) float32, 0 where not seen
    feather: np.ndarray  # (h, w) float32 0..1


class Mosaic:
    """Orthophoto windows of a project on a grid.

    Args:
        project: the project.
        maps: view id -> plane map of the registered views.
        grid: the output grid.
        gains: view id -> (3,) RGB gain (default 1).
        cache_mb: bound on the decoded views kept in memory.
    """

    def __init__(
        self,
        project: Project,
        maps: dict[str, PlaneMap],
        grid: PlaneGrid,
        gains: dict[str, np.ndarray] | None = None,
        cache_mb: int = 1024,
    ) -> None:
        self.project = project
        self.maps = maps
        self.grid = grid
        self.gains = gains or {}
        self.cache_bytes = cache_mb * 2**20
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._occ = {vid: view_occlusion(project, m.view) for vid, m in maps.items()}
        self._decode_side = {vid: self._needed_side(m) for vid, m in maps.items()}
        self.decoded = 0

    def _needed_side(self, m: PlaneMap) -> int:
        """Longer side to decode a view at: about 2 view pixels per orthophoto pixel at most."""
        g = self.grid
        pts = m.plane_from_view(np.array([[m.view.width / 2, m.view.height / 2]]))[0]
        if not np.all(np.isfinite(pts)):
            return max(m.view.size)
        xs = pts[0] + g.step * np.array([-1.0, 0.0, 1.0])
        ys = pts[1] + g.step * np.array([-1.0, 0.0, 1.0])
        u, v = m.view_from_plane_grid(xs, ys)
        _, smax = local_resolution(u, v, g.step)
        s = float(smax[1, 1]) if np.isfinite(smax[1, 1]) else 1.0
        factor = min(1.0, 2.0 / max(s, 1e-6))
        return max(64, math.ceil(max(m.view.size) * factor))

    def _image(self, vid: str) -> np.ndarray:
        from ..loading import read_photo

        side = self._decode_side[vid]
        key = (vid, side)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        v = self.maps[vid].view
        img = read_photo(v.path, max_side=side if side < max(v.size) else None)
        self.decoded += 1
        self._cache[key] = img
        while sum(a.nbytes for a in self._cache.values()) > self.cache_bytes and len(self._cache) > 1:
            self._cache.popitem(last=False)
        return img

    def _sample(self, vid: str, xs: np.ndarray, ys: np.ndarray) -> _Sampled | None:
        import cv2

        m = self.maps[vid]
        v = m.view
        u, w = m.view_from_plane_grid(xs, ys)
        inside = (u >= -0.5) & (u <= v.width - 0.5) & (w >= -0.5) & (w <= v.height - 0.5)
        if not inside.any():
            return None
        img = self._image(vid)
        ih, iw = img.shape[:2]
        sx, sy = iw / v.width, ih / v.height
        ui = ((u + 0.5) * sx - 0.5).astype(np.float32)
        vi = ((w + 0.5) * sy - 0.5).astype(np.float32)
        ui[~inside] = -10
        vi[~inside] = -10
        rgb = cv2.remap(img, ui, vi, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        gain = self.gains.get(vid)
        if gain is not None:
            rgb *= np.asarray(gain, np.float32)[None, None, :]
        smin, _ = local_resolution(u, w, self.grid.step)
        q = np.where(inside & np.isfinite(smin), np.nan_to_num(smin), 0.0).astype(np.float32)
        occ = self._occ.get(vid)
        if occ is not None:
            ox, oy = v.work_width / v.width, v.work_height / v.height
            uo = ((u + 0.5) * ox - 0.5).astype(np.float32)
            vo = ((w + 0.5) * oy - 0.5).astype(np.float32)
            q[cv2.remap(occ.astype(np.float32), uo, vo, cv2.INTER_LINEAR) >= 0.5] = 0.0
        band = FEATHER * min(v.width, v.height)
        dist = np.minimum.reduce([u + 0.5, v.width - 0.5 - u, w + 0.5, v.height - 0.5 - w])
        feather = np.clip(np.nan_to_num(dist, nan=0.0) / band, 0.0, 1.0).astype(np.float32)
        return _Sampled(rgb, q, feather)

    def window(self, r0: int, c0: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """The orthophoto pixels of rows ``r0..r0+h-1``, columns ``c0..c0+w-1``.

        Returns:
            ``(rgb, alpha)``: (h, w, 3) uint8 and (h, w) uint8 (255 where some view sees the wall).
        """
        xs = self.grid.xs(c0, c0 + w)
        ys = self.grid.ys(r0, r0 + h)
        samples = [s for vid in self.maps if (s := self._sample(vid, xs, ys)) is not None]
        if not samples:
            return np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.uint8)
        eff = [s.quality * np.maximum(s.feather, 1e-3) for s in samples]
        qbest = np.max(eff, axis=0)
        num = np.zeros((h, w, 3), np.float32)
        den = np.zeros((h, w), np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            for s, e in zip(samples, eff):
                wgt = np.where(qbest > 0, e / qbest, 0.0) ** SHARPNESS
                wgt = wgt.astype(np.float32)
                wgt[s.quality <= 0] = 0.0
                num += wgt[..., None] * s.rgb
                den += wgt
            rgb = np.where(den[..., None] > 0, num / den[..., None], 0.0)
        alpha = np.where(den > 0, 255, 0).astype(np.uint8)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), alpha


def exposure_gains(project: Project, maps: dict[str, PlaneMap], grid: PlaneGrid) -> dict[str, np.ndarray]:
    """Per-view RGB gains equalising the views where they overlap (Brown & Lowe 2007, section 6).

    Minimises, per channel, ``sum_ij N_ij ((g_i m_ij - g_j m_ji)^2 / s_n^2 + (1 - g_i)^2 / s_g^2)``
    over pairs of views ``i, j`` that overlap in ``N_ij`` pixels of a low-resolution mosaic, where
    ``m_ij`` is view ``i``'s mean colour in the overlap (``s_n`` = :data:`INTENSITY_SIGMA`,
    ``s_g`` = :data:`GAIN_SIGMA`).

    Returns:
        view id -> (3,) float32 gains (all 1 with a single view).
    """
    ids = list(maps)
    if len(ids) < 2:
        return {i: np.ones(3, np.float32) for i in ids}
    step = max(grid.step, max(grid.width, grid.height) * grid.step / GAIN_SIDE)
    low = PlaneGrid.covering(
        grid.x0 - grid.step / 2,
        grid.y0 - grid.step / 2,
        grid.x0 + grid.step * (grid.width - 0.5),
        grid.y0 + grid.step * (grid.height - 0.5),
        step,
    )
    mos = Mosaic(project, maps, low)
    xs, ys = low.xs(), low.ys()
    samples = {}
    for vid in ids:
        s = mos._sample(vid, xs, ys)
        if s is not None:
            samples[vid] = (s.rgb, (s.quality > 0) & (s.feather > 0.5))
    n = len(ids)
    gains = {i: np.ones(3, np.float32) for i in ids}
    for ch in range(3):
        A = np.zeros((n, n))
        b = np.zeros(n)
        for a in range(n):
            for c in range(n):
                if a == c or ids[a] not in samples or ids[c] not in samples:
                    continue
                ra, ma = samples[ids[a]]
                rc, mc = samples[ids[c]]
                both = ma & mc
                N = float(np.count_nonzero(both))
                if N < 16:
                    continue
                Iab = float(ra[..., ch][both].mean())
                Iba = float(rc[..., ch][both].mean())
                # d/dg_a of the ordered pairs (a, c) and (c, a): the data term counts twice, the prior once
                A[a, a] += N * (2 * Iab * Iab / INTENSITY_SIGMA**2 + 1 / GAIN_SIGMA**2)
                A[a, c] -= N * 2 * Iab * Iba / INTENSITY_SIGMA**2
                b[a] += N / GAIN_SIGMA**2
        for a in range(n):
            if A[a, a] == 0:
                A[a, a], b[a] = 1.0, 1.0
        g = np.linalg.solve(A, b)
        for a, vid in enumerate(ids):
            gains[vid][ch] = float(np.clip(g[a], 0.25, 4.0))
    return gains
