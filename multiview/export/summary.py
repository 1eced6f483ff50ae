"""``summary`` export: areas per category for the condition report, and a picture for it.

``OUT/summary.csv`` (UTF-8, comma-separated, one header line), one row per object then one
``ALL`` row per category:

``category``, ``category_label``, ``object`` (id, or ``ALL``), ``name``, ``area_cm2`` (empty
without a scale), ``area_ref_px`` (reference-plane pixels²), ``share_of_mapped_wall`` (0..1:
area over the wall surface the registered views see), ``count`` (objects in the row).

``OUT/summary.png``: the orthophoto preview with the outlines in category colours, and a legend
(colour, hatch, label, area and share per category).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic

if TYPE_CHECKING:  # pragma: no cover
    from ..categories import Category
    from ..damage import DamageMap
    from ..project import Project
    from .base import ExportOptions

FIELDS = (
    "category",
    "category_label",
    "object",
    "name",
    "area_cm2",
    "area_ref_px",
    "share_of_mapped_wall",
    "count",
)


def summary_rows(dm: DamageMap, wall_ref_px: float) -> list[dict[str, object]]:
    """The CSV rows (see the module docstring)."""
    s = dm.scale
    rows: list[dict[str, object]] = []
    by_cat: dict[str, list] = {}
    for o in dm.outlines:
        by_cat.setdefault(o.category.key, []).append(o)

    def row(cat: Category, obj: str, name: str, area: float, count: int) -> dict[str, object]:
        return {
            "category": cat.key,
            "category_label": cat.label,
            "object": obj,
            "name": name,
            "area_cm2": "" if s is None else f"{area / s.px_per_cm**2:.2f}",
            "area_ref_px": f"{area:.1f}",
            "share_of_mapped_wall": f"{area / wall_ref_px:.5f}" if wall_ref_px > 0 else "",
            "count": count,
        }

    for objs in by_cat.values():
        for o in objs:
            rows.append(row(o.category, str(o.obj_id), o.name, o.area_ref_px, 1))
    for objs in by_cat.values():
        rows.append(row(objs[0].category, "ALL", "", sum(o.area_ref_px for o in objs), len(objs)))
    return rows


def _legend_swatch(img: np.ndarray, x: int, y: int, w: int, h: int, cat: Category) -> None:
    """Draw a legend swatch (tinted, hatched, framed) of ``cat`` into ``img`` at ``(x, y)``."""
    import cv2

    col = tuple(int(c) for c in cat.color)
    sw = np.ascontiguousarray(img[y : y + h, x : x + w])
    sw[:] = (sw * 0.6 + np.asarray(col) * 0.4).astype(np.uint8)
    step = 7
    if cat.hatch in ("diagonal", "cross"):
        for k in range(-h, w + h, step):
            cv2.line(sw, (k, h), (k + h, 0), col, 1, cv2.LINE_AA)
    if cat.hatch in ("backdiagonal", "cross"):
        for k in range(-h, w + h, step):
            cv2.line(sw, (k, 0), (k + h, h), col, 1, cv2.LINE_AA)
    if cat.hatch in ("horizontal", "grid"):
        for k in range(0, h, step):
            cv2.line(sw, (0, k), (w, k), col, 1)
    if cat.hatch in ("vertical", "grid"):
        for k in range(0, w, step):
            cv2.line(sw, (k, 0), (k, h), col, 1)
    if cat.hatch == "dots":
        for yy in range(3, h, step):
            for xx in range(3, w, step):
                cv2.circle(sw, (xx, yy), 1, col, -1)
    if cat.hatch == "solid":
        sw[:] = col
    img[y : y + h, x : x + w] = sw
    cv2.rectangle(img, (x, y), (x + w, y + h), col, 2)


def summary_picture(project: Project, dm: DamageMap, options: ExportOptions, wall_ref_px: float) -> np.ndarray:
    """(H, W, 3) uint8 RGB: orthophoto preview with outlines, and a legend panel on the right."""
    import cv2

    from .ortho import overlay, preview

    grid, rgb, alpha = preview(project, options, max_side=1600)
    img = overlay(rgb, alpha, dm, grid, 0, 0, width_px=2.0)
    img = np.where(alpha[..., None] > 0, img, 255).astype(np.uint8)
    cats: dict[str, tuple[Category, float, int]] = {}
    for o in dm.outlines:
        c, a, n = cats.get(o.category.key, (o.category, 0.0, 0))
        cats[o.category.key] = (c, a + o.area_ref_px, n + 1)
    lines = []
    s = dm.scale
    for c, a, n in cats.values():
        area = f"{a / s.px_per_cm**2:,.0f} cm2" if s is not None else f"{a:,.0f} px2"
        share = f", {100 * a / wall_ref_px:.2f}% of wall" if wall_ref_px > 0 else ""
        lines.append((c, f"{c.label} ({n}): {area}{share}"))
    font, fs, th = cv2.FONT_HERSHEY_SIMPLEX, 0.55, 1
    text_w = max([cv2.getTextSize(t, font, fs, th)[0][0] for _, t in lines] + [300])
    panel_w = 70 + text_w + 20
    h = max(img.shape[0], 60 + 34 * (len(lines) + 2))
    canvas = np.full((h, img.shape[1] + panel_w, 3), 255, np.uint8)
    canvas[: img.shape[0], : img.shape[1]] = img
    x = img.shape[1] + 20
    cv2.putText(canvas, "Damage map - legend", (x, 34), font, 0.65, (0, 0, 0), 2, cv2.LINE_AA)
    for k, (c, t) in enumerate(lines):
        y = 60 + 34 * k
        _legend_swatch(canvas, x, y, 40, 24, c)
        cv2.putText(canvas, t, (x + 50, y + 18), font, fs, (0, 0, 0), th, cv2.LINE_AA)
    note = "areas on the wall plane" if s is not None else "no scale set: reference-plane pixels"
    cv2.putText(canvas, note, (x, 60 + 34 * len(lines) + 20), font, 0.45, (90, 90, 90), 1, cv2.LINE_AA)
    return canvas


def export_summary(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """``OUT/summary.csv`` and ``OUT/summary.png``. Returns 2."""
    from .base import export_damage_map
    from .ortho import mapped_surface_ref_px

    dm = export_damage_map(project, obj_ids, options)
    wall = mapped_surface_ref_px(project)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(summary_rows(dm, wall))
    atomic.write_text(out / "summary.csv", buf.getvalue())
    atomic.write_image(out / "summary.png", summary_picture(project, dm, options, wall))
    return 2
