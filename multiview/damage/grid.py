"""Rasters laid on the reference plane, and the coordinates written into map files.

Convention:
    *Plane* coordinates are original pixels of the reference photo, ``(x, y)``, x to the right,
    y down, pixel centres at integers, so the photo's pixel grid spans
    ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``.

    *Map* coordinates (what GeoPackage, GeoJSON, GeoTIFF and DXF files hold) have their origin
    at the top-left corner of the reference photo's pixel grid, x to the right and **y upwards**:
    ``X = (x + 0.5) / s``, ``Y = -(y + 0.5) / s`` with ``s`` the scale in plane pixels per unit
    (metres: ``100 * px_per_cm``; centimetres: ``px_per_cm``). Without a scale the unit is the
    reference-plane pixel (``s = 1``) and the files say so. SVG keeps y downwards (centimetres
    or pixels), as SVG does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from affine import Affine

    from ..plane.scale import Scale
    from .mapping import PlaneMap

#: The mapped area extends at most this many reference widths/heights beyond the reference photo
#: (views that see the horizon would otherwise make it unbounded).
PLANE_EXTENT = 1.0

#: Unit name -> label written into files.
UNIT_LABELS = {"m": "metre", "cm": "centimetre", "px": "reference-plane pixel"}


@dataclass(frozen=True)
class PlaneGrid:
    """A raster on the reference plane.

    Attributes:
        x0, y0: plane coordinates of the centre of grid pixel (row 0, column 0).
        step: plane pixels per grid pixel (> 0; 1 = the reference photo's resolution).
        width, height: grid size in pixels.
    """

    x0: float
    y0: float
    step: float
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``."""
        return self.height, self.width

    def xs(self, c0: int = 0, c1: int | None = None) -> np.ndarray:
        """(n,) plane x of the centres of columns ``c0..c1-1``."""
        c1 = self.width if c1 is None else c1
        return self.x0 + self.step * np.arange(c0, c1, dtype=np.float64)

    def ys(self, r0: int = 0, r1: int | None = None) -> np.ndarray:
        """(n,) plane y of the centres of rows ``r0..r1-1``."""
        r1 = self.height if r1 is None else r1
        return self.y0 + self.step * np.arange(r0, r1, dtype=np.float64)

    def plane_affine(self) -> Affine:
        """rasterio ``Affine``: grid (column, row) of pixel corners -> plane coordinates."""
        from affine import Affine

        h = self.step / 2
        return Affine(self.step, 0.0, self.x0 - h, 0.0, self.step, self.y0 - h)

    def windows(self, tile: int) -> Iterator[tuple[int, int, int, int]]:
        """``(row0, col0, rows, cols)`` tiles covering the grid, column band by column band."""
        for c0 in range(0, self.width, tile):
            for r0 in range(0, self.height, tile):
                yield r0, c0, min(tile, self.height - r0), min(tile, self.width - c0)

    @classmethod
    def covering(cls, x_min: float, y_min: float, x_max: float, y_max: float, step: float) -> PlaneGrid:
        """The grid of pixel size ``step`` whose pixels cover the plane box (corner coordinates).

        The grid is aligned so that with ``step`` 1 its pixels are the reference photo's pixels.
        """
        if not (step > 0 and math.isfinite(step)):
            raise ValidationError(f"grid step {step!r} must be a positive number")
        c0 = math.floor((x_min + 0.5) / step)
        r0 = math.floor((y_min + 0.5) / step)
        c1 = math.ceil((x_max + 0.5) / step)
        r1 = math.ceil((y_max + 0.5) / step)
        return cls(
            x0=c0 * step - 0.5 + step / 2,
            y0=r0 * step - 0.5 + step / 2,
            step=step,
            width=max(1, c1 - c0),
            height=max(1, r1 - r0),
        )


def border_points(size: tuple[int, int], per_side: int = 16) -> np.ndarray:
    """(4 * per_side, 2) points along the outer border of an image of ``size = (w, h)``."""
    w, h = size
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    x0, y0, x1, y1 = -0.5, -0.5, w - 0.5, h - 0.5
    top = np.c_[x0 + t * (x1 - x0), np.full_like(t, y0)]
    right = np.c_[np.full_like(t, x1), y0 + t * (y1 - y0)]
    bottom = np.c_[x1 - t * (x1 - x0), np.full_like(t, y1)]
    left = np.c_[np.full_like(t, x0), y1 - t * (y1 - y0)]
    return np.concatenate([top, right, bottom, left])


def clip_box(box: tuple[float, float, float, float], ref_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Clip a plane box to :data:`PLANE_EXTENT` reference sizes around the reference photo."""
    W, H = ref_size
    e = PLANE_EXTENT
    return (
        max(box[0], -0.5 - e * W),
        max(box[1], -0.5 - e * H),
        min(box[2], W - 0.5 + e * W),
        min(box[3], H - 0.5 + e * H),
    )


def plane_box(
    maps: Iterable[PlaneMap],
    ref_size: tuple[int, int],
    boxes: dict[str, tuple[float, float, float, float]] | None = None,
) -> tuple[float, float, float, float] | None:
    """Bounding box on the plane of what the views see (or of ``boxes``: view id -> view-pixel box).

    Returns:
        ``(x_min, y_min, x_max, y_max)`` plane corner coordinates clipped by :func:`clip_box`,
        or None when nothing maps.
    """
    pts = []
    for m in maps:
        if boxes is None:
            p = border_points(m.view.size)
        elif m.view.id in boxes:
            x0, y0, x1, y1 = boxes[m.view.id]
            p = border_points((1, 1)) * [x1 - x0, y1 - y0] + [x0 + 0.5 * (x1 - x0), y0 + 0.5 * (y1 - y0)]
        else:
            continue
        q = m.plane_from_view(p)
        pts.append(q[np.all(np.isfinite(q), axis=1)])
    if not pts or not sum(len(p) for p in pts):
        return None
    allp = np.concatenate(pts)
    box = clip_box((*allp.min(axis=0), *allp.max(axis=0)), ref_size)
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return box


@dataclass(frozen=True)
class MapUnits:
    """How plane coordinates become map coordinates in a file.

    Attributes:
        unit: ``"m"``, ``"cm"`` or ``"px"`` (reference-plane pixels, when no scale is set).
        px_per_unit: plane pixels per unit (``100 * px_per_cm`` for metres).
        scale: the scale used, or None.
    """

    unit: str
    px_per_unit: float
    scale: Scale | None = None

    @property
    def label(self) -> str:
        return UNIT_LABELS[self.unit]

    @property
    def scaled(self) -> bool:
        return self.scale is not None

    def xy(self, points: np.ndarray, y_up: bool = True) -> np.ndarray:
        """(N, 2) plane points -> (N, 2) map coordinates (y up unless ``y_up`` is False)."""
        p = (np.asarray(points, dtype=np.float64).reshape(-1, 2) + 0.5) / self.px_per_unit
        if y_up:
            p[:, 1] = -p[:, 1]
        return p

    def affine(self, y_up: bool = True) -> tuple[float, float, float, float, float, float]:
        """``(a, b, d, e, xoff, yoff)`` of the plane -> map transform (shapely ``affine_transform`` order)."""
        f = 1.0 / self.px_per_unit
        sy = -f if y_up else f
        return (f, 0.0, 0.0, sy, 0.5 * f, 0.5 * sy)

    def crs_wkt(self) -> str | None:
        """An engineering (local, Cartesian) CRS for metric units; None for pixels. No geographic CRS."""
        if self.unit == "px":
            return None
        return (
            f'LOCAL_CS["multiview reference plane ({self.label}s, y up)",'
            'LOCAL_DATUM["top-left corner of the reference photo",32767],'
            f'UNIT["{self.label}",{0.01 if self.unit == "cm" else 1}],AXIS["x",EAST],AXIS["y",NORTH]]'
        )

    def describe(self, reference: str) -> str:
        """One sentence for file metadata: frame, origin, axes and unit."""
        s = (
            f"Local engineering coordinates on the wall plane, in {self.label}s: origin at the top-left corner "
            f"of the reference photo {reference}, x to the right, y upwards (y = -row)."
        )
        if self.scale is None:
            return s + " No scale is set: coordinates are reference-plane pixels, not real units."
        return s + f" Scale {self.scale.px_per_cm:.6g} reference pixels per cm ({self.scale.source})."


def map_units(scale: Scale | None, unit: str) -> MapUnits:
    """Map units for ``unit`` (``"m"`` or ``"cm"``); pixels when ``scale`` is None."""
    if scale is None:
        return MapUnits("px", 1.0, None)
    if unit not in ("m", "cm"):
        raise ValidationError(f"map unit '{unit}' is unknown; use m or cm")
    return MapUnits(unit, scale.px_per_cm * (100.0 if unit == "m" else 1.0), scale)
