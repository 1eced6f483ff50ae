"""Photogrammetry masks: each tool's own file naming and polarity.

All three tools read an 8-bit greyscale PNG the size of the photo, where **white
(255) = use these pixels** and **black (0) = exclude them**. What is white depends
on ``ExportOptions.keep``:

* ``keep="object"``: the union of the selected objects is white, the rest black
  (reconstruct only the painted object);
* ``keep="background"``: the objects are black, the rest white (mask out an occluder
  such as scaffolding, a lamp or a person).

Pixels the tracker could not see count as "not object" in both modes. Views without
any result for the selected objects get no mask file (the tools then use the whole
photo); a warning names them.

Naming and sources:

``metashape`` -> ``OUT/metashape/<photo-stem>_mask.png``
    Agisoft Metashape, *Import Masks* with *Method: From File* and the filename
    template ``{filename}_mask.png``, where ``{filename}`` is the photo's name without
    extension (Metashape User Manual, "Masks"; Agisoft knowledge base "Masks from
    background photos" for the template). Black = masked (excluded), white = used.
``colmap`` -> ``OUT/colmap/<photo file name>.png`` (``IMG_1.jpg`` -> ``IMG_1.jpg.png``)
    COLMAP ``feature_extractor --ImageReader.mask_path OUT/colmap``: the mask of
    ``image.jpg`` is ``image.jpg.png``; no features are extracted where the mask is
    black (0) (COLMAP FAQ, "Mask image regions").
``realitycapture`` -> ``OUT/realitycapture/<photo file name>.mask.png`` (``IMG_1.jpg.mask.png``)
    RealityCapture image layers: a mask layer is the image's full file name plus
    ``.mask.png``, placed next to the images (RealityCapture help, "Image Layers",
    e.g. ``DSC_0001.jpg.mask.png``). Black areas are excluded from feature detection
    and meshing, white areas are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from .base import ExportOptions, iter_view_masks

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

log = logging.getLogger(__name__)

#: tool -> (sub-folder, mask file name of a view).
NAMING: dict[str, tuple[str, Callable[[View], str]]] = {
    "metashape": ("metashape", lambda v: f"{v.stem}_mask.png"),
    "colmap": ("colmap", lambda v: f"{v.id}.png"),
    "realitycapture": ("realitycapture", lambda v: f"{v.id}.mask.png"),
}


def keep_mask(masks: dict[int, np.ndarray], shape: tuple[int, int], keep: str) -> np.ndarray:
    """(H, W) uint8 mask, 255 = pixels the tool should use, 0 = excluded.

    Args:
        masks: obj id -> (H, W) bool (unknown pixels already False).
        keep: ``"object"`` or ``"background"``.
    """
    union = np.zeros(shape, dtype=bool)
    for m in masks.values():
        union |= m
    if keep != "object":
        np.logical_not(union, out=union)
    return union.view(np.uint8) * np.uint8(255)


def export_tool(tool: str, project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Write one tool's masks; returns the number of files written."""
    folder_name, name_of = NAMING[tool]
    folder = out / folder_name
    n, missing = 0, []
    for vm in iter_view_masks(project, obj_ids):
        if not vm.masks:
            missing.append(vm.view.id)
            continue
        m = keep_mask(vm.masks, (vm.view.height, vm.view.width), options.keep)
        atomic.write_image(folder / name_of(vm.view), m, ext=".png")
        n += 1
    if missing:
        log.warning(
            "%s: no mask for %d view(s) without results (%s); the tool will use those photos whole",
            tool,
            len(missing),
            ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else ""),
        )
    if n == 0:
        folder.mkdir(parents=True, exist_ok=True)
    return n


def export_metashape(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Metashape masks: ``out/metashape/<stem>_mask.png``."""
    return export_tool("metashape", project, out, obj_ids, options)


def export_colmap(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """COLMAP masks: ``out/colmap/<file name>.png``."""
    return export_tool("colmap", project, out, obj_ids, options)


def export_realitycapture(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """RealityCapture masks: ``out/realitycapture/<file name>.mask.png``."""
    return export_tool("realitycapture", project, out, obj_ids, options)
