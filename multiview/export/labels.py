"""``labels`` export: one indexed-colour PNG per view, pixel value = object id.

Layout::

    OUT/labels/<photo-stem>.png     mode "P" (8-bit palette), original photo size; views
                                    without any result get no file
    OUT/labels/objects.json         id -> name, colour; the overlap rule

This is the DAVIS / SAM 2 convention: ``numpy.array(PIL.Image.open(f))`` gives the
object ids directly (0 = background), and the palette is the DAVIS (PASCAL VOC)
palette, so DAVIS tools and viewers show the usual colours.

Overlap rule:
    A pixel claimed by several objects gets the id of the object with the *smallest
    area in that view* (the smaller object is drawn on top), ties going to the higher
    id. Restorers nest objects (a lacuna inside a robe, a hand on a figure); the
    nested, smaller one stays visible. Pixels the tracker could not see are 0.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from .base import ExportOptions, iter_view_masks

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

OVERLAP_RULE = "smallest object in the view on top (ties: higher id)"


def davis_palette() -> np.ndarray:
    """(256, 3) uint8 DAVIS / PASCAL VOC palette: index 1 = (128, 0, 0), 2 = (0, 128, 0), ..."""
    pal = np.zeros((256, 3), dtype=np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[i] = (r, g, b)
    return pal


def label_image(masks: dict[int, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Combine object masks into one label image with the documented overlap rule.

    Args:
        masks: obj id (1..255) -> (H, W) bool.
        shape: ``(H, W)``.

    Returns:
        (H, W) uint8, 0 = background, else the object id.
    """
    out = np.zeros(shape, dtype=np.uint8)
    areas = {oid: int(np.count_nonzero(m)) for oid, m in masks.items()}
    # Paint the largest first so that smaller objects end on top; equal areas: higher id last.
    for oid in sorted(masks, key=lambda o: (-areas[o], o)):
        out[masks[oid]] = oid
    return out


def encode_label_png(labels: np.ndarray) -> bytes:
    """PNG bytes of a (H, W) uint8 label image in mode ``"P"`` with the DAVIS palette."""
    from PIL import Image

    lab = np.ascontiguousarray(labels, dtype=np.uint8)
    img = Image.frombuffer("P", (lab.shape[1], lab.shape[0]), lab.tobytes(), "raw", "P", 0, 1)
    img.putpalette(davis_palette().reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def export_labels(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Write ``out/labels/<stem>.png`` for every view with at least one result; returns files written."""
    n = 0
    folder = out / "labels"
    for vm in iter_view_masks(project, obj_ids, visible=options.visible_for(False)):
        if not vm.masks:
            continue
        labels = label_image(vm.masks, (vm.view.height, vm.view.width))
        atomic.write_bytes(folder / f"{vm.view.stem}.png", encode_label_png(labels))
        n += 1
    meta = {
        "convention": "pixel value = object id, 0 = background or unknown; DAVIS palette",
        "overlap_rule": OVERLAP_RULE,
        "objects": [o.to_json() for o in project.objects if o.id in set(obj_ids)],
    }
    atomic.write_text(folder / "objects.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return n + 1
