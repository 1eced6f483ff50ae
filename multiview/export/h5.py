"""``h5`` export: every view's mask stack in one HDF5 file, and :func:`read_h5` to read it back.

File layout (``OUT/masks.h5``; schema version :data:`SCHEMA_VERSION`)::

    /                         file attributes (below)
    /views/<NNNN>/            one group per view, NNNN = 0-based pseudo-video index, zero-padded
        masks                 (O, H, W) uint8   1 = object, 0 = not; the view's original size
                                                (amodal: where the object is, seen or hidden)
        visible               (O, H, W) uint8   1 = object and not occluded in this photo (masks
                                                minus occluded)
        occluded              (H, W)    uint8   1 = something in front of the wall hides it here
                                                (the view's occlusion layer; all 0 without one)
        occlusion_known       (H, W)    uint8   1 where the occlusion layer knows the answer (0 =
                                                no other view sees this part of the wall)
        known                 (O, H, W) uint8   1 where the tracker saw the photo (0 = unknown, and
                                                everywhere when the object has no result)
        has_result            (O,)      uint8   1 when a result is stored for the object
        score                 (O,)      float32 predicted mask score 0..1, NaN = none
        present_score         (O,)      float32 object-present score 0..1, NaN = none
        area_px               (O,)      float64 mask area, pixels of this view (exact count)
        area_ref_px           (O,)      float64 area in reference-plane pixels, NaN = not registered
        area_cm2              (O,)      float64 ``area_ref_px`` in cm² with a scale, else NaN
        H_ref_from_view       (3, 3)    float64 original view pixels -> original reference pixels,
                                                all NaN when the view is not registered
        attributes: name, index, sha256, width, height, registered, trackers (JSON: obj id -> name),
                    computed_at (JSON: obj id -> how the mask was computed, e.g. "sam2 1024 px",
                    "sam2 512 px preview"),
                    has_occlusion (a layer was available)
    /canvas/                  only when the project is aligned (at least one registered view
                              besides the reference): the reference plane
        masks                 (V, O, Hc, Wc) uint8  every view's masks warped into the canvas
        known                 (V, O, Hc, Wc) uint8  1 where the view saw the plane and the tracker knew
                                                    the value (0 for unregistered views)
        attributes: width, height, H_canvas_from_ref (3, 3) (a scale of the reference photo)

Axis order: V = views in pseudo-video order (the order of ``/views``), O = objects in the
order of the file attribute ``object_ids``, then rows (H) and columns (W).

File attributes: ``format`` (``"multiview-masks"``), ``schema_version``, ``tool_version``,
``created`` (UTC ISO 8601), ``reference`` (view name), ``object_ids`` (O,) int32,
``object_names`` (JSON list), ``object_colors`` (O, 3) uint8, ``object_categories`` (JSON list of
category keys), ``object_map_area_ref_px`` and ``object_map_area_cm2`` (O,) float64 (each object's
area on the damage map: its outline fused over every view on the reference plane, the figure the
damage-map exports and ``status`` give; NaN when unknown), ``view_names`` and
``view_sha256`` (JSON lists, length V), ``image_sizes`` (V, 2) int32 ``(width, height)``,
``model`` (JSON: the trackers and models that made the masks), ``prompts`` (JSON list of
the project's prompts, original-photo pixels), ``scale_px_per_cm`` (NaN without a scale),
``work_max_side``.

Storage: every mask dataset is chunked one mask plane per chunk (``(1, H, W)``, or
``(1, 1, Hc, Wc)`` on the canvas), clipped to at most :data:`MAX_CHUNK_BYTES` by taking
fewer rows for very large photos; gzip level 4. Views are written one at a time: memory
holds one view's masks, never the whole stack.

Convention:
    Pixel ``(x, y)`` is ``masks[o, y, x]``; origin at the top-left, pixel centres at
    integer coordinates. ``H_ref_from_view`` maps homogeneous ``(x, y, 1)`` of the view's
    original photo to the reference photo's original pixels.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atomic
from ..errors import OVERWRITE, ProjectError, ProjectExistsError
from .base import ExportOptions, iter_view_masks

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

FORMAT = "multiview-masks"
SCHEMA_VERSION = 2
#: Versions :func:`read_h5` reads (1: no ``visible``, ``occluded``, ``occlusion_known``).
READABLE_VERSIONS = (1, 2)
FILE_NAME = "masks.h5"
#: Largest chunk, bytes (HDF5 allows 4 GiB; smaller chunks keep partial reads cheap).
MAX_CHUNK_BYTES = 64 * 1024 * 1024
GZIP_LEVEL = 4


def _plane_chunks(lead: tuple[int, ...], h: int, w: int) -> tuple[int, ...]:
    rows = max(1, min(h, MAX_CHUNK_BYTES // max(1, w)))
    return (*(1 for _ in lead), rows, w)


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def is_aligned(project: Project) -> bool:
    """True when at least one view besides the reference is registered."""
    ref = project.reference.id
    return any(r.ok and vid != ref for vid, r in project.registrations.items())


def _magic(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(8)


def write_h5(
    project: Project,
    path: str | os.PathLike[str],
    obj_ids: Sequence[int] | None = None,
    options: ExportOptions | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the HDF5 mask file (layout in the module docstring) atomically.

    Raises:
        ProjectExistsError: ``path`` exists and ``overwrite`` is False, or it is not an
            HDF5 file, or it is a photo of the project or a link.
    """
    import h5py

    from .._version import __version__
    from ..plane import mappings, reference_canvas, result_areas, warp_result_to_ref
    from ..safety import protected_paths, refuse_protected

    options = options or ExportOptions()
    path = Path(path)
    refuse_protected(path, protected_paths(project), "HDF5 file")
    if path.exists() and not overwrite:
        raise ProjectExistsError(f"output '{path}' already exists; choose another name or replace it", hint=OVERWRITE)
    if path.exists() and (not path.is_file() or _magic(path) != b"\x89HDF\r\n\x1a\n"):
        raise ProjectExistsError(f"'{path}' is not an HDF5 file, so it was kept; choose another name")
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    objs = [project.object(o) for o in ids]
    views = project.views
    maps = mappings(project)
    aligned = is_aligned(project)
    canvas = reference_canvas(project, options.canvas_max_side)
    csize = canvas.size
    models: set[str] = set()
    gz = {"compression": "gzip", "compression_opts": GZIP_LEVEL}
    O = len(ids)
    with atomic.replacing(path, lock=False) as tmp, h5py.File(tmp, "w") as f:
        a = f.attrs
        a["format"] = FORMAT
        a["schema_version"] = SCHEMA_VERSION
        a["tool_version"] = __version__
        a["created"] = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        a["reference"] = project.reference.id
        a["object_ids"] = np.asarray(ids, dtype=np.int32)
        a["object_names"] = json.dumps([o.name for o in objs], ensure_ascii=False)
        a["object_colors"] = np.asarray([o.color for o in objs], dtype=np.uint8).reshape(O, 3)
        a["view_names"] = json.dumps([v.id for v in views], ensure_ascii=False)
        a["view_sha256"] = json.dumps([v.sha256 for v in views])
        a["image_sizes"] = np.asarray([v.size for v in views], dtype=np.int32).reshape(len(views), 2)
        a["prompts"] = json.dumps([p.to_json() for p in project.prompts if p.obj_id in ids], ensure_ascii=False)
        a["scale_px_per_cm"] = _nan(options.scale.px_per_cm if options.scale is not None else None)
        a["work_max_side"] = project.state.work_max_side
        from ..damage.outline import map_areas

        fused = {d["obj_id"]: d for d in map_areas(project, ids, options.scale)}
        a["object_categories"] = json.dumps([o.category for o in objs])
        a["object_map_area_ref_px"] = np.asarray([_nan(fused.get(i, {}).get("area_ref_px")) for i in ids], np.float64)
        a["object_map_area_cm2"] = np.asarray([_nan(fused.get(i, {}).get("area_cm2")) for i in ids], np.float64)
        a["axis_order"] = "views/<i>/masks: (object, y, x); canvas/masks: (view, object, y, x)"
        gviews = f.create_group("views")
        cm = ck = None
        if aligned:
            gc = f.create_group("canvas")
            gc.attrs["width"], gc.attrs["height"] = csize
            gc.attrs["H_canvas_from_ref"] = canvas.H_canvas_from_ref
            shape = (len(views), O, csize[1], csize[0])
            ch = _plane_chunks((1, 1), csize[1], csize[0])
            cm = gc.create_dataset("masks", shape=shape, dtype=np.uint8, chunks=ch, fillvalue=0, **gz)
            ck = gc.create_dataset("known", shape=shape, dtype=np.uint8, chunks=ch, fillvalue=0, **gz)
        for i, vm in enumerate(iter_view_masks(project, ids, occlusion=True)):
            v = vm.view
            vmap = maps.get(v.id)
            g = gviews.create_group(f"{i:04d}")
            g.attrs.update(
                {
                    "name": v.id,
                    "index": i,
                    "sha256": v.sha256,
                    "width": v.width,
                    "height": v.height,
                    "registered": vmap is not None,
                }
            )
            g.attrs["trackers"] = json.dumps({str(o): r.tracker for o, r in vm.results.items()})
            g.attrs["computed_at"] = json.dumps({str(o): r.computed_at for o, r in vm.results.items()})
            ch = _plane_chunks((1,), v.height, v.width)
            dm = g.create_dataset("masks", shape=(O, v.height, v.width), dtype=np.uint8, chunks=ch, fillvalue=0, **gz)
            dk = g.create_dataset("known", shape=(O, v.height, v.width), dtype=np.uint8, chunks=ch, fillvalue=0, **gz)
            dv = g.create_dataset("visible", shape=(O, v.height, v.width), dtype=np.uint8, chunks=ch, fillvalue=0, **gz)
            g.attrs["has_occlusion"] = vm.occluded is not None
            ch1 = _plane_chunks((), v.height, v.width)
            for name, plane in (("occluded", vm.occluded), ("occlusion_known", vm.occlusion_known)):
                data = np.zeros((v.height, v.width), np.uint8) if plane is None else plane.view(np.uint8)
                g.create_dataset(name, data=data, chunks=ch1, **gz)
            score = np.full(O, np.nan, np.float32)
            present = np.full(O, np.nan, np.float32)
            area_px = np.zeros(O, np.float64)
            area_ref = np.full(O, np.nan, np.float64)
            area_cm2 = np.full(O, np.nan, np.float64)
            has = np.zeros(O, np.uint8)
            for k, oid in enumerate(ids):
                r = vm.results.get(oid)
                if r is None:
                    continue
                has[k] = 1
                models.add(json.dumps({"tracker": r.tracker, "model": r.meta.get("model")}, sort_keys=True))
                m = vm.masks[oid]
                dm[k] = m.view(np.uint8)
                dv[k] = (m if vm.occluded is None else m & ~vm.occluded).view(np.uint8)
                kn = vm.known[oid]
                dk[k] = 1 if kn is None else kn.view(np.uint8)
                score[k], present[k] = _nan(r.score), _nan(r.present_score)
                area_px[k] = float(np.count_nonzero(m))
                areas = result_areas(r, v, vmap, options.scale)
                area_ref[k], area_cm2[k] = _nan(areas.ref_px), _nan(areas.cm2)
                if cm is not None and ck is not None and vmap is not None:
                    prob, known = warp_result_to_ref(vmap, r, canvas)
                    cm[i, k] = (prob >= 0.5).view(np.uint8)
                    ck[i, k] = known.view(np.uint8)
            for name, arr in (
                ("has_result", has),
                ("score", score),
                ("present_score", present),
                ("area_px", area_px),
                ("area_ref_px", area_ref),
                ("area_cm2", area_cm2),
            ):
                g.create_dataset(name, data=arr)
            H = vmap.H_ref_from_view if vmap is not None else np.full((3, 3), np.nan)
            g.create_dataset("H_ref_from_view", data=np.asarray(H, dtype=np.float64))
        a["model"] = json.dumps([json.loads(m) for m in sorted(models)])
    return path


