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

Occluders: by default (visible masks) pixels where something stands in front of the wall
in that photo (its occlusion layer, :mod:`multiview.occlusion`) are black in both modes -
they show scaffolding or a person, not the wall, and would put them into the model.
``ExportOptions.visible=False`` (``--amodal``) keeps the masks as the objects are.

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

Orientation (photos with an EXIF orientation tag, e.g. a camera held upright):
COLMAP reads the *stored* pixels of photos and masks and does not apply the tag, so
its mask must match the photo's stored pixel grid. Metashape (*Import Masks*, From
File) and RealityCapture (*Image Layers*: "all layers for the same image need to share
the same camera and object position", RealityCapture help) need the mask to cover the
photo pixel for pixel, but neither documents what it does with the tag. So every
photogrammetry mask is written in the photo's stored pixel geometry and, when the
photo has an orientation tag, carries the same tag (PNG ``eXIf`` chunk,
:func:`tool_mask_png`): a tool that ignores tags reads photo and mask as stored, a
tool that honours them turns both alike. (The png, labels, h5 and coco exports are
for documentation and damage maps and stay in display geometry, as a viewer shows
the photo.)

Masks beside the photos (:func:`export_beside_photos`): RealityCapture finds mask
layers next to the images, and Metashape's *Import Masks* can read its template
from the photo folder. This mode only *adds* files to the photo folder: it records
what it wrote (name, size, SHA-256) in ``.multiview-masks.json`` there, replaces a
file only if that record proves multiview wrote it and nobody changed it since, and
refuses, before writing anything, when a mask name is taken by any other file.
COLMAP is not offered there: it reads masks from a folder of their own
(``--ImageReader.mask_path``) and would take mask PNGs in the image folder for photos.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atomic
from ..atomic import file_sha256
from ..errors import TRACK, ExportError, PhotoSetError, ProjectExistsError, ValidationError, storage_error
from ..safety import BESIDE_PHOTOS_MANIFEST
from .base import ExportOptions, iter_view_masks

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

log = logging.getLogger(__name__)

#: tool -> (sub-folder, mask file name of a view): from the photo's file name as the tool sees it.
NAMING: dict[str, tuple[str, Callable[[View], str]]] = {
    "metashape": ("metashape", lambda v: f"{Path(v.file_name).stem}_mask.png"),
    "colmap": ("colmap", lambda v: f"{v.file_name}.png"),
    "realitycapture": ("realitycapture", lambda v: f"{v.file_name}.mask.png"),
}


def keep_mask(
    masks: dict[int, np.ndarray], shape: tuple[int, int], keep: str, occluded: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) uint8 mask, 255 = pixels the tool should use, 0 = excluded.

    Args:
        masks: obj id -> (H, W) bool (unknown pixels already False).
        keep: ``"object"`` or ``"background"``.
        occluded: (H, W) bool pixels to exclude in either mode (occluders), or None.
    """
    union = np.zeros(shape, dtype=bool)
    for m in masks.values():
        union |= m
    if keep != "object":
        np.logical_not(union, out=union)
    if occluded is not None:
        union &= ~occluded
    return union.view(np.uint8) * np.uint8(255)


def export_tool(tool: str, project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Write one tool's masks; returns the number of files written."""
    folder_name, name_of = NAMING[tool]
    folder = out / folder_name
    n, missing = 0, []
    visible = options.visible_for(True)
    for vm in iter_view_masks(project, obj_ids, occlusion=visible):
        if not vm.masks:
            missing.append(vm.view.id)
            continue
        m = keep_mask(vm.masks, (vm.view.height, vm.view.width), options.keep, vm.occluded if visible else None)
        atomic.write_bytes(folder / name_of(vm.view), tool_mask_png(project, vm.view, m))
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


#: Formats whose tool reads masks from the photo folder itself.
BESIDE_PHOTOS_FORMATS = ("realitycapture", "metashape")


def _read_ownership(path: Path) -> dict[str, Any]:
    """The ``files`` record of ``.multiview-masks.json`` (empty if there is none).

    Raises:
        ProjectExistsError: the file exists but is not multiview's record.
    """
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if path.is_symlink() or not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ProjectExistsError(
            f"'{path}' is not the record multiview keeps of the masks it added; "
            "move it away to export beside the photos"
        )
    return dict(data["files"])


def _ours(f: Path, rec: Any) -> bool:
    """True if file ``f`` holds what multiview recorded writing there (current or previous content)."""
    if not isinstance(rec, dict) or f.is_symlink() or not f.is_file():
        return False
    shas = {rec.get("sha256"), rec.get("previous")} - {None}
    return f.stat().st_size in {rec.get("size"), rec.get("previous_size")} and file_sha256(f) in shas


def export_beside_photos(
    project: Project,
    formats: Sequence[str] = ("realitycapture",),
    *,
    obj_ids: Sequence[int] | None = None,
    options: ExportOptions | None = None,
) -> dict[str, int]:
    """Add photogrammetry masks to the photo folder itself, next to each photo.

    Names as in :data:`NAMING` (``IMG_1.jpg.mask.png`` for RealityCapture,
    ``IMG_1_mask.png`` for Metashape). Only adds files: a mask replaces a file only
    when ``.multiview-masks.json`` proves multiview wrote it and it is unchanged;
    any other file under a mask's name stops the export before anything is written.
    Masks multiview wrote earlier for views that now have no result are removed
    (unchanged ones only), so the tool does not read a stale mask. ``multiview
    init`` skips the files listed in the record.

    Returns:
        format -> number of mask files written.

    Raises:
        ValidationError: a format whose tool does not read masks from the photo folder.
        PhotoSetError: the photo folder is missing (see ``multiview relink``).
        ProjectExistsError: a mask name is taken by a file multiview did not write.
        ExportError: nothing to export, or the folder cannot be written.
    """
    options = options or ExportOptions()
    fmts = list(dict.fromkeys(formats))
    bad = [f for f in fmts if f not in BESIDE_PHOTOS_FORMATS]
    if not fmts or bad:
        raise ValidationError(
            f"format(s) {', '.join(bad) or 'none'} cannot go beside the photos; "
            f"use {' or '.join(BESIDE_PHOTOS_FORMATS)} "
            "(COLMAP reads masks from a folder of their own: export it to a separate folder)"
        )
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for oid in ids:
        project.object(oid)
    folder = Path(project.state.photos_dir)
    if not folder.is_dir():
        from ..project.store import relink_hint

        raise PhotoSetError(
            f"photo folder '{folder}' is missing; put it back or relink the project to its new place",
            hint=relink_hint(project.root),
        )
    with_result = {v.id for v in project.views if any(project.has_result(o, v.id) for o in ids)}
    if not with_result:
        raise ExportError("the project has no tracked masks to export; track the objects first", hint=TRACK)
    record_path = folder / BESIDE_PHOTOS_MANIFEST
    try:
        owned = _read_ownership(record_path)
        targets = {(fmt, v.id): folder / NAMING[fmt][1](v) for fmt in fmts for v in project.views}
        # temporaries of a killed earlier run: only of the names this export writes
        atomic.clean_stale(folder, owners=[t.name for t in targets.values()] + [BESIDE_PHOTOS_MANIFEST])
        taken = [
            t.name
            for (fmt, vid), t in targets.items()
            if vid in with_result and os.path.lexists(t) and not _ours(t, owned.get(t.name))
        ]
        if taken:
            raise ProjectExistsError(
                f"'{taken[0]}' in photo folder '{folder}' was not written by multiview"
                + (f" ({len(taken) - 1} more)" if len(taken) > 1 else "")
                + "; nothing was written: move those files away or export to a folder of its own"
            )
        counts = dict.fromkeys(fmts, 0)
        visible = options.visible_for(True)
        if visible:
            from ..occlusion import ensure_layers

            note = ensure_layers(project).note()
            if note is not None:
                log.warning("%s; the masks keep occluders", note)
        for vm in iter_view_masks(project, ids, occlusion=visible):
            if vm.view.id not in with_result:
                continue
            m = keep_mask(vm.masks, (vm.view.height, vm.view.width), options.keep, vm.occluded if visible else None)
            data = tool_mask_png(project, vm.view, m)
            for fmt in fmts:
                t = targets[(fmt, vm.view.id)]
                old = owned.get(t.name) if os.path.lexists(t) else None
                rec: dict[str, Any] = {"size": len(data), "sha256": _sha256(data), "format": fmt}
                if isinstance(old, dict):
                    rec["previous"], rec["previous_size"] = old.get("sha256"), old.get("size")
                owned[t.name] = rec
                _write_ownership(record_path, project, owned)  # the record first: a kill never orphans a mask
                if old is not None:
                    atomic.write_bytes(t, data)
                else:
                    atomic.create_bytes(t, data)
                counts[fmt] += 1
        for (_fmt, vid), t in targets.items():  # stale masks of ours for views without a result now
            if vid not in with_result and t.name in owned and _ours(t, owned[t.name]):
                t.unlink()
                del owned[t.name]
                log.info("removed stale mask %s (view %s has no result now)", t.name, vid)
        _write_ownership(record_path, project, owned)
    except FileExistsError as exc:
        raise ProjectExistsError(
            f"'{exc.filename}' appeared in photo folder '{folder}' while exporting; it was kept: export again"
        ) from exc
    except OSError as exc:
        raise storage_error(exc) from exc
    return counts


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def view_orientation(project: Project, view: View) -> int:
    """EXIF orientation of a view's photo: as recorded, or read from the photo for older projects.

    Raises:
        PhotoError: the project predates recorded orientations and the photo is missing.
    """
    if view.orientation is not None:
        return view.orientation
    from ..loading import read_header

    return read_header(view.path).orientation


def tool_mask_png(project: Project, view: View, mask: np.ndarray) -> bytes:
    """A photogrammetry mask as PNG bytes, in the photo's *stored* pixel geometry, tagged with its orientation.

    Args:
        mask: (H, W) uint8 in display geometry (multiview's), 255 = use, 0 = exclude.

    Returns:
        PNG of the mask turned back to the photo's stored geometry
        (:func:`multiview.orientation.to_stored`); for orientations 2-8 it carries the
        photo's EXIF orientation in an ``eXIf`` chunk. A tool that reads stored pixels
        (COLMAP) finds mask and photo pixel for pixel; a tool that applies the tag turns
        both alike. Orientation 1 gives the plain mask.
    """
    from .. import orientation as orient
    from ..raster import encode_image

    o = view_orientation(project, view)
    if o == 1:
        return encode_image(mask, ".png")
    import io

    from PIL import Image

    stored = orient.to_stored(mask, o)
    exif = Image.Exif()
    exif[0x0112] = o
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, "PNG", exif=exif.tobytes())
    return buf.getvalue()


def _write_ownership(path: Path, project: Project, files: dict[str, Any]) -> None:
    from .._version import __version__

    atomic.write_json(
        path,
        {
            "format": "multiview-masks",
            "note": "masks multiview added to this photo folder; multiview replaces or removes only these, unchanged",
            "tool_version": __version__,
            "project": str(project.root),
            "files": dict(sorted(files.items())),
        },
    )
