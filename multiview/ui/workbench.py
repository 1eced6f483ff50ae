"""The workbench: every action of the page as a method over one project.

A thin layer over the library: :class:`~multiview.project.Project` for objects and
prompts, the trackers (``run_tracking``) for propagation, :func:`multiview.review.review`
for drift, :func:`multiview.export.export` for exports. Request handlers call it from
worker threads; one lock serialises its writes in this process, and the project's own
file lock (re-read before every change) keeps other processes' edits.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..draw import mask_layer, occlusion_layer
from ..errors import MultiviewError, ProjectError, ValidationError
from ..project import Project
from ..raster import resize_prob
from ..tracking.interactive import CandidateMask
from .engine import Engine, EngineInfo, choose_engine
from .events import EventBus
from .images import PreviewCache, encode_jpeg, encode_png, preview_size
from .jobs import JobBusyError, JobRunner

if TYPE_CHECKING:  # pragma: no cover
    from ..project import ObjectInfo, View
    from ..tracking import TrackEvent

log = logging.getLogger(__name__)

_EXPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class NotFound(ValidationError):
    """Unknown view, object or prompt (HTTP 404)."""


def _parse_color(value: Any) -> tuple[int, int, int]:
    s = str(value)
    if not re.fullmatch(r"#?[0-9a-fA-F]{6}", s):
        raise ValidationError(f"colour {value!r} must be '#rrggbb'")
    s = s.lstrip("#")
    return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)


class Workbench:
    """One project opened in the browser workbench.

    Args:
        project_dir: the project folder (``multiview init``).
        engine: ``auto`` (sam2 if its checkpoint exists, else homography), ``sam2`` or ``homography``.
        sam2_options: options of the sam2 tracker (model, checkpoint, device, image_size, precision).
    """

    def __init__(
        self,
        project_dir: str | Path,
        engine: str = "auto",
        sam2_options: dict[str, Any] | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self.project = Project.open(project_dir, verify=True)
        self.root = self.project.root
        info: EngineInfo = choose_engine(engine, sam2_options or {})
        self.engine = Engine(info, sam2_options or {})
        self.bus = bus or EventBus()
        self.jobs = JobRunner(self.bus)
        self.previews = PreviewCache()
        self._lock = threading.RLock()
        self._revision = 0
        self._summaries: dict[tuple[int, str], tuple[tuple[int, int], dict[str, Any]]] = {}

    # ------------------------------------------------------------------ helpers
    def _fresh(self) -> Project:
        self.project.reload()
        return self.project

    def _changed(self, what: str, **extra: Any) -> None:
        self._revision += 1
        self.bus.publish({"type": "state", "reason": what, "revision": self._revision, **extra})

    def view(self, view_id: str) -> View:
        """The view with file name ``view_id`` (exact), else :class:`NotFound`."""
        import unicodedata

        want = unicodedata.normalize("NFC", view_id) if isinstance(view_id, str) else view_id
        for v in self.project.views:
            if unicodedata.normalize("NFC", v.id) == want:
                return v
        raise NotFound(f"no view '{view_id}' in this project")

    def _object(self, obj_id: Any, *, text_ok: bool = False) -> ObjectInfo:
        """The object ``obj_id``; strict: a JSON integer 1-255 (digits only where it comes from a URL).

        Raises:
            ValidationError: not an integer ("13", 1.0, true, 1e309 are refused: HTTP 400).
            NotFound: no such object (HTTP 404).
        """
        if isinstance(obj_id, str) and text_ok and re.fullmatch(r"[0-9]{1,3}", obj_id):
            oid = int(obj_id)
        elif isinstance(obj_id, int) and not isinstance(obj_id, bool):
            oid = obj_id
        else:
            raise ValidationError(f"object id {str(obj_id)[:20]!r} must be an integer from 1 to 255")
        if not 1 <= oid <= 255:
            raise ValidationError(f"object id {str(oid)[:20]} must be an integer from 1 to 255")
        for o in self._fresh().objects:
            if o.id == oid:
                return o
        raise NotFound(f"object {oid} does not exist; create it first")

    def _objects(self, value: Any) -> list[Any]:
        """A JSON list of object ids (strict; a text such as "13" is not a list)."""
        if not isinstance(value, list) or len(value) > 255:
            raise ValidationError("objects must be a list of object ids (integers from 1 to 255)")
        return [self._object(o) for o in value]

    def _no_job(self, action: str) -> None:
        if self.jobs.running:
            raise JobBusyError(f"tracking is running; cancel it or wait before you {action}")

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON (views in pseudo-video order)."""
        with self._lock:
            p = self._fresh()
            regs = p.registrations
            prompted = {(q.view_id, q.obj_id) for q in p.prompts}
            from ..occlusion import stored_layers

            layers = stored_layers(p)
            views = []
            for i, v in enumerate(p.views):
                reg = regs.get(v.id)
                results = {}
                for o in p.objects:
                    summary = self._result_summary(p, o.id, v.id)
                    if summary is not None:
                        results[o.id] = summary
                views.append(
                    {
                        "index": i,
                        "id": v.id,
                        "stem": v.stem,
                        "width": v.width,
                        "height": v.height,
                        "reference": v.id == p.state.reference,
                        "registration": None if reg is None else reg.status,
                        "registration_reason": None if reg is None else reg.reason,
                        "prompted": sorted(o for (vid, o) in prompted if vid == v.id),
                        "results": results,
                        "occluded_share": layers.views[v.id].occluded_share if v.id in layers.views else None,
                    }
                )
            return {
                "project": str(p.root),
                "revision": self._revision,
                "event_seq": self.bus.seq,
                "engine": {"name": self.engine.name, "note": self.engine.info.note},
                "views": views,
                "objects": [o.to_json() for o in p.objects],
                "prompts": [q.to_json() for q in p.prompts],
                "job": self.jobs.status.to_json(),
                "aligned": bool(regs),
                "occlusion": {"state": layers.state, "note": layers.note()},
            }

    def _result_summary(self, p: Project, obj_id: int, view_id: str) -> dict[str, Any] | None:
        """Area, scores and tracker of a stored result; re-read only when its file changed."""
        f = p.result_path(obj_id, view_id)
        try:
            st = f.stat()
        except FileNotFoundError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        hit = self._summaries.get((obj_id, view_id))
        if hit is not None and hit[0] == key:
            return hit[1]
        try:
            r = p.read_result(obj_id, view_id)
        except ProjectError as exc:  # one damaged file is reported on its view, the page stays whole
            return {"damaged": True, "error": str(exc), "stamp": st.st_mtime_ns}
        if r is None:
            return None
        summary = {
            "area": r.area,
            "score": r.score,
            "present_score": r.present_score,
            "tracker": r.tracker,
            "source_view": r.source_view,
            "preview": bool(r.meta.get("preview")),
            "stamp": st.st_mtime_ns,
        }
        self._summaries[(obj_id, view_id)] = (key, summary)
        return summary

    def review(self) -> dict[str, Any]:
        """Drift review of every stored result: rows per view and object, drifted worst first."""
        from ..review import review

        with self._lock:
            p = self._fresh()
            if not p.objects:
                return {"rows": [], "drifted": [], "views_to_correct": []}
            try:
                rep = review(p)
            except ProjectError as exc:  # a damaged result file: the page shows it on its view
                return {"rows": [], "drifted": [], "views_to_correct": [], "error": str(exc)}
        return {
            "rows": [r.to_json() for r in rep.rows],
            "drifted": [r.to_json() for r in rep.drifted()],
            "views_to_correct": rep.views_to_correct(),
        }

    # ------------------------------------------------------------------ objects
    def add_object(self, name: Any = None, color: Any = None) -> dict[str, Any]:
        if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
            raise ValidationError("object name must be a non-empty text of at most 200 characters")
        col = _parse_color(color) if color is not None else None
        with self._lock:
            o = self._fresh().add_object(None, name.strip() if name else None, col)
        self._changed("object added", obj_id=o.id)
        return o.to_json()

    def edit_object(self, obj_id: Any, name: Any = None, color: Any = None) -> dict[str, Any]:
        if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
            raise ValidationError("object name must be a non-empty text of at most 200 characters")
        col = _parse_color(color) if color is not None else None
        with self._lock:
            o = self._object(obj_id, text_ok=True)
            o = self.project.edit_object(o.id, name=name.strip() if name else None, color=col)
        self._changed("object edited", obj_id=o.id)
        return o.to_json()

    def remove_object(self, obj_id: Any) -> None:
        with self._lock:
            self._no_job("delete an object")
            o = self._object(obj_id, text_ok=True)
            self.project.remove_object(o.id)
        self._changed("object removed", obj_id=o.id)

    # ------------------------------------------------------------------ prompts
    def add_prompt(
        self,
        view_id: str,
        obj_id: Any,
        points: Any = (),
        labels: Any = (),
        box: Any = None,
        candidate: Any = None,
        merge: bool = True,
    ) -> dict[str, Any]:
        """Record a prompt and store the mask it gives on its view at once.

        With the homography engine the view's previous prompt of the object is merged in
        (its clicks are kept; a new box replaces the old one), since that tracker uses
        only the latest prompt of a view. With sam2 each click is its own prompt: the
        engine accumulates the clicks of a view itself (a box starts over, as in SAM 2).

        Raises:
            ValidationError: bad coordinates, labels or candidate (nothing is written).
            NotFound: unknown view or object.
            JobBusyError: tracking is running.
        """
        pts, labs, bx = _parse_prompt(points, labels, box)
        if candidate is not None and (isinstance(candidate, bool) or candidate not in (0, 1, 2)):
            raise ValidationError(f"candidate {candidate!r} must be 0, 1 or 2")
        with self._lock:
            self._no_job("add a prompt")
            v = self.view(view_id)
            o = self._object(obj_id)
            p = self.project
            if candidate is not None and (len(pts) != 1 or labs != [1] or bx is not None or p.prompts_for(o.id)):
                raise ValidationError("a candidate applies to the first single positive click of an object")
            old = p.prompts_for(o.id, v.id) if (merge and self.engine.name == "homography") else ()
            if old:
                last = max(old, key=lambda q: q.id)
                if last.mask_file is None:
                    pts = [*last.points, *pts]
                    labs = [*last.labels, *labs]
                    bx = bx if bx is not None else last.box
            prompt = p.add_prompt(v.id, o.id, points=pts, labels=labs, box=bx, candidate=candidate, create_object=False)
            try:
                self._store_view_mask(o.id, v.id)
            except MultiviewError:
                p.remove_prompts([prompt.id])  # refused (e.g. GrabCut without a positive click): undo
                raise
            if old and all(q.mask_file is None for q in old):
                p.remove_prompts([q.id for q in old])
        self._changed("prompt added", view=v.id, obj_id=o.id)
        return prompt.to_json()

    def _store_view_mask(self, obj_id: int, view_id: str, *, locked: bool = False) -> None:
        if not locked:  # results are written under the project's tracking lock: never beside a `track` run
            with self.project.tracking_lock(holder="workbench prompt"):
                return self._store_view_mask(obj_id, view_id, locked=True)
        r = self.engine.view_mask(self.project, obj_id, view_id)
        if r is not None:
            self.project.write_result(r)
        return None

    def remove_prompt(self, prompt_id: Any) -> None:
        try:
            pid = int(prompt_id)
        except (TypeError, ValueError):
            raise ValidationError(f"prompt id {prompt_id!r} must be an integer") from None
        with self._lock:
            self._no_job("remove a prompt")
            p = self._fresh()
            match = [q for q in p.prompts if q.id == pid]
            if not match:
                raise NotFound(f"prompt {pid} does not exist")
            q = match[0]
            with p.tracking_lock(holder="workbench prompt"):
                p.remove_prompts([pid])
                if p.prompts_for(q.obj_id, q.view_id):
                    self._store_view_mask(q.obj_id, q.view_id, locked=True)
        self._changed("prompt removed", view=q.view_id, obj_id=q.obj_id)

    def candidates(self, view_id: str, x: Any, y: Any) -> list[CandidateMask]:
        """SAM 2's three candidates for a first click at (x, y), original-photo pixels."""
        (pt,), _, _ = _parse_prompt([[x, y]], [1], None)
        with self._lock:
            self._no_job("ask for candidates")
            v = self.view(view_id)
            _check_inside(v, pt)
            cands = self.engine.candidates(self._fresh(), v.id, pt)
        return cands

    # ------------------------------------------------------------------ images
    def preview_jpeg(self, view_id: str, max_side: Any) -> bytes:
        v = self.view(view_id)
        return encode_jpeg(self.previews.image(self.project, v, _side(max_side)))

    def overlay_png(self, view_id: str, max_side: Any, obj_ids: list[Any] | None = None) -> bytes:
        v = self.view(view_id)
        size = preview_size(self.project, v, _side(max_side))
        with self._lock:
            p = self._fresh()
            objs = [self._object(o, text_ok=True) for o in obj_ids] if obj_ids else list(p.objects)
            masks = []
            for o in objs:
                try:
                    r = p.read_result(o.id, v.id)
                except ProjectError:
                    continue  # damaged: reported in the state, not drawn
                if r is not None:
                    masks.append((r.at_size(size)[0], o.color))
            occluded = self._occluded(p, v.id, size) if masks else None
        return encode_png(mask_layer(masks, size, hatched=occluded))

    def occlusion_png(self, view_id: str, max_side: Any) -> bytes:
        """RGBA PNG of the view's occluders, hatched, the size of the preview (transparent without a layer)."""
        v = self.view(view_id)
        size = preview_size(self.project, v, _side(max_side))
        with self._lock:
            occluded = self._occluded(self._fresh(), v.id, size)
        if occluded is None:
            occluded = np.zeros((size[1], size[0]), bool)
        return encode_png(occlusion_layer(occluded))

    def _occluded(self, p: Project, view_id: str, size: tuple[int, int]) -> np.ndarray | None:
        """(h, w) bool occluded pixels of a view at ``size``, or None without an up-to-date layer."""
        from ..occlusion import stored_layers

        layer = stored_layers(p).get(view_id)
        return None if layer is None else layer.at_size(size)[0]

    def mask_png(self, prob: np.ndarray, view_id: str, max_side: Any, color: tuple[int, int, int]) -> bytes:
        v = self.view(view_id)
        size = preview_size(self.project, v, _side(max_side))
        return encode_png(mask_layer([(resize_prob(prob, size) >= 128, color)], size))

    # ------------------------------------------------------------------ tracking
    def start_tracking(self, obj_ids: Any = None, full: Any = False) -> dict[str, Any]:
        """Start propagation (forward and backward) in the background.

        Raises:
            JobBusyError: a job is running (HTTP 409).
            ValidationError: no prompt, unknown object.
        """
        from ..tracking import run_tracking

        if not isinstance(full, bool):
            raise ValidationError("full must be true or false")
        with self._lock:
            p = self._fresh()
            ids = None
            if obj_ids is not None:
                if not isinstance(obj_ids, list):
                    raise ValidationError("objects must be a list of object ids")
                ids = [o.id for o in self._objects(obj_ids)]
            if not p.prompts:
                raise ValidationError("no prompt yet: click on an object in a view first")
            prompted = sorted({q.obj_id for q in p.prompts})
            ids = [o for o in (ids or prompted) if o in prompted]
            if not ids:
                raise ValidationError("the chosen objects have no prompt yet; click on them in a view first")
            total = len(ids) * len(p.views) * self._passes(p)
            if self.jobs.running:
                raise JobBusyError(f"a {self.jobs.status.kind} job is already running; wait for it or cancel it")
            with p.tracking_lock(holder="workbench propagation"):
                pass  # refuse at once (409) while another process tracks; the job takes the lock itself
        root, engine, bus = self.root, self.engine, self.bus

        def work(progress: Callable[..., None]) -> str:
            proj = Project.open(root, verify=False)

            def on_result(ev: TrackEvent) -> None:
                bus.publish(
                    {
                        "type": "result",
                        "view": ev.view_id,
                        "obj_id": ev.obj_id,
                        "area": ev.result.area,
                        "score": ev.result.score,
                        "computed_at": ev.result.computed_at,
                    }
                )
                what = f"object {ev.obj_id} on {ev.view_id}"
                if ev.result.meta.get("pass") == "preview":
                    what += f" ({ev.result.computed_at}; the full-size pass follows)"
                progress(ev.done, total, what, view=ev.view_id, obj_id=ev.obj_id)

            def waiting(other: str) -> None:
                progress(0, total, f"waiting for another tracking run to end ({other})")

            with engine.model_lock:
                # wait=True: a check of this workbench (or a process that started in between) may hold the
                # lock for a moment; the start was already refused if another run held it
                n = run_tracking(
                    proj,
                    engine.tracker,
                    obj_ids=ids,
                    full=full,
                    on_result=on_result,
                    wait=True,
                    holder="workbench propagation",
                    on_wait=waiting,
                )
            self._revision += 1
            return f"{engine.name}: stored {n} mask(s)"

        st = self.jobs.start("track", work, total=total)
        return st.to_json()

    def _passes(self, project: Project) -> int:
        """Passes a propagation makes: 2 with a SAM 2 preview pass (quick masks first, then full size), else 1."""
        if self.engine.name != "sam2":
            return 1
        trk = self.engine.tracker
        preview = trk.settings(project).preview_size  # type: ignore[attr-defined]
        return 2 if preview is not None and preview < trk.image_size else 1  # type: ignore[attr-defined]

    def cancel(self) -> bool:
        return self.jobs.cancel()

    # ------------------------------------------------------------------ export
    def export(
        self,
        formats: Any,
        name: Any = None,
        path: Any = None,
        overwrite: Any = False,
        keep: Any = "object",
        obj_ids: Any = None,
        beside_photos: Any = False,
        masks: Any = "default",
    ) -> dict[str, Any]:
        """Export into ``PROJECT/exports/<name>``, into ``path`` (any folder), or beside the photos.

        ``overwrite`` replaces only a previous, unchanged multiview export; the photo
        folder, the project and folders holding other files are refused (HTTP 409),
        nothing deleted. ``beside_photos`` adds realitycapture/metashape masks to the
        photo folder and never replaces a file multiview did not write. ``masks``:
        ``"visible"``, ``"amodal"`` or ``"default"`` (each format's own, see
        :class:`multiview.export.ExportOptions`).
        """
        from ..export import EXPORTERS, ExportOptions, export

        if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
            raise ValidationError(f"formats must be a non-empty list chosen from {', '.join(EXPORTERS)}")
        bad = [f for f in formats if f not in EXPORTERS]
        if bad:
            raise ValidationError(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(EXPORTERS)}")
        if not isinstance(overwrite, bool):
            raise ValidationError("overwrite must be true or false")
        if not isinstance(beside_photos, bool):
            raise ValidationError("beside_photos must be true or false")
        kinds = {"default": None, "visible": True, "amodal": False}
        if masks not in kinds:
            raise ValidationError(f"masks {masks!r} must be one of {', '.join(kinds)}")
        if path is not None and name is not None:
            raise ValidationError("give a name (folder inside the project's exports/) or a path, not both")
        if beside_photos:
            from ..export.photogrammetry import export_beside_photos

            if path is not None or name is not None or overwrite:
                raise ValidationError("beside_photos writes into the photo folder: give no name, path or overwrite")
            options = ExportOptions(keep=str(keep), visible=kinds[masks])
            with self._lock:
                p = self._fresh()
                ids = [o.id for o in self._objects(obj_ids)] if obj_ids else None
                counts = export_beside_photos(p, formats, obj_ids=ids, options=options)
            return {"out": p.state.photos_dir, "files": counts}
        if path is not None:
            if not isinstance(path, str) or not Path(path).is_absolute():
                raise ValidationError(f"export path {path!r} must be an absolute folder path")
            out = Path(path)
        else:
            name = name or "masks"
            if not isinstance(name, str) or not _EXPORT_NAME.match(name) or name in (".", ".."):
                raise ValidationError(f"export name {name!r} must be letters, digits, '.', '_' or '-' (at most 64)")
            out = self.root / "exports" / name
        options = ExportOptions(keep=str(keep), visible=kinds[masks])
        with self._lock:
            p = self._fresh()
            ids = [o.id for o in self._objects(obj_ids)] if obj_ids is not None else None
            counts = export(p, out, formats, obj_ids=ids, overwrite=overwrite, options=options)
        return {"out": str(out), "files": counts}


