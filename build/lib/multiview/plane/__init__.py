"""The reference plane: how views map onto it, rasters of it, areas and physical scale on it.

The reference plane is the pixel grid of the reference photo (its original pixels).
Every stage that relates a view to the plane or to another view goes through this
package:

* :mod:`.mapping`: :class:`ViewMapping` (from :func:`mapping` / :func:`mappings`), the
  map of one view onto the plane: points, soft masks and images both ways, areas,
  outline; :func:`warp_between` two views; :func:`warp_result_to_ref`.
* :mod:`.canvas`: :class:`PlaneCanvas`, a raster of the plane (:func:`reference_canvas`,
  :func:`footprint_canvas`).
* :mod:`.areas`: :func:`plane_area` through a homography, :func:`result_areas` of a
  stored result (:class:`Areas`).
* :mod:`.scale`: :class:`Scale`, reference-plane pixels per centimetre.

Convention:
    Points ``(N, 2)`` float64 ``(x, y)``, pixel centres at integer coordinates; sizes
    ``(w, h)``; see :mod:`multiview.plane.mapping`.
"""

from .areas import Areas, plane_area, result_areas
from .canvas import PlaneCanvas, footprint_canvas, reference_canvas
from .mapping import (
    Geometry,
    Residual,
    ViewMapping,
    mapping,
    mapping_key,
    mappings,
    warp_between,
    warp_result_to_ref,
)
from .scale import Scale

__all__ = [
    "Areas",
    "Geometry",
    "PlaneCanvas",
    "Residual",
    "Scale",
    "ViewMapping",
    "footprint_canvas",
    "mapping",
    "mapping_key",
    "mappings",
    "plane_area",
    "reference_canvas",
    "result_areas",
    "warp_between",
    "warp_result_to_ref",
]
