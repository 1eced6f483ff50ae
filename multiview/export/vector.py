"""Damage-map outlines for GIS and CAD: ``gpkg``, ``geojson``, ``dxf`` and ``svg`` exports.

One feature per object: its outline fused on the reference plane over every view that sees
it (:func:`multiview.damage.damage_map`), a Polygon (with holes) or a MultiPolygon when the
object is split, simplified with topology preserved at ``ExportOptions.tolerance_px``.

Files and coordinates (see :mod:`multiview.damage.grid` for the exact formulas):

``OUT/damage_map.gpkg`` (GeoPackage 1.2, layer ``damage_map``, QGIS-ready)
    metres, y up, origin at the top-left corner of the reference photo; an engineering
    (local Cartesian) CRS, no geographic CRS. Without a scale: reference-plane pixels and
    no CRS; the layer description and the ``units`` field say so.
``OUT/damage_map.geojson``
    the same features and coordinates (metres, y up). GeoJSON (RFC 7946) assumes WGS 84
    longitude/latitude; these are local plane coordinates, stated in the ``units`` field.
``OUT/damage_map.dxf`` (AutoCAD 2010 DXF, read by ezdxf, GDAL/QGIS and CAD programs)
    centimetres, y up (``$INSUNITS`` = 5); one layer per category in its legend colour,
    one closed LWPOLYLINE per ring, a HATCH in the category's pattern, a TEXT label, and
    the attributes as XDATA of application ``MULTIVIEW`` on each polyline. Without a scale:
    reference-plane pixels, ``$INSUNITS`` = 0 (unitless) and a note on layer ``NOTES``.
``OUT/damage_map.svg``
    centimetres (pixels without a scale), **y down** as SVG is, over the orthophoto, with a
    legend (colour, hatch, label, area per category).

Attributes: ``obj_id``, ``name``, ``category`` (key), ``category_label``, ``color`` (legend
``#rrggbb``), ``area_cm2`` and ``perimeter_cm`` (empty without a scale), ``area_ref_px`` and
``perimeter_ref_px`` (reference-plane pixels), ``views`` (the views it was seen in,
comma-separated), ``n_views``, ``units``, ``tool_version``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import atomic
from ..damage import DamageMap, MapUnits, map_units
from .base import export_damage_map

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from ..project import Project
    from .base import ExportOptions

STEM = "damage_map"


def to_map(geom: BaseGeometry, units: MapUnits, y_up: bool = True) -> BaseGeometry:
    """A plane-coordinate geometry in map coordinates."""
    from shapely import affinity

    return affinity.affine_transform(geom, list(units.affine(y_up)))


def records(dm: DamageMap, units: MapUnits) -> list[dict[str, Any]]:
    """One attribute dict per outline (the fields listed in the module docstring)."""
    from .._version import __version__

    out = []
    for o in dm.outlines:
        a = o.area_cm2(dm.scale)
        p = o.perimeter_cm(dm.scale)
        out.append(
            {
                "obj_id": o.obj_id,
                "name": o.name,
                "category": o.category.key,
                "category_label": o.category.label,
                "color": o.category.hex,
                "area_cm2": None if a is None else round(a, 4),
                "perimeter_cm": None if p is None else round(p, 4),
                "area_ref_px": round(o.area_ref_px, 3),
                "perimeter_ref_px": round(o.perimeter_ref_px, 3),
                "views": ",".join(o.views),
                "n_views": len(o.views),
                "units": units.label,
                "tool_version": __version__,
            }
        )
    return out


def _multi(geom: BaseGeometry) -> BaseGeometry:
    from shapely.geometry import MultiPolygon

    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon([cast(Any, geom)])


def export_gpkg(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/damage_map.gpkg``: one MultiPolygon feature per object, metres, y up. Returns 1."""
    import shapely
    from pyogrio.raw import write as _write

    dm = export_damage_map(project, obj_ids, options)
    units = map_units(dm.scale, "m")
    recs = records(dm, units)
    geoms = np.array([shapely.to_wkb(_multi(to_map(o.geometry, units))) for o in dm.outlines], dtype=object)
    fields = list(recs[0])
    data = [_column([r[f] for r in recs]) for f in fields]
    desc = "multiview damage map: one outline per object. " + units.describe(dm.reference)
    # ``out`` is the export's staged folder (renamed into place when complete): written directly,
    # so GDAL sees the .gpkg extension. Without a scale no CRS is written on purpose (pixels).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*'crs' was not provided.*")
        _write(
            str(out / f"{STEM}.gpkg"),
            geoms,
            data,
            fields,
            layer=STEM,
            driver="GPKG",
            geometry_type="MultiPolygon",
            crs=units.crs_wkt(),
            dataset_options={"VERSION": "1.2"},
            layer_options={"DESCRIPTION": desc, "IDENTIFIER": "multiview damage map"},
            layer_metadata={"units": units.label, "reference_view": dm.reference},
        )
    return 1


