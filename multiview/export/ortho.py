"""``ortho`` export: the rectified orthophoto of the wall as a tiled GeoTIFF and a JPEG preview.

Files (``OUT/ortho/``):

``orthophoto.tif``
    RGB + alpha (band 4, 0 = no view sees the wall there), 8 bit, tiled 512 x 512, DEFLATE
    with horizontal predictor, BigTIFF when needed. Georeferenced in local engineering
    coordinates on the wall plane: metres, origin at the top-left corner of the reference
    photo, x right, y up (an engineering CRS; no geographic CRS is claimed). Without a
    scale, the unit is the reference-plane pixel, no CRS is written and the ``units`` tag
    says so. Tags: ``units``, ``description``, ``reference_view``, ``px_per_cm``,
    ``ortho_px_per_cm``, ``views``.
``orthophoto.jpg`` + ``orthophoto.jgw``
    preview, longer side at most :data:`PREVIEW_SIDE`, with an ESRI world file in the same
    coordinates.
``orthophoto_overlay.tif`` / ``.jpg`` (with ``ExportOptions.ortho_overlay``)
    the same with the damage-map outlines drawn in their category colours.

Resolution: ``ExportOptions.ortho_res`` pixels per centimetre (needs a scale), default the
reference photo's own. The mosaic is computed and written window by window
(:class:`multiview.damage.ortho.Mosaic`), so memory does not grow with the wall's size.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atomic

if TYPE_CHECKING:  # pragma: no cover
    from ..damage import DamageMap, MapUnits, PlaneGrid
    from ..project import Project
    from .base import ExportOptions

#: Tile (block) size of the GeoTIFF, and of the computation windows.
TILE = 512
#: Longer side of the JPEG preview.
PREVIEW_SIDE = 2048
#: Opacity of the category fill in the overlay variant.
OVERLAY_ALPHA = 0.45


def ortho_step(project: Project, options: ExportOptions) -> float:
    """Plane pixels per orthophoto pixel for the requested resolution."""
    if options.ortho_res is None or options.scale is None:
        return 1.0
    return options.scale.px_per_cm / options.ortho_res


def grid_transform(grid: PlaneGrid, units: MapUnits) -> Any:
    """rasterio ``Affine``: orthophoto (column, row) pixel corners -> map coordinates (y up)."""
    from affine import Affine

    a, _, _, e, xo, yo = units.affine(True)
    return Affine(a, 0.0, xo, 0.0, e, yo) @ grid.plane_affine()


def overlay(
    rgb: np.ndarray, alpha: np.ndarray, dm: DamageMap, grid: PlaneGrid, r0: int, c0: int, width_px: float = 2.0
) -> np.ndarray:
    """Draw the outlines of ``dm`` (fill at :data:`OVERLAY_ALPHA` + border) over a window of the orthophoto."""
    from affine import Affine
    from rasterio.features import rasterize

    h, w = alpha.shape
    out = rgb.astype(np.float32)
    tr = grid.plane_affine() @ Affine.translation(c0, r0)
    for o in dm.outlines:
        fill = rasterize([(o.geometry, 1)], out_shape=(h, w), transform=tr, dtype=np.uint8).astype(bool)
        line = rasterize(
            [(o.geometry.boundary.buffer(width_px * grid.step / 2), 1)], out_shape=(h, w), transform=tr, dtype=np.uint8
        ).astype(bool)
        col = np.asarray(o.category.color, np.float32)
        out[fill] = out[fill] * (1 - OVERLAY_ALPHA) + col * OVERLAY_ALPHA
        out[line] = col
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def write_ortho(
    project: Project,
    folder: Path,
    options: ExportOptions,
    dm: DamageMap | None = None,
    *,
    name: str = "orthophoto",
) -> list[Path]:
    """Write ``folder/<name>.tif``, ``.jpg`` and ``.jgw`` (and the overlay variant when ``dm`` is given).

    Returns:
        The files written.
    """
    import cv2
    import rasterio
    from rasterio.crs import CRS
    from rasterio.enums import ColorInterp
    from rasterio.windows import Window

    from .._version import __version__
    from ..damage import map_units
    from ..damage.mapping import plane_maps
    from ..damage.ortho import Mosaic, exposure_gains, ortho_grid

    maps = plane_maps(project)
    grid = ortho_grid(project, maps, ortho_step(project, options))
    units = map_units(options.scale, "m")
    gains = exposure_gains(project, maps, grid)
    mosaic = Mosaic(project, maps, grid, gains)
    folder.mkdir(parents=True, exist_ok=True)
    f = min(1.0, PREVIEW_SIDE / max(grid.width, grid.height))
    pw, ph = max(1, round(grid.width * f)), max(1, round(grid.height * f))
    variants = [(name, None)] + ([(f"{name}_overlay", dm)] if dm is not None else [])
    previews = {n: np.zeros((ph, pw, 3), np.uint8) for n, _ in variants}
    wkt = units.crs_wkt()
    px_per_cm = options.scale.px_per_cm if options.scale is not None else None
    tags = {
        "units": units.label,
        "description": "multiview orthophoto of the wall. " + units.describe(project.reference.id),
        "reference_view": project.reference.id,
        "px_per_cm": "" if px_per_cm is None else f"{px_per_cm:.8g}",
        "ortho_px_per_cm": "" if px_per_cm is None else f"{px_per_cm / grid.step:.8g}",
        "views": ",".join(maps),
        "exposure_gains": json.dumps({k: [round(float(x), 4) for x in v] for k, v in gains.items()}),
        "tool_version": __version__,
    }
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 4,
        "dtype": "uint8",
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": "deflate",
        "predictor": 2,
        "photometric": "RGB",
        "BIGTIFF": "IF_SAFER",
        "transform": grid_transform(grid, units),
        "crs": CRS.from_wkt(wkt) if wkt is not None else None,
    }
    written = []
    datasets = {n: rasterio.open(folder / f"{n}.tif", "w", **profile) for n, _ in variants}
    try:
        for ds in datasets.values():
            ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
            ds.update_tags(**tags)
        wins = list(grid.windows(TILE))
        for k, (r0, c0, h, w) in enumerate(wins):
            rgb, alpha = mosaic.window(r0, c0, h, w)
            for n, layer in variants:
                img = rgb if layer is None else overlay(rgb, alpha, layer, grid, r0, c0)
                img = np.where(alpha[..., None] > 0, img, 0).astype(np.uint8)
                datasets[n].write(
                    np.concatenate([img, alpha[..., None]], axis=2).transpose(2, 0, 1), window=Window(c0, r0, w, h)
                )
                pr0, pr1 = math.floor(r0 * f), math.floor((r0 + h) * f) if r0 + h < grid.height else ph
                pc0, pc1 = math.floor(c0 * f), math.floor((c0 + w) * f) if c0 + w < grid.width else pw
                if pr1 > pr0 and pc1 > pc0:
                    bg = np.where(alpha[..., None] > 0, img, 255).astype(np.uint8)
                    previews[n][pr0:pr1, pc0:pc1] = cv2.resize(bg, (pc1 - pc0, pr1 - pr0), interpolation=cv2.INTER_AREA)
            if options.progress is not None:
                options.progress("orthophoto", k + 1, len(wins))
    finally:
        for ds in datasets.values():
            ds.close()
    for n, _ in variants:
        written.append(folder / f"{n}.tif")
        atomic.write_image(folder / f"{n}.jpg", previews[n], ".jpg")
        # ESRI world file: pixel size x, rotation, rotation, -pixel size y, centre of the top-left pixel
        sx, sy = grid.width / pw, grid.height / ph
        t = grid_transform(grid, units)
        cx, cy = t @ (0.5 * sx, 0.5 * sy)
        atomic.write_text(folder / f"{n}.jgw", f"{t.a * sx:.10g}\n0\n0\n{t.e * sy:.10g}\n{cx:.10g}\n{cy:.10g}\n")
        written += [folder / f"{n}.jpg", folder / f"{n}.jgw"]
    return written


def export_ortho(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/ortho/``: orthophoto GeoTIFF + JPEG preview (+ overlay variant). Returns the number of files."""
    dm = None
    if options.ortho_overlay:
        from .base import export_damage_map

        dm = export_damage_map(project, obj_ids, options)
    return len(write_ortho(project, out / "ortho", options, dm))


