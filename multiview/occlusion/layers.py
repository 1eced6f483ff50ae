"""Occlusion layers of a project: computed after ``align``, stored per view, read by every consumer.

What is computed, and when:
    One layer per registered view (:class:`~multiview.project.OcclusionLayer`): where that
    photo does not show the wall because something stands in front of it. It depends only on
    the photos and the geometry, never on objects or prompts, so it is computed at the end of
    ``multiview align`` (where the geometry changes) and never again by ``track``, corrections,
    ``status`` or the workbench, which only read it. ``export`` computes it when it is missing
    or out of date (a project aligned by an older multiview). A *fingerprint* of the inputs
    (photo hashes, every view's geometry, the settings, the algorithm version) is stored with
    the layers; when it matches, nothing is recomputed.

How (see :mod:`.consistency` for the per-pixel test):
    1. For each registered view (the *target*) the up to ``max_sources`` other registered views
       that cover most of it (at least ``min_overlap`` of its area) are warped into it through
       the stored geometry, at an analysis size (longer side ``analysis_max_side``), with an
       anti-aliasing blur when a source is finer on the wall. :func:`.consistency.compare`
       gives strong evidence (consensus of two or more agreeing sources) and weak evidence
       (a single source).
    2. Each view's *anchored* occluders (strong evidence, and weak regions touching it) are
       mapped into its neighbours; a neighbour's weak-evidence region that touches them is
       attributed to that view, not to the neighbour (:func:`.consistency.finish`).
    3. The layer is cleaned, stored at the analysis size (``occlusion/<view>.npz``) and
       summarised in the project's ``"occlusion"`` section.

Convention:
    Geometry between two views goes through the reference plane: target pixel -> reference
    plane -> source pixel. Analysis pixels relate to original pixels by
    :func:`multiview.loading.scale_between` (pixel centres at integers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ValidationError
from ..raster import working_size
from .consistency import ConsistencyOptions, Evidence, Source, compare, finish

if TYPE_CHECKING:  # pragma: no cover
    from ..project import OcclusionLayer, Project, View

log = logging.getLogger(__name__)

#: Version of the method; part of the fingerprint, so a new method recomputes old layers.
ALGORITHM_VERSION = 1
#: Name of the project section that summarises the layers.
SECTION = "occlusion"
#: Spacing of the grid on which view-to-view maps are evaluated exactly (bilinear in between), analysis pixels.
GRID_STEP = 8

#: ``progress(done, total)`` after each view.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class OcclusionOptions:
    """Settings of the occlusion layers.

    Attributes:
        analysis_max_side: longer side of the images compared, pixels (the working copy is
            downscaled to it; the layers are stored at this size).
        max_sources: at most this many other views are compared with each view (those that
            cover most of it).
        min_overlap: a source must cover at least this share of the view (0..1).
        consistency: the per-pixel test (:class:`.consistency.ConsistencyOptions`).
    """

    analysis_max_side: int = 768
    max_sources: int = 4
    min_overlap: float = 0.05
    consistency: ConsistencyOptions = field(default_factory=ConsistencyOptions)

    def __post_init__(self) -> None:
        if not (isinstance(self.analysis_max_side, int) and self.analysis_max_side >= 64):
            raise ValidationError(f"analysis_max_side={self.analysis_max_side!r} must be an integer >= 64")
        if not (isinstance(self.max_sources, int) and self.max_sources >= 1):
            raise ValidationError(f"max_sources={self.max_sources!r} must be an integer >= 1")
        if not (0.0 <= self.min_overlap < 1.0):
            raise ValidationError(f"min_overlap={self.min_overlap!r} must be in [0, 1)")


@dataclass(frozen=True)
class ViewOcclusion:
    """Summary of one view's layer (also stored in the project's ``"occlusion"`` section).

    Attributes:
        view_id: the view.
        sources: the other views it was compared with, best overlap first.
        occluded_share: occluded pixels over known pixels (0..1).
        weak_share: occluded pixels resting on a single other view, over known pixels (0..1).
        known_share: known pixels over all pixels (0..1).
        seconds: time spent on the view (both passes).
        reason: why the view has no layer (unregistered, no other view overlaps), else None.
    """

    view_id: str
    sources: tuple[str, ...] = ()
    occluded_share: float | None = None
    weak_share: float | None = None
    known_share: float | None = None
    seconds: float = 0.0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"] = list(self.sources)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ViewOcclusion:
        return cls(
            view_id=str(d["view_id"]),
            sources=tuple(d.get("sources") or ()),
            occluded_share=d.get("occluded_share"),
            weak_share=d.get("weak_share"),
            known_share=d.get("known_share"),
            seconds=float(d.get("seconds") or 0.0),
            reason=d.get("reason"),
        )


# ---------------------------------------------------------------------------------------- geometry
class _Geometry:
    """Point maps between views through the reference plane (:mod:`multiview.plane` mappings).

    Works for any mapping the plane module offers (a homography, or a homography with a smooth
    residual for a curved wall), never composes raw homographies itself.
    """

    def __init__(self, project: Project) -> None:
        from ..plane import mappings

        self.maps = mappings(project)
        self.regs = project.registrations
        self._errors: dict[tuple[str, tuple[int, int]], np.ndarray | None] = {}

    def ok(self, view_id: str) -> bool:
        return view_id in self.maps

    def key(self, view_id: str) -> Any:
        """JSON-safe identity of the view's geometry (for the fingerprint), None when unregistered."""
        from ..plane import mapping_key

        m = self.maps.get(view_id)
        return None if m is None else mapping_key(m)

    def error(self, view_id: str, size: tuple[int, int]) -> np.ndarray | None:
        """(h, w) float32 registration error of a view at each pixel of its raster at ``size``, in those pixels.

        From the registration's held-out error (p90 per cell of its grid, reference-plane pixels,
        turned into view pixels by the map's local scale); cells without matches take the
        view's overall p90. None when the registration has no held-out error (the reference
        view, or a project aligned by an older multiview).
        """
        key = (view_id, size)
        if key not in self._errors:
            self._errors[key] = self._error(view_id, size)
        return self._errors[key]

    def _error(self, view_id: str, size: tuple[int, int]) -> np.ndarray | None:
        import cv2

        reg = self.regs.get(view_id)
        held = getattr(reg, "heldout", None)
        m = self.maps.get(view_id)
        if held is None or m is None or not held.grid_p90:
            return None
        grid = np.array([[np.nan if v is None else v for v in row] for row in held.grid_p90], np.float64)
        # Cells without matches (plain plaster, the edge of the painting) are where the model
        # extrapolates: they take the worst of their neighbours (at least the overall p90).
        fill = held.p90 if np.isfinite(held.p90) else 0.0
        pad = np.pad(grid, 1, constant_values=np.nan)
        win = np.lib.stride_tricks.sliding_window_view(pad, (3, 3))
        with np.errstate(invalid="ignore"):
            nb = np.where(np.isfinite(win), win, -np.inf).max(axis=(-2, -1))
        grid = np.where(np.isfinite(grid), grid, np.maximum(np.where(np.isfinite(nb), nb, fill), fill))
        rows, cols = grid.shape
        vw, vh = m.size
        # view pixels per reference pixel at each cell centre (local scale of the map)
        cx = (np.arange(cols) + 0.5) * vw / cols
        cy = (np.arange(rows) + 0.5) * vh / rows
        X, Y = np.meshgrid(cx, cy)
        p = np.c_[X.ravel(), Y.ravel()]
        ex, ey = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        q0, qx, qy = m.to_ref(p), m.to_ref(p + ex), m.to_ref(p + ey)
        det = np.abs((qx - q0)[:, 0] * (qy - q0)[:, 1] - (qx - q0)[:, 1] * (qy - q0)[:, 0]).reshape(rows, cols)
        view_per_ref = np.where(np.isfinite(det) & (det > 0), 1.0 / np.sqrt(np.maximum(det, 1e-12)), 1.0)
        err = grid * view_per_ref * (size[0] / vw)
        return cv2.resize(err.astype(np.float32), size, interpolation=cv2.INTER_NEAREST)

    def points(
        self, src: str, src_size: tuple[int, int], dst: str, dst_size: tuple[int, int], pts: np.ndarray
    ) -> np.ndarray:
        """(N, 2) pixels of a raster of view ``src`` at ``src_size`` -> pixels of ``dst`` at ``dst_size``.

        NaN where a point has no image.
        """
        return self.maps[dst].from_ref(self.maps[src].to_ref(pts, src_size), dst_size)