def _column(values: list[Any]) -> np.ndarray:
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(v is None or isinstance(v, float) for v in values):
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.asarray(values, dtype=object)


def export_geojson(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/damage_map.geojson``: a FeatureCollection, metres, y up. Returns 1."""
    from shapely.geometry import mapping

    dm = export_damage_map(project, obj_ids, options)
    units = map_units(dm.scale, "m")
    feats = [
        {"type": "Feature", "id": r["obj_id"], "properties": r, "geometry": mapping(to_map(o.geometry, units))}
        for o, r in zip(dm.outlines, records(dm, units))
    ]
    doc = {
        "type": "FeatureCollection",
        "name": STEM,
        "description": units.describe(dm.reference),
        "features": feats,
    }
    atomic.write_text(out / f"{STEM}.geojson", json.dumps(doc, ensure_ascii=False) + "\n")
    return 1


def _rings(geom: BaseGeometry) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    return [
        (np.asarray(p.exterior.coords), [np.asarray(h.coords) for h in p.interiors])
        for p in getattr(geom, "geoms", [geom])
    ]


def export_dxf(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/damage_map.dxf``: layers per category, closed polylines, hatches, cm, y up. Returns 1."""
    import ezdxf
    from ezdxf import const
    from ezdxf.enums import TextEntityAlignment

    from ..categories import HATCH_ANGLE, HATCHES

    dm = export_damage_map(project, obj_ids, options)
    units = map_units(dm.scale, "cm")
    doc = ezdxf.new("R2010", setup=True)
    doc.units = ezdxf.units.CM if units.scaled else 0  # 0: unitless
    doc.header["$MEASUREMENT"] = 1
    doc.appids.add("MULTIVIEW")
    msp = doc.modelspace()
    recs = records(dm, units)
    size = max(dm.ref_size) / units.px_per_unit
    for o, rec in zip(dm.outlines, recs):
        cat = o.category
        if cat.key not in doc.layers:
            layer = doc.layers.add(cat.key)
            layer.rgb = cat.color
            layer.description = cat.label
        g = to_map(o.geometry, units)
        for k, (ext, holes) in enumerate(_rings(g)):
            for ring in (ext, *holes):
                pl = msp.add_lwpolyline(ring[:-1, :2].tolist(), close=True, dxfattribs={"layer": cat.key})
                pl.set_xdata("MULTIVIEW", _xdata(rec, k))
            pattern = HATCHES[cat.hatch][0]
            if pattern is None:
                continue
            hatch = msp.add_hatch(dxfattribs={"layer": cat.key})
            if pattern == "SOLID":
                hatch.set_solid_fill(color=256)
            else:
                hatch.set_pattern_fill(pattern, color=256, scale=size / 150.0, angle=HATCH_ANGLE.get(cat.hatch, 0.0))
            hatch.paths.add_polyline_path(ext[:-1, :2].tolist(), is_closed=True, flags=const.BOUNDARY_PATH_EXTERNAL)
            for h in holes:
                hatch.paths.add_polyline_path(h[:-1, :2].tolist(), is_closed=True, flags=const.BOUNDARY_PATH_OUTERMOST)
        (cx, cy) = to_map(o.geometry.representative_point(), units).coords[0]
        msp.add_text(f"{o.obj_id} {o.name}", height=size / 80.0, dxfattribs={"layer": "LABELS"}).set_placement(
            (cx, cy), align=TextEntityAlignment.MIDDLE_CENTER
        )
    note = units.describe(dm.reference)
    msp.add_mtext(note, dxfattribs={"layer": "NOTES", "char_height": size / 120.0}).set_location((0.0, size / 40.0))
    doc.saveas(out / f"{STEM}.dxf")  # ``out`` is the export's staged folder
    return 1


def _xdata(rec: dict[str, Any], part: int) -> list[tuple[int, Any]]:
    tags: list[tuple[int, Any]] = []
    for k, v in rec.items():
        if v is None:
            continue
        tags.append((1000, f"{k}={v}"[:250]))
    tags.append((1000, f"part={part}"))
    return tags


def export_svg(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/damage_map.svg``: outlines over the orthophoto with a legend; cm (px), y down. Returns 1."""
    from .svg import damage_svg

    dm = export_damage_map(project, obj_ids, options)
    atomic.write_text(out / f"{STEM}.svg", damage_svg(project, dm, options))
    return 1
