"""The damage map as SVG: outlines over the orthophoto, with a legend.

Units: centimetres when a scale is set (the SVG's ``width``/``height`` are in ``cm`` and one
user unit is one centimetre), else reference-plane pixels. **y points down**, as SVG does:
``X = (x + 0.5) / px_per_cm``, ``Y = (y + 0.5) / px_per_cm`` from plane coordinates ``(x, y)``,
origin at the top-left corner of the reference photo. The orthophoto preview is embedded
(JPEG, base64) at its place; objects are drawn in their category colour with the category's
hatch (SVG ``<pattern>``), holes by the even-odd rule.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from ..categories import Category
    from ..damage import DamageMap
    from ..project import Project
    from .base import ExportOptions


def _pattern(c: Category, d: float) -> str:
    """SVG ``<pattern>`` of a category's hatch, line spacing ``d`` user units."""
    sw = d / 8
    line = f'<line x1="0" y1="0" x2="0" y2="{d:.4g}" stroke="{c.hex}" stroke-width="{sw:.4g}"/>'
    hline = f'<line x1="0" y1="0" x2="{d:.4g}" y2="0" stroke="{c.hex}" stroke-width="{sw:.4g}"/>'
    body, rot = {
        "diagonal": (line, 45),
        "backdiagonal": (line, -45),
        "vertical": (line, 0),
        "horizontal": (hline, 0),
        "cross": (line + hline, 45),
        "grid": (line + hline, 0),
        "dots": (f'<circle cx="{d / 2:.4g}" cy="{d / 2:.4g}" r="{d / 6:.4g}" fill="{c.hex}"/>', 0),
    }.get(c.hatch, ("", 0))
    return (
        f'<pattern id="hatch-{c.key}" patternUnits="userSpaceOnUse" width="{d:.4g}" height="{d:.4g}" '
        f'patternTransform="rotate({rot})">{body}</pattern>'
    )


def _path(geom: BaseGeometry, f: float) -> str:
    parts = []
    for p in getattr(geom, "geoms", [geom]):
        for ring in (p.exterior, *p.interiors):
            xy = (np.asarray(ring.coords)[:-1] + 0.5) * f
            parts.append("M" + " L".join(f"{x:.4f} {y:.4f}" for x, y in xy) + " Z")
    return " ".join(parts)


def damage_svg(project: Project, dm: DamageMap, options: ExportOptions) -> str:
    """The SVG document (text)."""
    from ..raster import encode_image
    from .ortho import preview

    grid, rgb, alpha = preview(project, options)
    s = dm.scale.px_per_cm if dm.scale is not None else 1.0
    unit = "cm" if dm.scale is not None else "px"
    f = 1.0 / s
    x0 = (grid.x0 - grid.step / 2 + 0.5) * f
    y0 = (grid.y0 - grid.step / 2 + 0.5) * f
    W, H = grid.width * grid.step * f, grid.height * grid.step * f
    fs = max(W, H) / 60
    legend_w = 22 * fs
    img = np.where(alpha[..., None] > 0, rgb, 255).astype(np.uint8)
    jpg = base64.b64encode(encode_image(img, ".jpg")).decode("ascii")
    cats: dict[str, Category] = {}
    areas: dict[str, float] = {}
    for o in dm.outlines:
        cats[o.category.key] = o.category
        areas[o.category.key] = areas.get(o.category.key, 0.0) + o.area_ref_px
    total_w = W + legend_w
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{total_w:.4f}{unit}" height="{H:.4f}{unit}" viewBox="{x0:.4f} {y0:.4f} {total_w:.4f} {H:.4f}">',
        f"<title>multiview damage map ({escape(dm.reference)})</title>",
        f"<desc>{escape(_units_note(dm, unit))}</desc>",
        "<defs>" + "".join(_pattern(c, fs * 0.8) for c in cats.values()) + "</defs>",
        f'<image x="{x0:.4f}" y="{y0:.4f}" width="{W:.4f}" height="{H:.4f}" preserveAspectRatio="none" '
        f'xlink:href="data:image/jpeg;base64,{jpg}"/>',
        '<g id="objects" fill-rule="evenodd">',
    ]
    for o in dm.outlines:
        c = o.category
        d = _path(o.geometry, f)
        a = o.area_cm2(dm.scale)
        title = f"{o.obj_id} {o.name} ({c.label})" + (f", {a:.1f} cm²" if a is not None else "")
        fill_op = 0.75 if c.hatch == "solid" else 0.25
        out.append(
            f'<g id="object-{o.obj_id}" class="{c.key}"><title>{escape(title)}</title>'
            f'<path d="{d}" fill="{c.hex}" fill-opacity="{fill_op}" stroke="{c.hex}" stroke-width="{fs / 8:.4g}"/>'
            + (f'<path d="{d}" fill="url(#hatch-{c.key})" stroke="none"/>' if c.hatch not in ("none", "solid") else "")
            + "</g>"
        )
    out.append("</g>")
    lx, ly = x0 + W + fs, y0 + 2 * fs
    out.append(f'<g id="legend" font-family="sans-serif" font-size="{fs:.4g}">')
    out.append(f'<text x="{lx:.4f}" y="{ly:.4f}" font-weight="bold">Legend</text>')
    for k, c in enumerate(cats.values()):
        y = ly + (k + 1) * 2 * fs
        fill_op = 0.75 if c.hatch == "solid" else 0.25
        a = areas[c.key] / s**2
        label = f"{c.label}: {a:.1f} {'cm²' if unit == 'cm' else 'px²'}"
        out.append(
            f'<rect x="{lx:.4f}" y="{y - fs:.4f}" width="{2 * fs:.4f}" height="{1.4 * fs:.4f}" fill="{c.hex}" '
            f'fill-opacity="{fill_op}" stroke="{c.hex}" stroke-width="{fs / 8:.4g}"/>'
            + (
                f'<rect x="{lx:.4f}" y="{y - fs:.4f}" width="{2 * fs:.4f}" height="{1.4 * fs:.4f}" '
                f'fill="url(#hatch-{c.key})"/>'
                if c.hatch not in ("none", "solid")
                else ""
            )
            + f'<text x="{lx + 2.6 * fs:.4f}" y="{y:.4f}">{escape(label)}</text>'
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _units_note(dm: DamageMap, unit: str) -> str:
    if unit == "cm" and dm.scale is not None:
        return (
            f"Units: centimetres on the wall plane, y down, origin at the top-left corner of the reference photo "
            f"{dm.reference}; scale {dm.scale.px_per_cm:.6g} px/cm."
        )
    return (
        f"Units: reference-plane pixels (no scale set), y down, origin at the top-left corner of the reference "
        f"photo {dm.reference}."
    )
