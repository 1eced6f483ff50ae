"""Export entry point and the per-view mask iterator every format uses."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from ..errors import ExportError, ProjectExistsError, ValidationError
from ..loading import resize_prob

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project, View

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewMasks:
    """The masks of one view at its original size, as exports need them.

    Attributes:
        view: the view.
        masks: obj id -> (H, W) bool mask in original geometry (unknown pixels are False).
        known: obj id -> (H, W) bool, False where the tracker could not see the photo; None = all known.
        results: obj id -> the stored result (scores, tracker).
    """

    view: "View"
    masks: dict[int, np.ndarray]
    known: dict[int, np.ndarray | None]
    results: dict[int, "MaskResult"]


def original_mask(result: "MaskResult", view: "View") -> tuple[np.ndarray, np.ndarray | None]:
    """Bring a stored result to the view's original size.

    The soft mask is interpolated bilinearly and thresholded at 0.5, never
    nearest-neighbour on a binary mask.

    Returns:
        ``(mask, known)``: (H, W) bool, and (H, W) bool or None.
    """
    mask = resize_prob(result.prob, view.size) >= 128
    known = None
    if result.valid is not None:
        known = resize_prob(result.valid.astype(np.uint8) * 255, view.size) >= 128
        mask &= known
    return mask, known


def iter_view_masks(project: "Project", obj_ids: Sequence[int] | None = None) -> Iterator[ViewMasks]:
    """Yield the masks of each view in pseudo-video order, one view at a time."""
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for v in project.views:
        masks, known, results = {}, {}, {}
        for oid in ids:
            r = project.read_result(oid, v.id)
            if r is None:
                continue
            masks[oid], known[oid] = original_mask(r, v)
            results[oid] = r
        yield ViewMasks(v, masks, known, results)


def export_png(project: "Project", out: Path, obj_ids: Sequence[int]) -> int:
    """One 8-bit PNG per object per view: ``out/<obj-id>/<photo-stem>.png``, 255 = object.

    Views without a result for an object get no file. Unknown pixels are written as 0.
    Returns the number of files written.
    """
    n = 0
    for vm in iter_view_masks(project, obj_ids):
        for oid, m in vm.masks.items():
            atomic.write_image(out / str(oid) / f"{vm.view.stem}.png", np.where(m, 255, 0).astype(np.uint8))
            n += 1
    return n


#: format name -> writer(project, staged_out_dir, obj_ids) -> files written.
EXPORTERS: dict[str, Callable[["Project", Path, Sequence[int]], int]] = {"png": export_png}


def export(
    project: "Project",
    out: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    obj_ids: Sequence[int] | None = None,
    overwrite: bool = False,
) -> dict[str, int]:
    """Export the stored results into folder ``out``.

    The folder is assembled under a temporary name and renamed when complete.

    Returns:
        format -> number of files written.

    Raises:
        ValidationError: unknown format or object.
        ProjectExistsError: ``out`` exists and ``overwrite`` is False.
        ExportError: nothing to export.
    """
    unknown = [f for f in formats if f not in EXPORTERS]
    if unknown:
        raise ValidationError(f"unknown export format '{unknown[0]}'; choose from {', '.join(EXPORTERS)}")
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for oid in ids:
        project.object(oid)
    if not any(project.has_result(oid, v.id) for oid in ids for v in project.views):
        raise ExportError("the project has no tracked masks to export; run `multiview track` first")
    out = Path(out)
    if out.exists() and not overwrite:
        raise ProjectExistsError(f"output '{out}' already exists; use --overwrite or another folder")
    counts: dict[str, int] = {}
    with atomic.staged_dir(out, overwrite=True) as tmp:
        for fmt in dict.fromkeys(formats):
            counts[fmt] = EXPORTERS[fmt](project, tmp, ids)
            log.info("export %s: %d file(s)", fmt, counts[fmt])
    return counts