@dataclass(frozen=True)
class _Map:
    """Where each analysis pixel of a target falls in a source's analysis image.

    Attributes:
        mx, my: (h, w) float32 source coordinates (for ``cv2.remap``).
        valid: (h, w) bool, inside the source image.
        scale: median linear scale, source pixels per target pixel, over the valid pixels.
    """

    mx: np.ndarray
    my: np.ndarray
    valid: np.ndarray
    scale: float

    @property
    def overlap(self) -> float:
        return float(np.count_nonzero(self.valid)) / self.valid.size


def _view_map(geo: _Geometry, t: View, t_size: tuple[int, int], s: View, s_size: tuple[int, int]) -> _Map | None:
    """Map of target analysis pixels into the source's analysis image, exact on a grid, bilinear between."""
    import cv2

    w, h = t_size
    gx = np.arange(0, w - 1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    gy = np.arange(0, h - 1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    X, Y = np.meshgrid(gx, gy)
    nodes = np.c_[X.ravel(), Y.ravel()]
    q = geo.points(t.id, t_size, s.id, s_size, nodes).reshape(len(gy), len(gx), 2)
    inside = np.isfinite(q).all(-1)
    if not inside.any():
        return None
    q = np.where(inside[..., None], q, -1e6).astype(np.float32)
    # Bilinear interpolation of the node grid: node (i, j) sits at analysis pixel (j * step, i * step).
    fx = (np.arange(w, dtype=np.float32) / GRID_STEP)[None, :].repeat(h, 0)
    fy = (np.arange(h, dtype=np.float32) / GRID_STEP)[:, None].repeat(w, 1)
    mx = cv2.remap(q[..., 0], fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    my = cv2.remap(q[..., 1], fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sw, sh = s_size
    valid = (mx >= -0.5) & (mx <= sw - 0.5) & (my >= -0.5) & (my <= sh - 0.5)
    if not valid.any():
        return None
    # Local linear scale from the node grid (|det J| of the map, per node cell).
    dx = np.diff(q, axis=1)[:-1] / GRID_STEP
    dy = np.diff(q, axis=0)[:, :-1] / GRID_STEP
    det = np.abs(dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0])
    ok = inside[:-1, :-1] & inside[1:, :-1] & inside[:-1, 1:] & (det > 0)
    scale = float(np.sqrt(np.median(det[ok]))) if ok.any() else 1.0
    return _Map(mx, my, valid, scale)


def _source_error(geo: _Geometry, s: View, s_size: tuple[int, int], m: _Map) -> np.ndarray | None:
    """A source's registration error at each target pixel, in target pixels (None when unknown)."""
    import cv2

    err = geo.error(s.id, s_size)
    if err is None:
        return None
    at_target = cv2.remap(err, m.mx, m.my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return (at_target / max(m.scale, 1e-3)).astype(np.float32)


def _warp(image: np.ndarray, m: _Map) -> np.ndarray:
    """Warp a source image (RGB or a single map) into the target through ``m``, anti-aliased."""
    import cv2

    src: np.ndarray = image.astype(np.float32)
    if m.scale > 1.05:
        src = cv2.GaussianBlur(src, (0, 0), 0.5 * float(np.sqrt(m.scale**2 - 1.0)))
    return cv2.remap(src, m.mx, m.my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# ---------------------------------------------------------------------------------------- inputs
class _Images:
    """Analysis-size images of the views, decoded on demand, a few kept (LRU)."""

    def __init__(self, project: Project, max_side: int, keep: int = 12) -> None:
        self.project = project
        self.max_side = max_side
        self.keep = keep
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def size(self, v: View) -> tuple[int, int]:
        return analysis_size(v, self.max_side)

    def __call__(self, v: View) -> np.ndarray:
        import cv2

        if v.id in self._cache:
            self._cache.move_to_end(v.id)
            return self._cache[v.id]
        img = self.project.working_image(v)
        size = self.size(v)
        if (img.shape[1], img.shape[0]) != size:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        self._cache[v.id] = img
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return img


def analysis_size(view: View, max_side: int) -> tuple[int, int]:
    """``(w, h)`` of the analysis image of a view: its working copy bounded by ``max_side``."""
    return working_size(view.work_width, view.work_height, max_side)


def fingerprint(project: Project, options: OcclusionOptions) -> str:
    """Hex digest of everything the layers depend on: photos, geometry, settings, method version."""
    geo = _Geometry(project)
    blob = {
        "algorithm": ALGORITHM_VERSION,
        "options": asdict(options),
        "work_max_side": project.state.work_max_side,
        "views": [[v.id, v.sha256, geo.key(v.id)] for v in project.views],
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------- compute
@dataclass
class _Pass1:
    sources: list[str]
    evidence: Evidence
    anchored: np.ndarray
    seconds: float


def _anchored(ev: Evidence, options: ConsistencyOptions) -> np.ndarray:
    """Strong occluders plus the weak regions that touch them: what this view is sure it has in front."""
    import cv2

    if not ev.weak.any() or not ev.strong.any():
        return ev.strong.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.open_radius + 3,) * 2)
    near = cv2.dilate(ev.strong.astype(np.uint8), k).astype(bool)
    n, lab = cv2.connectedComponents(ev.weak.astype(np.uint8), connectivity=8)
    hit = np.zeros(n, bool)
    hit[np.unique(lab[ev.weak & near])] = True
    hit[0] = False
    return ev.strong | hit[lab]


def compute_occlusion(
    project: Project,
    options: OcclusionOptions | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, ViewOcclusion]:
    """Compute and store the occlusion layer of every registered view (see the module docstring).

    Nothing is recomputed when the stored layers' fingerprint matches (unless ``force``).
    Views that are not registered, or that no other registered view overlaps, get no layer
    (unknown everywhere) and a reason.

    Args:
        project: an aligned project (registrations stored).
        options: settings (default :class:`OcclusionOptions`).
        force: recompute even when the stored layers are up to date.
        progress: ``progress(done, total)`` after each view of each pass (total = 2 x views).

    Returns:
        view id -> :class:`ViewOcclusion`, in pseudo-video order.
    """
    options = options or OcclusionOptions()
    fp = fingerprint(project, options)
    if not force and is_fresh(project, options, fp):
        return summary(project)
    views = project.views
    geo = _Geometry(project)
    images = _Images(project, options.analysis_max_side)
    registered = [v for v in views if geo.ok(v.id)]
    out: dict[str, ViewOcclusion] = {}
    first: dict[str, _Pass1] = {}
    total = 2 * len(views)
    done = 0
    co = options.consistency
    for t in views:
        t0 = time.perf_counter()
        if not geo.ok(t.id):
            out[t.id] = ViewOcclusion(t.id, reason="not registered: its wall cannot be compared with the other views")
        else:
            t_size = images.size(t)
            cands = []
            for s in registered:
                if s.id == t.id:
                    continue
                m = _view_map(geo, t, t_size, s, images.size(s))
                if m is not None and m.overlap >= options.min_overlap:
                    cands.append((m.overlap, s, m))
            cands.sort(key=lambda c: -c[0])
            cands = cands[: options.max_sources]
            if not cands:
                out[t.id] = ViewOcclusion(t.id, reason="no other registered view overlaps it")
            else:
                srcs: list[Source] = [
                    (_warp(images(s), m), m.valid, min(1.0, m.scale), _source_error(geo, s, images.size(s), m))
                    for _, s, m in cands
                ]
                ev = compare(images(t), np.ones((t_size[1], t_size[0]), bool), srcs, co, geo.error(t.id, t_size))
                first[t.id] = _Pass1([s.id for _, s, _ in cands], ev, _anchored(ev, co), time.perf_counter() - t0)
        done += 1
        if progress is not None:
            progress(done, total)
    from ..project import OcclusionLayer

    by_id = {v.id: v for v in views}
    for t in views:
        p1 = first.get(t.id)
        if p1 is not None:
            t0 = time.perf_counter()
            t_size = images.size(t)
            explained = np.zeros((t_size[1], t_size[0]), bool)
            if p1.evidence.weak.any():
                for sid in p1.sources:
                    other = first.get(sid)
                    if other is None or not other.anchored.any():
                        continue
                    s = by_id[sid]
                    m = _view_map(geo, t, t_size, s, images.size(s))
                    if m is not None:
                        explained |= (_warp(other.anchored.astype(np.float32), m) >= 0.5) & m.valid
            verdict = finish(p1.evidence, explained, co)
            occ_u8 = _soft(verdict.occluded)
            n_known = int(np.count_nonzero(verdict.known))
            occ_share = float(np.count_nonzero(verdict.occluded)) / max(1, n_known)
            weak = verdict.occluded & (verdict.support <= 1)
            seconds = p1.seconds + time.perf_counter() - t0
            vo = ViewOcclusion(
                t.id,
                tuple(p1.sources),
                round(occ_share, 6),
                round(float(np.count_nonzero(weak)) / max(1, n_known), 6),
                round(n_known / verdict.known.size, 6),
                round(seconds, 3),
            )
            meta = {"fingerprint": fp, **vo.to_json()}
            project.write_occlusion(OcclusionLayer(t.id, occ_u8, verdict.known, verdict.support, meta))
            out[t.id] = vo
        else:
            f = project.occlusion_path(t.id)
            if f.exists():
                f.unlink()
        done += 1
        if progress is not None:
            progress(done, total)
    project.set_section(
        SECTION,
        {
            "version": ALGORITHM_VERSION,
            "fingerprint": fp,
            "options": asdict(options),
            "views": [out[v.id].to_json() for v in views],
        },
    )
    n = sum(1 for o in out.values() if o.occluded_share is not None)
    log.info("occlusion layers of %d of %d views computed", n, len(views))
    return out


def _soft(mask: np.ndarray) -> np.ndarray:
    """(h, w) bool -> uint8 0..255 with a slightly softened edge (smooth when upsampled)."""
    import cv2

    m: np.ndarray = mask.astype(np.float32)
    if mask.any():
        m = cv2.GaussianBlur(m, (0, 0), 0.7)
        m[mask] = np.maximum(m[mask], 0.5)
        m[~mask] = np.minimum(m[~mask], 0.49)
    return np.clip(np.rint(m * 255.0), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------- read
def is_fresh(project: Project, options: OcclusionOptions | None = None, fp: str | None = None) -> bool:
    """True when the stored layers were computed from the current photos, geometry and settings.

    Args:
        options: the settings to compare with (default: those the layers were computed with).
        fp: a fingerprint already computed for ``options``.
    """
    sec = project.section(SECTION)
    if not sec:
        return False
    if fp is None:
        fp = fingerprint(project, options or _stored_options(project))
    return sec.get("fingerprint") == fp


def summary(project: Project) -> dict[str, ViewOcclusion]:
    """The stored per-view summaries (empty when never computed)."""
    sec = project.section(SECTION)
    return {d["view_id"]: ViewOcclusion.from_json(d) for d in sec.get("views", [])}


class StoredLayers:
    """Read access to a project's occlusion layers, with their freshness checked once.

    Attributes:
        state: ``"fresh"`` (computed from the current photos, geometry and settings),
            ``"stale"`` (computed before the geometry or photos changed: not used),
            ``"missing"`` (never computed) or ``"unaligned"`` (no registered view besides the
            reference: nothing to compare).
        views: view id -> :class:`ViewOcclusion` (empty unless fresh).
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        sec = project.section(SECTION)
        aligned = sum(1 for r in project.registrations.values() if r.ok) >= 2
        if not aligned:
            self.state = "unaligned"
        elif not sec:
            self.state = "missing"
        elif not is_fresh(project):
            self.state = "stale"
        else:
            self.state = "fresh"
        self._fp = sec.get("fingerprint") if self.state == "fresh" else None
        self.views: dict[str, ViewOcclusion] = summary(project) if self.state == "fresh" else {}

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"

    def get(self, view: str) -> OcclusionLayer | None:
        """The layer of a view, or None (not fresh, or the view has no layer)."""
        if not self.fresh:
            return None
        layer = self.project.read_occlusion(view)
        if layer is None or layer.meta.get("fingerprint") != self._fp:
            return None
        return layer

    def note(self) -> str | None:
        """One line saying why there is no occlusion information, or None when fresh."""
        return {
            "fresh": None,
            "stale": "occlusion layers are out of date (the photos or the geometry changed): run `multiview align`",
            "missing": "occlusion layers not computed: run `multiview align`",
            "unaligned": "no occlusion layers: the project is not aligned (run `multiview align`)",
        }[self.state]


def stored_layers(project: Project) -> StoredLayers:
    """The project's occlusion layers as stored (never computes; see :func:`compute_occlusion`)."""
    return StoredLayers(project)


def ensure_layers(project: Project, progress: Progress | None = None) -> StoredLayers:
    """The project's layers, computed first when missing or out of date (an aligned project)."""
    layers = StoredLayers(project)
    if layers.state in ("missing", "stale"):
        log.info("occlusion layers %s: computing them", layers.state)
        compute_occlusion(project, _stored_options(project), progress=progress)
        layers = StoredLayers(project)
    return layers


def _stored_options(project: Project) -> OcclusionOptions:
    sec = project.section(SECTION)
    try:
        o = dict(sec.get("options", {}))
        return OcclusionOptions(**{**o, "consistency": ConsistencyOptions(**o.get("consistency", {}))})
    except (TypeError, ValidationError):
        return OcclusionOptions()
