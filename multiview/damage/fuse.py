"""An object's masks from every view that sees it, fused on the reference plane.

Each registered view with a stored result votes on every plane pixel it sees with its soft
mask (bilinear interpolation of the working-geometry probability, never nearest on a binary
mask), weighted by its resolution on the wall there (the smaller singular value of the
plane -> working-copy Jacobian, so oblique and distant views count less). Pixels a tracker
marked unknown (``MaskResult.valid``) or that the view's occlusion layer marks as hidden
(``Project.read_occlusion``, when the project has one) do not vote. A plane pixel is object
when the weighted mean probability is at least 0.5. So an object outside the reference photo
still gets its outline from the views that see it.

The grid covers the union of the object's boxes mapped from each view, at the reference
photo's resolution (``step`` 1) unless that exceeds ``max_pixels``; rows are processed in
bands of :data:`BAND_ROWS`, so temporary memory stays bounded.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .grid import PlaneGrid, plane_box
from .mapping import PlaneMap, local_resolution, view_occlusion

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project

log = logging.getLogger(__name__)

#: Rows of the plane grid processed at once.
BAND_ROWS = 512
#: Largest fused grid, pixels; larger objects are fused at a coarser step.
MAX_PIXELS = 64_000_000


@dataclass(frozen=True, eq=False)
class FusedMask:
    """One object's mask on the reference plane.

    Attributes:
        obj_id: the object.
        grid: where the mask lies on the plane.
        mask: (grid.height, grid.width) bool, True = object.
        views: ids of the views whose masks contributed object pixels, pseudo-video order.
    """

    obj_id: int
    grid: PlaneGrid
    mask: np.ndarray
    views: tuple[str, ...]

    @property
    def area_ref_px(self) -> float:
        """Area in reference-plane pixels (pixel count times ``step²``)."""
        return float(np.count_nonzero(self.mask)) * self.grid.step**2


def _box(result: MaskResult) -> tuple[float, float, float, float] | None:
    """Box of ``prob >= 128`` in original view pixels (corner coordinates), or None when empty."""
    m = result.prob >= 128
    if result.valid is not None:
        m &= result.valid
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return float(cols[0]) - 0.5, float(rows[0]) - 0.5, float(cols[-1]) + 0.5, float(rows[-1]) + 0.5


def fuse_object(
    project: Project,
    obj_id: int,
    maps: dict[str, PlaneMap],
    *,
    max_pixels: int = MAX_PIXELS,
) -> FusedMask | None:
    """Fuse object ``obj_id``'s stored results of every registered view on the reference plane.

    Args:
        maps: view id -> plane map (from :func:`multiview.damage.mapping.plane_maps`); views
            missing here are not registered and do not vote.
        max_pixels: bound on the fused grid's size.

    Returns:
        The fused mask, or None when no registered view has a non-empty result for the object.
    """
    import cv2

    results: dict[str, MaskResult] = {}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for vid, m in maps.items():
        r = project.read_result(obj_id, vid)
        if r is None:
            continue
        results[vid] = r
        b = _box(r)
        if b is not None:
            sx, sy = m.view.width / m.view.work_width, m.view.height / m.view.work_height
            boxes[vid] = (
                (b[0] + 0.5) * sx - 0.5,
                (b[1] + 0.5) * sy - 0.5,
                (b[2] + 0.5) * sx - 0.5,
                (b[3] + 0.5) * sy - 0.5,
            )
    if not boxes:
        return None
    box = plane_box([maps[v] for v in boxes], project.reference.size, boxes)
    if box is None:
        return None
    pad = 2.0
    box = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    area = (box[2] - box[0]) * (box[3] - box[1])
    step = max(1.0, math.sqrt(area / max_pixels))
    grid = PlaneGrid.covering(*box, step=step)
    mask = np.zeros(grid.shape, dtype=bool)
    contributed: set[str] = set()
    occlusion = {vid: view_occlusion(project, maps[vid].view) for vid in results}
    xs = grid.xs()
    for r0 in range(0, grid.height, BAND_ROWS):
        ys = grid.ys(r0, min(grid.height, r0 + BAND_ROWS))
        num = np.zeros((len(ys), len(xs)), np.float32)
        den = np.zeros_like(num)
        for vid, r in results.items():
            m = maps[vid]
            v = m.view
            u, w = m.view_from_plane_grid(xs, ys)
            # original -> working pixels (pixel centres at integers)
            sx, sy = v.work_width / v.width, v.work_height / v.height
            uw = (u + 0.5) * sx - 0.5
            vw = (w + 0.5) * sy - 0.5
            inside = (uw >= -0.5) & (uw <= v.work_width - 0.5) & (vw >= -0.5) & (vw <= v.work_height - 0.5)
            if not inside.any():
                continue
            uw = np.where(inside, uw, -1).astype(np.float32)
            vw = np.where(inside, vw, -1).astype(np.float32)
            prob = cv2.remap(
                r.prob.astype(np.float32) / 255.0, uw, vw, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            known = inside
            if r.valid is not None:
                known &= cv2.remap(r.valid.astype(np.float32), uw, vw, cv2.INTER_LINEAR) >= 0.5
            occ = occlusion[vid]
            if occ is not None:
                known &= cv2.remap(occ.astype(np.float32), uw, vw, cv2.INTER_LINEAR) < 0.5
            res, _ = local_resolution(uw, vw, grid.step)
            wgt = np.where(known & np.isfinite(res), np.nan_to_num(res), 0.0).astype(np.float32)
            num += wgt * prob
            den += wgt
            if vid in boxes and np.any(known & (prob >= 0.5)):
                contributed.add(vid)
        with np.errstate(invalid="ignore", divide="ignore"):
            mask[r0 : r0 + len(ys)] = (den > 0) & (num >= 0.5 * den)
    if not mask.any():
        return None
    order = [v.id for v in project.views]
    return FusedMask(obj_id, grid, mask, tuple(v for v in order if v in contributed))