def _side(value: Any) -> int:
    from .images import MAX_PREVIEW_SIDE, MIN_PREVIEW_SIDE

    try:
        s = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"size {value!r} must be an integer number of pixels") from None
    if not MIN_PREVIEW_SIDE <= s <= MAX_PREVIEW_SIDE:
        raise ValidationError(f"size {s} must be from {MIN_PREVIEW_SIDE} to {MAX_PREVIEW_SIDE} pixels")
    return s


def _num(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ValidationError(f"{what} {v!r} must be a finite number")
    return float(v)


def _parse_prompt(
    points: Any, labels: Any, box: Any
) -> tuple[list[tuple[float, float]], list[int], tuple[float, float, float, float] | None]:
    if not isinstance(points, (list, tuple)) or not isinstance(labels, (list, tuple)):
        raise ValidationError("points and labels must be lists")
    if len(points) != len(labels):
        raise ValidationError(f"{len(points)} points but {len(labels)} labels")
    if len(points) > 100:
        raise ValidationError("at most 100 points per prompt")
    pts = []
    for p in points:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ValidationError(f"point {p!r} must be [x, y]")
        pts.append((_num(p[0], "x"), _num(p[1], "y")))
    labs = []
    for lab in labels:
        if isinstance(lab, bool) or lab not in (0, 1):
            raise ValidationError(f"label {lab!r} must be 1 (positive) or 0 (negative)")
        labs.append(int(lab))
    bx = None
    if box is not None:
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValidationError(f"box {box!r} must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (_num(b, "box coordinate") for b in box)
        bx = (x0, y0, x1, y1)
    if not pts and bx is None:
        raise ValidationError("empty prompt: give at least one point or a box")
    return pts, labs, bx


def _check_inside(v: View, pt: tuple[float, float]) -> None:
    x, y = pt
    if not (0 <= x < v.width and 0 <= y < v.height):
        raise ValidationError(f"point ({x:g}, {y:g}) is outside photo '{v.id}' ({v.width}x{v.height})")
