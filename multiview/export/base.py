"""Export entry point, options, and the per-view mask iterator every format uses.

Formats (one module each; every one streams view by view, never the whole stack):

``png`` (this module)
    ``OUT/<obj-id>/<photo-stem>.png``: one 8-bit mask per object and view, original
    size, 255 = object.
``labels`` (:mod:`.labels`)
    ``OUT/labels/<photo-stem>.png``: one indexed-colour PNG per view, pixel value =
    object id (DAVIS / SAM 2 convention).
``h5`` (:mod:`.h5`)
    ``OUT/masks.h5``: every view's mask stack, scores, homographies and, when
    aligned, the reference-plane stack.
``coco`` (:mod:`.coco`)
    ``OUT/coco.json``: COCO instance segmentation with RLE masks.
``metashape``, ``colmap``, ``realitycapture`` (:mod:`.photogrammetry`)
    ``OUT/<tool>/...``: masks in each tool's naming and polarity.
``ortho`` (:mod:`.ortho`)
    ``OUT/ortho/orthophoto.tif`` (tiled GeoTIFF) and ``orthophoto.jpg`` (preview): the wall
    rectified on the reference plane, mosaicked from every registered view.
``gpkg``, ``geojson``, ``dxf``, ``svg`` (:mod:`.vector`)
    ``OUT/damage_map.<ext>``: one outline per object fused on the reference plane, with
    category, area and perimeter (see :mod:`multiview.damage`).
``summary`` (:mod:`.summary`)
    ``OUT/summary.csv`` (areas per category and object) and ``OUT/summary.png`` (legend over
    the orthophoto).

Visible and amodal masks: an object's mask says where it is on the wall, seen or hidden
(*amodal*); its *visible* mask leaves out the pixels where something stands in front of the
wall in that photo (the view's occlusion layer, :mod:`multiview.occlusion`). ``png``,
``labels`` and ``coco`` write amodal masks unless ``ExportOptions.visible`` is True; the
photogrammetry formats write visible masks unless it is False (``--amodal``); ``h5`` stores
both. Pixels whose occlusion is unknown (no other view sees them) count as visible.

Every export also writes ``OUT/export.json`` (formats, file counts, options, tool
version, and how each mask was computed: ``computed_at``, object id -> description
(e.g. ``"sam2 1024 px"``, ``"sam2 512 px preview"``) -> views). The folder is
assembled under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atomic
from ..errors import OVERWRITE, TRACK, ExportError, ProjectExistsError, ValidationError, storage_error

if TYPE_CHECKING:  # pragma: no cover
    from ..damage import DamageMap
    from ..plane import Scale
    from ..project import MaskResult, Project, View

log = logging.getLogger(__name__)


#: What the photogrammetry masks keep: the painted objects, or everything but them (occluders).
KEEP_CHOICES = ("object", "background")
#: Formats that write visible masks unless told otherwise (``--amodal``).
VISIBLE_BY_DEFAULT = frozenset({"metashape", "colmap", "realitycapture"})


@dataclass(frozen=True)
class ExportOptions:
    """Options shared by the export formats.

    Attributes:
        keep: photogrammetry masks keep ``"object"`` (the selected objects are white,
            the rest black) or ``"background"`` (the objects, e.g. scaffolding, are black).
        scale: reference-view scale turning reference-plane areas into cm² (h5, coco).
        canvas_max_side: longer side of the reference-plane stack in the h5 file, pixels
            (default: the reference view's working size).
        tolerance_px: simplification tolerance of the damage-map outlines, in pixels of the fused
            reference-plane grid (gpkg, geojson, dxf, svg, summary).
        ortho_res: orthophoto resolution, pixels per centimetre on the wall (needs ``scale``);
            None = the reference photo's own resolution.
        ortho_overlay: also write the orthophoto with the objects drawn over it.
        progress: ``progress(stage, done, total)`` during long formats (ortho, damage map).
        visible: True: visible masks (objects minus occluded pixels); False: amodal (the whole
            object, hidden parts included); None: each format's default (visible for the
            photogrammetry formats, amodal for the others).
    """

    keep: str = "object"
    scale: Scale | None = None
    canvas_max_side: int | None = None
    tolerance_px: float = 0.5
    ortho_res: float | None = None
    ortho_overlay: bool = False
    progress: Callable[[str, int, int], None] | None = None
    visible: bool | None = None

    def visible_for(self, default: bool) -> bool:
        """Whether a format whose default is ``default`` writes visible masks."""
        return default if self.visible is None else bool(self.visible)

    def __post_init__(self) -> None:
        if not (self.tolerance_px >= 0):
            raise ValidationError(f"outline tolerance {self.tolerance_px} must be >= 0 pixels")
        if self.ortho_res is not None:
            if not (self.ortho_res > 0):
                raise ValidationError(f"orthophoto resolution {self.ortho_res} px/cm must be positive")
            if self.scale is None:
                raise ValidationError(
                    f"--ortho-res {self.ortho_res:g} px/cm needs the wall's scale: set it with "
                    "`multiview scale PROJECT_DIR PX_PER_CM` (or X1,Y1,X2,Y2,DIST), or give --scale"
                )
        if self.keep not in KEEP_CHOICES:
            raise ValidationError(f"keep '{self.keep}' is unknown; use one of {', '.join(KEEP_CHOICES)}")
        if self.canvas_max_side is not None and self.canvas_max_side < 16:
            raise ValidationError(f"canvas size {self.canvas_max_side} is too small; use at least 16 pixels")


@dataclass(frozen=True)
class ViewMasks:
    """The masks of one view at its original size, as exports need them.

    Attributes:
        view: the view.
        masks: obj id -> (H, W) bool mask in original geometry (unknown pixels are False); the
            visible masks when :func:`iter_view_masks` was asked for them, else amodal.
        known: obj id -> (H, W) bool, False where the tracker could not see the photo; None = all known.
        results: obj id -> the stored result (scores, tracker).
        occluded: (H, W) bool, where something stands in front of the wall in this photo (unknown
            pixels are False), or None when the view has no occlusion layer.
        occlusion_known: (H, W) bool, where the occlusion layer knows the answer, or None.
    """

    view: View
    masks: dict[int, np.ndarray]
    known: dict[int, np.ndarray | None]
    results: dict[int, MaskResult]
    occluded: np.ndarray | None = None
    occlusion_known: np.ndarray | None = None


def original_mask(result: MaskResult, view: View) -> tuple[np.ndarray, np.ndarray | None]:
    """Bring a stored result to the view's original size.

    The soft mask is interpolated bilinearly and thresholded at 0.5, never
    nearest-neighbour on a binary mask.

    Returns:
        ``(mask, known)``: (H, W) bool, and (H, W) bool or None.
    """
    return result.at_size(view.size)


def iter_view_masks(
    project: Project, obj_ids: Sequence[int] | None = None, *, visible: bool = False, occlusion: bool = False
) -> Iterator[ViewMasks]:
    """Yield the masks of each view in pseudo-video order, one view at a time.

    Args:
        visible: visible masks (occluded pixels removed) instead of amodal ones.
        occlusion: also load each view's occlusion layer (implied by ``visible``).

    The occlusion layers are read as stored (:func:`multiview.occlusion.stored_layers`); a view
    without an up-to-date layer has ``occluded`` None and its visible masks are the amodal ones.
    """
    from ..occlusion import stored_layers

    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    layers = stored_layers(project) if (visible or occlusion) else None
    for v in project.views:
        masks, known, results = {}, {}, {}
        for oid in ids:
            r = project.read_result(oid, v.id)
            if r is None:
                continue
            masks[oid], known[oid] = original_mask(r, v)
            results[oid] = r
        occ = occ_known = None
        layer = layers.get(v.id) if layers is not None else None
        if layer is not None:
            occ, occ_known = layer.at_size(v.size)
            if visible:
                for oid in masks:
                    masks[oid] = masks[oid] & ~occ
        yield ViewMasks(v, masks, known, results, occ, occ_known)


def export_png(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """One 8-bit PNG per object per view: ``out/<obj-id>/<photo-stem>.png``, 255 = object.

    Views without a result for an object get no file. Unknown pixels are written as 0.
    Amodal masks unless ``options.visible``. Returns the number of files written.
    """
    n = 0
    for vm in iter_view_masks(project, obj_ids, visible=options.visible_for(False)):
        for oid, m in vm.masks.items():
            atomic.write_image(out / str(oid) / f"{vm.view.stem}.png", m.view(np.uint8) * np.uint8(255))
            n += 1
    return n


Writer = Callable[["Project", Path, Sequence[int], ExportOptions], int]

#: format name -> ``"module:function"`` of a writer ``(project, staged_out_dir, obj_ids, options) -> files written``
#: (imported when used, so h5py and pycocotools load only for their formats).
EXPORTERS: dict[str, str] = {
    "png": f"{__name__}:export_png",
    "labels": "multiview.export.labels:export_labels",
    "h5": "multiview.export.h5:export_h5",
    "coco": "multiview.export.coco:export_coco",
    "metashape": "multiview.export.photogrammetry:export_metashape",
    "colmap": "multiview.export.photogrammetry:export_colmap",
    "realitycapture": "multiview.export.photogrammetry:export_realitycapture",
    "ortho": "multiview.export.ortho:export_ortho",
    "gpkg": "multiview.export.vector:export_gpkg",
    "geojson": "multiview.export.vector:export_geojson",
    "dxf": "multiview.export.vector:export_dxf",
    "svg": "multiview.export.vector:export_svg",
    "summary": "multiview.export.summary:export_summary",
}

#: Formats made from the damage map (objects fused on the reference plane).
DAMAGE_FORMATS = ("gpkg", "geojson", "dxf", "svg", "summary")


def get_writer(fmt: str) -> Writer:
    """The writer function of format ``fmt``.

    Raises:
        ValidationError: unknown format.
    """
    import importlib

    if fmt not in EXPORTERS:
        raise ValidationError(f"unknown export format '{fmt}'; choose from {', '.join(EXPORTERS)}")
    mod, func = EXPORTERS[fmt].split(":")
    return getattr(importlib.import_module(mod), func)


#: Name and format tag of the manifest every export folder holds.
EXPORT_MANIFEST = "export.json"
EXPORT_FORMAT = "multiview-export"


def previous_export_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a previous multiview export that may be replaced (None if it is one).

    A folder is a previous export when its ``export.json`` was written by multiview
    (format tag ``multiview-export`` and the size and SHA-256 of every file it wrote,
    see :func:`multiview.safety.file_records`) and the folder holds exactly those
    files, unchanged. Anything else (another file, a changed mask, a link, an
    ``export.json`` from an older multiview that did not record its files) is
    somebody's data and is kept.
    """
    from ..safety import changed_files

    manifest = folder / EXPORT_MANIFEST
    if not manifest.is_file() or manifest.is_symlink():
        return f"is not a multiview export (no {EXPORT_MANIFEST})"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        return f"is not a multiview export (its {EXPORT_MANIFEST} was not written by multiview)"
    contents = data.get("contents")
    if not isinstance(contents, dict):
        return "was exported by an older multiview that did not record its files, so it cannot be told apart from yours"
    found = changed_files(folder, contents, ignore=(EXPORT_MANIFEST,))
    if found:
        return "holds files that are not that export's (" + "; ".join(found) + ")"
    return None


