"""Rasters of the reference plane ("canvases"): their size and the map from reference pixels to them.

Two canvases occur:

* :func:`reference_canvas`: the reference photo's own frame at a bounded size (drift
  review, the ``h5`` export's reference-plane stack);
* :func:`footprint_canvas`: the union of the views' footprints on the plane, clipped to
  a bound around the reference photo (the aligned frames SAM 2 sees).

Convention:
    Points are ``(N, 2)`` float64 ``(x, y)``, pixel centres at integer coordinates.
    Reference-plane pixels are the reference photo's original pixels. A canvas pixel
    ``c`` relates to a reference pixel ``r`` by ``c ~ H_canvas_from_ref @ r`` (a scale
    and a shift). Sizes are ``(width, height)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..geometry import apply_h, corners, invert
from ..raster import scale_between, working_size

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project
    from .mapping import ViewMapping

__all__ = ["PlaneCanvas", "footprint_canvas", "reference_canvas"]


@dataclass(frozen=True, eq=False)
class PlaneCanvas:
    """A raster of the reference plane.

    Attributes:
        size: ``(W, H)`` of the raster, pixels.
        H_canvas_from_ref: (3, 3) float64 map from reference-plane pixels to canvas pixels
            (a scale and a shift).
    """

    size: tuple[int, int]
    H_canvas_from_ref: np.ndarray

    @classmethod
    def identity(cls, ref_size: tuple[int, int]) -> PlaneCanvas:
        """The reference photo at its original size (canvas pixels = reference-plane pixels)."""
        return cls((int(ref_size[0]), int(ref_size[1])), np.eye(3))

    def to_canvas(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) reference-plane points to (N, 2) canvas pixels."""
        return apply_h(self.H_canvas_from_ref, points)

    def from_canvas(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) canvas pixels to (N, 2) reference-plane points."""
        return apply_h(invert(self.H_canvas_from_ref), points)


def reference_canvas(project: Project, max_side: int | None = None) -> PlaneCanvas:
    """The reference photo's frame, scaled so that its longer side is at most ``max_side``.

    Args:
        max_side: bound on the longer side, pixels; None: the reference view's working size.

    Returns:
        A canvas whose ``H_canvas_from_ref`` is :func:`~multiview.raster.scale_between`
        the reference photo's original size and the canvas size.
    """
    ref = project.reference
    size = ref.work_size if max_side is None else working_size(ref.width, ref.height, max_side)
    return PlaneCanvas(size, scale_between(ref.size, size))


def footprint_canvas(
    ref_size: tuple[int, int], mappings: Iterable[ViewMapping], *, extent: float, max_side: int
) -> PlaneCanvas:
    """The canvas covering the reference photo and every view's footprint on the plane.

    The union of the outlines is clipped to ``extent`` reference widths/heights beyond
    the reference photo on each side (a view seen at a grazing angle would otherwise
    stretch the canvas without bound) and scaled so that its longer side is at most
    ``max_side`` (never enlarged).

    Args:
        ref_size: ``(w, h)`` of the reference photo.
        mappings: the registered views' maps; outlines that are not finite are ignored.
        extent: clipping bound, in reference sizes (>= 0).
        max_side: bound on the canvas's longer side, pixels.

    Returns:
        The canvas; its pixel grid border maps to the clipped union's border, and its
        sides are at least 8 pixels.
    """
    rw, rh = ref_size
    pts = [corners(ref_size)]
    for m in mappings:
        q = m.outline_on_ref()
        if np.all(np.isfinite(q)):
            pts.append(q)
    allp = np.concatenate(pts)
    x0 = max(float(allp[:, 0].min()), -0.5 - extent * rw)
    y0 = max(float(allp[:, 1].min()), -0.5 - extent * rh)
    x1 = min(float(allp[:, 0].max()), rw - 0.5 + extent * rw)
    y1 = min(float(allp[:, 1].max()), rh - 0.5 + extent * rh)
    s = min(1.0, max_side / max(x1 - x0, y1 - y0))
    W = max(8, int(np.ceil((x1 - x0) * s)))
    H = max(8, int(np.ceil((y1 - y0) * s)))
    # Pixel-grid border x0 maps to -0.5: x_c = s * (x - x0) - 0.5.
    return PlaneCanvas((W, H), np.array([[s, 0, -s * x0 - 0.5], [0, s, -s * y0 - 0.5], [0, 0, 1.0]]))
