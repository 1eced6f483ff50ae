"""Damage maps: object outlines fused on the reference plane, the orthophoto, areas per category.

Stages (one module each):

* :mod:`.mapping` - how each registered view maps to the reference plane (points both ways);
* :mod:`.grid` - rasters laid on the reference plane and the map coordinates written to files;
* :mod:`.fuse` - an object's masks from every view that sees it, fused on the plane;
* :mod:`.outline` - fused masks traced into simplified polygons with areas and perimeters;
* :mod:`.ortho` - the rectified mosaic of the wall (best view per pixel, blended seams,
  equalised exposure), produced window by window.

The export formats that write them live in :mod:`multiview.export` (``ortho``, ``gpkg``,
``geojson``, ``dxf``, ``svg``, ``summary``).
"""

from .grid import MapUnits, PlaneGrid, map_units
from .outline import DamageMap, Outline, damage_map

__all__ = ["DamageMap", "MapUnits", "Outline", "PlaneGrid", "damage_map", "map_units"]