def export_h5(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Write ``out/masks.h5``; returns 1 (files written)."""
    write_h5(project, out / FILE_NAME, obj_ids, options)
    return 1


@dataclass(frozen=True)
class H5View:
    """One view read back from the file (see the module docstring for each field's meaning).

    Attributes:
        name, index, sha256, width, height, registered: the view.
        masks, known: (O, H, W) bool.
        has_result: (O,) bool.
        visible: (O, H, W) bool, masks minus occluded pixels (schema 2; the masks for schema 1).
        occluded, occlusion_known: (H, W) bool, the view's occlusion layer (all False when it had
            none, or in schema 1).
        score, present_score: (O,) float32, NaN = none.
        area_px, area_ref_px, area_cm2: (O,) float64.
        H_ref_from_view: (3, 3) float64, or None when not registered.
    """

    name: str
    index: int
    sha256: str
    width: int
    height: int
    registered: bool
    masks: np.ndarray
    known: np.ndarray
    has_result: np.ndarray
    visible: np.ndarray
    occluded: np.ndarray
    occlusion_known: np.ndarray
    score: np.ndarray
    present_score: np.ndarray
    area_px: np.ndarray
    area_ref_px: np.ndarray
    area_cm2: np.ndarray
    H_ref_from_view: np.ndarray | None


@dataclass(frozen=True)
class MaskStack:
    """Content of a multiview HDF5 mask file, as returned by :func:`read_h5`.

    Attributes:
        schema_version, tool_version, created, reference: file provenance.
        object_ids: (O,) ids, the object axis order; object_names, object_colors likewise.
        views: per view, in pseudo-video order.
        prompts: the project's prompts as JSON dicts.
        model: trackers and models that made the masks.
        scale_px_per_cm: or None.
        canvas_masks, canvas_known: (V, O, Hc, Wc) bool, or None when not aligned.
        H_canvas_from_ref: (3, 3) or None.
        attrs: every file attribute, raw.
    """

    schema_version: int
    tool_version: str
    created: str
    reference: str
    object_ids: tuple[int, ...]
    object_names: tuple[str, ...]
    object_colors: tuple[tuple[int, int, int], ...]
    views: tuple[H5View, ...]
    prompts: list[dict[str, Any]]
    model: list[dict[str, Any]]
    scale_px_per_cm: float | None
    canvas_masks: np.ndarray | None = None
    canvas_known: np.ndarray | None = None
    H_canvas_from_ref: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def view(self, name: str) -> H5View:
        for v in self.views:
            if v.name == name:
                return v
        raise KeyError(name)


def _attr(a: Any) -> Any:
    return a.decode("utf-8") if isinstance(a, bytes) else a


def read_h5(path: str | os.PathLike[str], *, canvas: bool = True) -> MaskStack:
    """Read a file written by the ``h5`` export into memory.

    Loads every mask (and, with ``canvas``, the canvas stack); for files too large for
    memory open them with ``h5py`` directly and slice the datasets described in the
    module docstring.

    Raises:
        ProjectError: not a multiview mask file, or a schema version this multiview
            does not read.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"mask file '{path}' does not exist; check the path")
    try:
        f = h5py.File(path, "r", rdcc_nbytes=MAX_CHUNK_BYTES)
    except OSError as exc:
        raise ProjectError(f"'{path}' is not a readable HDF5 file ({exc})") from exc
    with f:
        a = {k: _attr(v) for k, v in f.attrs.items()}
        if a.get("format") != FORMAT:
            raise ProjectError(f"'{path}' is not a multiview mask file (format {a.get('format')!r})")
        version = int(a.get("schema_version", -1))
        if version not in READABLE_VERSIONS:
            raise ProjectError(
                f"'{path}' has mask-file schema version {version}; this multiview reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}: upgrade multiview or export again"
            )
        views = []
        for key in sorted(f["views"]):
            g = f["views"][key]
            ga = {k: _attr(v) for k, v in g.attrs.items()}
            H = g["H_ref_from_view"][()]
            masks = g["masks"][()].astype(bool)
            plane = (int(ga["height"]), int(ga["width"]))
            views.append(
                H5View(
                    name=str(ga["name"]),
                    index=int(ga["index"]),
                    sha256=str(ga["sha256"]),
                    width=int(ga["width"]),
                    height=int(ga["height"]),
                    registered=bool(ga["registered"]),
                    masks=masks,
                    known=g["known"][()].astype(bool),
                    has_result=g["has_result"][()].astype(bool),
                    visible=g["visible"][()].astype(bool) if "visible" in g else masks.copy(),
                    occluded=g["occluded"][()].astype(bool) if "occluded" in g else np.zeros(plane, bool),
                    occlusion_known=(
                        g["occlusion_known"][()].astype(bool) if "occlusion_known" in g else np.zeros(plane, bool)
                    ),
                    score=g["score"][()],
                    present_score=g["present_score"][()],
                    area_px=g["area_px"][()],
                    area_ref_px=g["area_ref_px"][()],
                    area_cm2=g["area_cm2"][()],
                    H_ref_from_view=None if np.isnan(H).all() else H,
                )
            )
        cmask = cknown = Hc = None
        if "canvas" in f:
            Hc = np.asarray(f["canvas"].attrs["H_canvas_from_ref"], dtype=np.float64)
            if canvas:
                cmask = f["canvas"]["masks"][()].astype(bool)
                cknown = f["canvas"]["known"][()].astype(bool)
        scale = float(a.get("scale_px_per_cm", float("nan")))
        colors = np.asarray(a["object_colors"]).reshape(-1, 3)
        return MaskStack(
            schema_version=version,
            tool_version=str(a.get("tool_version", "")),
            created=str(a.get("created", "")),
            reference=str(a["reference"]),
            object_ids=tuple(int(i) for i in np.asarray(a["object_ids"]).reshape(-1)),
            object_names=tuple(json.loads(a["object_names"])),
            object_colors=tuple((int(row[0]), int(row[1]), int(row[2])) for row in colors),
            views=tuple(views),
            prompts=json.loads(a.get("prompts", "[]")),
            model=json.loads(a.get("model", "[]")),
            scale_px_per_cm=None if np.isnan(scale) else scale,
            canvas_masks=cmask,
            canvas_known=cknown,
            H_canvas_from_ref=Hc,
            attrs=a,
        )


__all__ = ["FORMAT", "READABLE_VERSIONS", "SCHEMA_VERSION", "H5View", "MaskStack", "export_h5", "read_h5", "write_h5"]