def preview(
    project: Project, options: ExportOptions, max_side: int = PREVIEW_SIDE
) -> tuple[PlaneGrid, np.ndarray, np.ndarray]:
    """A small orthophoto of the whole wall (one window), for the SVG background and the summary picture.

    Returns:
        ``(grid, rgb, alpha)``: its grid, (h, w, 3) uint8, (h, w) uint8.
    """
    from ..damage.mapping import plane_maps
    from ..damage.ortho import Mosaic, exposure_gains, ortho_grid

    maps = plane_maps(project)
    grid = ortho_grid(project, maps, 1.0, max_side=max_side)
    mosaic = Mosaic(project, maps, grid, exposure_gains(project, maps, grid))
    rgb, alpha = mosaic.window(0, 0, grid.height, grid.width)
    return grid, rgb, alpha


def mapped_surface_ref_px(project: Project) -> float:
    """Area of the wall the registered views see (union of their footprints), reference-plane pixels²."""
    import shapely
    from shapely.geometry import Polygon, box

    from ..damage.grid import border_points, clip_box
    from ..damage.mapping import plane_maps

    polys = []
    for m in plane_maps(project).values():
        q = m.plane_from_view(border_points(m.view.size, 32))
        q = q[np.all(np.isfinite(q), axis=1)]
        if len(q) >= 3:
            polys.append(shapely.make_valid(Polygon(q)))
    if not polys:
        return 0.0
    W, H = project.reference.size
    return float(shapely.union_all(polys).intersection(box(*clip_box((-1e12, -1e12, 1e12, 1e12), (W, H)))).area)
