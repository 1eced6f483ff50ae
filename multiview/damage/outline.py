"""Fused masks traced into simplified polygons, and the damage map of a project.

Tracing follows the pixel edges of the fused mask (GDAL's polygonize through
``rasterio.features.shapes``), so before simplification a polygon's area is exactly the
raster's; holes are kept and a split object becomes a multipolygon. Simplification is
Douglas-Peucker with topology preserved (``shapely.simplify(..., preserve_topology=True)``)
at a tolerance in reference-plane pixels (:data:`DEFAULT_TOLERANCE_PX`: half a pixel of the
fused grid, which removes the pixel staircase and moves no edge by more than that). Parts
smaller than :data:`MIN_PART_PX` grid pixels are dropped as speckle.

Convention: polygons here are in plane coordinates (reference-photo pixels, y down, pixel
centres at integers); :class:`multiview.damage.MapUnits` turns them into file coordinates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ValidationError
from .fuse import FusedMask, fuse_object
from .mapping import plane_maps

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from ..categories import Category
    from ..plane.scale import Scale
    from ..project import Project

log = logging.getLogger(__name__)

#: Default simplification tolerance, in pixels of the fused grid.
DEFAULT_TOLERANCE_PX = 0.5
#: Parts (and holes) smaller than this many grid pixels are dropped.
MIN_PART_PX = 4


def trace(fused: FusedMask, tolerance_px: float = DEFAULT_TOLERANCE_PX) -> BaseGeometry:
    """The outline of a fused mask as a shapely ``Polygon`` or ``MultiPolygon`` in plane coordinates.

    Args:
        fused: the fused mask.
        tolerance_px: Douglas-Peucker tolerance in grid pixels (0 = no simplification).

    Raises:
        ValidationError: a negative tolerance.
    """
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import MultiPolygon, Polygon, shape

    if tolerance_px < 0:
        raise ValidationError(f"simplification tolerance {tolerance_px} must be >= 0 pixels")
    g = fused.grid
    min_area = MIN_PART_PX * g.step**2
    polys = []
    for geom, value in shapes(fused.mask.astype(np.uint8), mask=fused.mask, connectivity=8, transform=g.plane_affine()):
        if value != 1:
            continue
        p = shape(geom)
        if not isinstance(p, Polygon) or p.area < min_area:
            continue
        holes = [h for h in p.interiors if Polygon(h).area >= min_area]
        polys.append(Polygon(p.exterior, holes))
    if not polys:
        return MultiPolygon()
    geom = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    if tolerance_px > 0:
        geom = shapely.simplify(geom, tolerance_px * g.step, preserve_topology=True)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and not p.is_empty]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


@dataclass(frozen=True, eq=False)
class Outline:
    """One object on the damage map.

    Attributes:
        obj_id, name: the object.
        category: its category (legend colour and hatch).
        geometry: shapely Polygon / MultiPolygon, plane coordinates.
        fused: the fused raster mask it was traced from.
        views: ids of the views the object was seen in (pseudo-video order).
    """

    obj_id: int
    name: str
    category: Category
    geometry: BaseGeometry
    fused: FusedMask
    views: tuple[str, ...]

    @property
    def area_ref_px(self) -> float:
        """Polygon area, reference-plane pixels²."""
        return float(self.geometry.area)

    @property
    def raster_area_ref_px(self) -> float:
        """Area of the fused raster mask, reference-plane pixels²."""
        return self.fused.area_ref_px

    @property
    def perimeter_ref_px(self) -> float:
        """Polygon perimeter (outer rings and holes), reference-plane pixels."""
        return float(self.geometry.length)

    def area_cm2(self, scale: Scale | None) -> float | None:
        return None if scale is None else self.area_ref_px / scale.px_per_cm**2

    def perimeter_cm(self, scale: Scale | None) -> float | None:
        return None if scale is None else self.perimeter_ref_px / scale.px_per_cm


@dataclass(frozen=True, eq=False)
class DamageMap:
    """Every exported object's outline, and what could not be mapped.

    Attributes:
        outlines: one per mapped object, by object id.
        skipped: ``(obj_id, reason)`` for objects with no registered view.
        scale: the scale used (None: plane pixels).
        reference: id of the reference view (the plane's origin).
        ref_size: the reference photo's ``(width, height)``.
        tolerance_px: simplification tolerance used, grid pixels.
    """

    outlines: tuple[Outline, ...]
    skipped: tuple[tuple[int, str], ...]
    scale: Scale | None
    reference: str
    ref_size: tuple[int, int]
    tolerance_px: float
    categories: dict[str, Category] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """JSON-safe summary for ``export.json``."""
        return {
            "objects": [o.obj_id for o in self.outlines],
            "skipped": [{"obj_id": i, "reason": r} for i, r in self.skipped],
            "tolerance_px": self.tolerance_px,
        }


_LAST: dict[tuple[Any, ...], DamageMap] = {}


def damage_map(
    project: Project,
    obj_ids: Sequence[int] | None = None,
    scale: Scale | None = None,
    *,
    tolerance_px: float = DEFAULT_TOLERANCE_PX,
    progress: Callable[[int, int], None] | None = None,
) -> DamageMap:
    """Fuse and trace every object (skipping those no registered view sees).

    The last result is kept, so several formats of one export compute it once.

    Args:
        obj_ids: objects (default: all).
        scale: scale for areas in cm² (None: plane pixels only).
        tolerance_px: simplification tolerance, grid pixels.
        progress: ``progress(done, total)`` per object.
    """
    import hashlib
    import json

    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    state = hashlib.sha256(json.dumps(project.state.to_json(), sort_keys=True).encode()).hexdigest()
    stamps = tuple(
        project.result_path(i, v.id).stat().st_mtime_ns if project.has_result(i, v.id) else 0
        for i in ids
        for v in project.views
    )
    key = (str(project.root), state, tuple(ids), stamps, tolerance_px, scale)
    if key in _LAST:
        return _LAST[key]
    maps = plane_maps(project)
    outlines, skipped = [], []
    for k, oid in enumerate(ids):
        obj = project.object(oid)
        fused = fuse_object(project, oid, maps)
        if fused is None:
            has_any = any(project.has_result(oid, v.id) for v in project.views)
            reason = (
                "no registered view has a mask of it (register its views with `multiview align`)"
                if has_any
                else "it has no tracked mask (run `multiview track`)"
            )
            skipped.append((oid, reason))
            log.warning("object %d (%s) skipped: %s", oid, obj.name, reason)
        else:
            geom = trace(fused, tolerance_px)
            if geom.is_empty:
                skipped.append((oid, "its fused mask is smaller than a few pixels"))
            else:
                outlines.append(Outline(oid, obj.name, project.category_of(oid), geom, fused, fused.views))
        if progress is not None:
            progress(k + 1, len(ids))
    ref = project.reference
    dm = DamageMap(tuple(outlines), tuple(skipped), scale, ref.id, ref.size, tolerance_px, project.categories)
    _LAST.clear()
    _LAST[key] = dm
    return dm


def map_areas(
    project: Project, obj_ids: Sequence[int] | None = None, scale: Scale | None = None
) -> list[dict[str, Any]]:
    """Each object's area on the damage map (its outline fused on the reference plane).

    The same figure every damage-map export writes (``area_cm2`` / ``area_ref_px`` fields), so
    ``status``, the h5 file and the GIS/CAD files agree.

    Returns:
        One dict per object with a result: ``obj_id``, ``name``, ``category``, ``area_ref_px``,
        ``area_cm2`` (None without a scale), ``views`` (list), and ``skipped`` (a reason) for
        objects that could not be placed on the plane.
    """
    ids = [o.id for o in project.objects] if obj_ids is None else list(obj_ids)
    ids = [i for i in ids if any(project.has_result(i, v.id) for v in project.views)]
    if not ids:
        return []
    dm = damage_map(project, ids, scale)
    out: list[dict[str, Any]] = [
        {
            "obj_id": o.obj_id,
            "name": o.name,
            "category": o.category.key,
            "area_ref_px": o.area_ref_px,
            "area_cm2": o.area_cm2(scale),
            "views": list(o.views),
        }
        for o in dm.outlines
    ]
    for oid, reason in dm.skipped:
        obj = project.object(oid)
        out.append({"obj_id": oid, "name": obj.name, "category": obj.category, "skipped": reason})
    return sorted(out, key=lambda d: d["obj_id"])
