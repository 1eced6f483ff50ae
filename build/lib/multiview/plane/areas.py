"""Areas on the reference plane: of a mask through a homography, and of a stored result.

Convention:
    *View pixels* are original pixels of the view's photo. *Reference-plane pixels*
    are original pixels of the reference photo: a mask's reference-plane area is the
    area it covers once mapped onto the plane (:class:`~multiview.plane.ViewMapping`),
    so areas of one object compare across views taken from different distances and
    angles. Through a homography it is computed exactly (not by warping a raster):
    every mask pixel ``p`` of the working copy contributes the local area scale of
    ``H = H_ref_from_work``, ``|det H| / |h_3 . (x, y, 1)|^3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..geometry import normalize_h

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, View
    from .mapping import ViewMapping
    from .scale import Scale

#: Rows processed at once by :func:`plane_area` (bounds temporary memory).
_ROW_BLOCK = 256


def plane_area(mask: np.ndarray, H_dst_from_src: np.ndarray) -> float:
    """Area of a mask once mapped through a homography, in destination pixels.

    Args:
        mask: (h, w) bool mask in the source geometry.
        H_dst_from_src: (3, 3) homography from source pixels to destination pixels.

    Returns:
        The destination area (sum over mask pixels of the Jacobian determinant of the map).

    Convention: pixel centres at integer coordinates; each source pixel is a unit square.
    """
    m = np.asarray(mask, dtype=bool)
    H = normalize_h(H_dst_from_src)
    det = abs(float(np.linalg.det(H)))
    if H[2, 0] == 0.0 and H[2, 1] == 0.0:
        return det / abs(H[2, 2]) ** 3 * float(np.count_nonzero(m))
    xs = np.arange(m.shape[1], dtype=np.float64)
    total = 0.0
    for y0 in range(0, m.shape[0], _ROW_BLOCK):
        block = m[y0 : y0 + _ROW_BLOCK]
        if not block.any():
            continue
        ys = np.arange(y0, y0 + block.shape[0], dtype=np.float64)[:, None]
        den = np.abs(H[2, 0] * xs + H[2, 1] * ys + H[2, 2])
        with np.errstate(divide="ignore"):
            total += float(np.sum(det / den[block] ** 3))
    return total


@dataclass(frozen=True)
class Areas:
    """Areas of one result.

    Attributes:
        px: area in view pixels (original photo), estimated from the working copy as
            ``working area * (W * H) / (w * h)``; pixels the tracker marked unknown do not count.
        ref_px: area in reference-plane pixels, or None when the view is not registered.
        cm2: ``ref_px`` in cm² when a scale is given, else None.
    """

    px: float
    ref_px: float | None
    cm2: float | None


def result_areas(result: MaskResult, view: View, mapping: ViewMapping | None, scale: Scale | None = None) -> Areas:
    """Areas of a stored result in view pixels, reference-plane pixels and cm².

    Args:
        result: (h, w) working-geometry result of ``view``.
        mapping: the view's map onto the reference plane (:func:`multiview.plane.mapping`);
            None for an unregistered view (no reference-plane area).
        scale: optional reference-view scale.
    """
    mask = result.mask
    if result.valid is not None:
        mask &= result.valid
    px = float(np.count_nonzero(mask)) * (view.width * view.height) / (view.work_width * view.work_height)
    ref_px = None
    if mapping is not None:
        ref_px = mapping.area_on_ref(mask, geometry="work")
    cm2 = scale.cm2(ref_px) if scale is not None else None
    return Areas(px, ref_px, cm2)