def check_export_target(project: Project, out: Path, overwrite: bool) -> None:
    """Refuse an export folder that would replace anything but a previous, unchanged multiview export.

    Raises:
        ProjectExistsError: ``out`` is a link, a file, the photo folder, the project,
            a folder containing either, an existing folder without ``overwrite``, or,
            with ``overwrite``, a folder that is not a previous multiview export
            (:func:`previous_export_problem`). Nothing is deleted.
    """
    from ..safety import protected_paths, refuse_protected

    refuse_protected(out, protected_paths(project), "export folder")
    if not out.exists():
        return
    if not out.is_dir():
        raise ProjectExistsError(f"export folder '{out}' is a file; choose a folder name")
    if not any(out.iterdir()):
        return  # an empty folder holds nothing to lose
    if not overwrite:
        raise ProjectExistsError(
            f"export folder '{out}' already exists; choose another folder or replace that previous export",
            hint=OVERWRITE,
        )
    problem = previous_export_problem(out)
    if problem is not None:
        raise ProjectExistsError(
            f"export folder '{out}' {problem}; nothing was replaced: choose another folder "
            "(overwrite replaces only a previous, unchanged multiview export)"
        )


def computed_at(project: Project, obj_ids: Sequence[int]) -> dict[str, dict[str, list[str]]]:
    """How each stored mask was computed: ``{obj id: {MaskResult.computed_at: [view ids]}}``.

    A quick preview that the full-size pass has not replaced shows as e.g. ``"sam2 512 px preview"``.
    """
    out: dict[str, dict[str, list[str]]] = {}
    for oid in obj_ids:
        groups: dict[str, list[str]] = {}
        for v in project.views:
            r = project.read_result(oid, v.id)
            if r is not None:
                groups.setdefault(r.computed_at, []).append(v.id)
        out[str(oid)] = groups
    return out


def export(
    project: Project,
    out: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    obj_ids: Sequence[int] | None = None,
    overwrite: bool = False,
    options: ExportOptions | None = None,
) -> dict[str, int]:
    """Export the stored results into folder ``out``.

    The folder is assembled under a temporary name and renamed when complete, so
    ``out`` is either the previous folder or the complete new one. Its
    ``export.json`` records every file written (size, SHA-256): that is what lets a
    later ``overwrite`` replace this folder, and nothing else.

    Args:
        formats: names from :data:`EXPORTERS` (several allowed).
        obj_ids: objects to export (default: all).
        overwrite: replace ``out`` if it is a previous, unchanged multiview export
            (:func:`check_export_target`); an empty folder is always used.
        options: :class:`ExportOptions` (keep, scale, canvas size).

    Returns:
        format -> number of files written.

    Raises:
        ValidationError: unknown format or object.
        ProjectExistsError: ``out`` may not be replaced (see :func:`check_export_target`).
        ExportError: nothing to export, or the folder cannot be written (disk full,
            no permission).
    """
    import datetime as _dt

    from .._version import __version__
    from ..safety import file_records

    options = options or ExportOptions()
    writers = {fmt: get_writer(fmt) for fmt in dict.fromkeys(formats)}
    mask_kind = {fmt: ("visible" if options.visible_for(fmt in VISIBLE_BY_DEFAULT) else "amodal") for fmt in writers}
    if "h5" in mask_kind:
        mask_kind["h5"] = "amodal and visible"
    if not writers:
        raise ValidationError(f"no export format given; choose from {', '.join(EXPORTERS)}")
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for oid in ids:
        project.object(oid)
    if not any(project.has_result(oid, v.id) for oid in ids for v in project.views):
        raise ExportError("the project has no tracked masks to export; track the objects first", hint=TRACK)
    out = Path(out)
    if not out.is_symlink():
        atomic.recover_swap(out)  # a replacement killed between its two renames: the previous export is back
        atomic.clean_stale(out.parent, out.name + ".")  # folders of killed exports to this name
    check_export_target(project, out, overwrite)
    occlusion_note = None
    if any(k != "amodal" for k in mask_kind.values()):
        from ..occlusion import ensure_layers

        layers = ensure_layers(project)
        occlusion_note = layers.note()
        if occlusion_note is not None:
            log.warning("%s; visible masks are the full masks", occlusion_note)
    counts: dict[str, int] = {}
    try:
        with atomic.staged_dir(out, overwrite=True) as tmp:
            for fmt, writer in writers.items():
                counts[fmt] = writer(project, tmp, ids, options)
                log.info("export %s: %d file(s)", fmt, counts[fmt])
            manifest = {
                "format": EXPORT_FORMAT,
                "tool_version": __version__,
                "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                "project": str(project.root),
                "objects": ids,
                "files": counts,
                "keep": options.keep,
                "masks": mask_kind,
                "occlusion": occlusion_note or "up to date",
                "scale_px_per_cm": options.scale.px_per_cm if options.scale is not None else None,
                **_damage_manifest(project, ids, options, writers),
                "contents": file_records(tmp),
                "computed_at": computed_at(project, ids),
            }
            atomic.write_text(tmp / EXPORT_MANIFEST, json.dumps(manifest, indent=2) + "\n")
    except OSError as exc:
        raise storage_error(exc) from exc
    return counts


def _damage_manifest(project: Project, ids: list[int], options: ExportOptions, formats: Any) -> dict[str, Any]:
    """The damage-map part of ``export.json``: mapped and skipped objects, units, tolerance."""
    if not any(f in DAMAGE_FORMATS for f in formats):
        return {}
    from ..damage import damage_map

    dm = damage_map(project, ids, options.scale, tolerance_px=options.tolerance_px)
    return {"damage_map": dm.manifest()}


def export_damage_map(project: Project, ids: Sequence[int], options: ExportOptions) -> DamageMap:
    """The damage map the map formats (ortho overlay, gpkg, geojson, dxf, svg, summary) write.

    Raises:
        ExportError: no object can be placed on the reference plane (the reasons are listed).
    """
    from ..damage import damage_map

    prog = options.progress
    dm = damage_map(
        project,
        ids,
        options.scale,
        tolerance_px=options.tolerance_px,
        progress=(lambda i, n: prog("outlines", i, n)) if prog is not None else None,
    )
    if not dm.outlines:
        reasons = "; ".join(f"object {i}: {r}" for i, r in dm.skipped)
        raise ExportError(f"no object can be placed on the reference plane ({reasons})")
    return dm
