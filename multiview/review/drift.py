"""Drift review: which views' masks disagree with the prompted views, and why.

For every object and view that has a stored result, :func:`review` measures the
areas (see :mod:`multiview.plane.areas`) and runs four checks:

``iou``
    The view's mask and the mask of the nearest prompted view (the result's
    ``source_view``, else the prompted view nearest in pseudo-video order; its
    stored result, else its mask prompt) are both warped into the reference plane
    (at ``canvas_max_side``) and compared by IoU over the pixels both views see.
    Flag when ``IoU < min_iou``. Skipped, with the reason in ``notes``, for prompted
    views, unregistered views or sources, and when the object is outside the area
    both views see.
``area``
    Sudden area change: the area is compared with the median area of up to
    ``neighbours`` views on each side (in pseudo-video order, among views where the
    object is present). Reference-plane areas when the view and its neighbours are
    registered, else the fraction of the photo. Flag when the ratio is above
    ``max_area_ratio`` or below its inverse. Views that see less than
    ``min_visible_for_area`` of the prompted view's mask (object cut by the photo's
    border, or unknown pixels) are left out of the comparison, with a note.
``score``
    Flag when the predicted mask score is below ``min_score``.
``absent``
    Object disappearance: an empty mask or an object-present score below
    ``min_present``. Not flagged when the object is expected to be out of sight: at
    most ``min_expected_visible`` of the prompted view's mask falls inside this view
    (registered views), or no neighbour shows it either (unregistered views).

Each failed check adds ``1 + margin`` to the row's ``severity`` (``margin`` in 0..1
grows with how far the value is past its threshold; a lost object counts 2), so
``ReviewReport.drifted()`` lists the worst first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ValidationError
from ..geometry import mask_iou
from ..plane import Areas, PlaneCanvas, ViewMapping, mappings, reference_canvas, result_areas, warp_result_to_ref

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale
    from ..project import MaskResult, Project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftThresholds:
    """Thresholds of the drift checks (see the module docstring).

    Attributes:
        min_iou: reference-plane IoU with the prompted view below which a view drifted (0..1).
        max_area_ratio: area ratio to the neighbours' median above which (or below its
            inverse) the area changed suddenly (> 1).
        min_score: predicted mask score below which a mask is doubtful (0..1).
        min_present: object-present score below which the object counts as lost (0..1).
        neighbours: views on each side used for the area check (>= 1).
        min_expected_visible: share of the prompted view's mask that must fall inside a
            view for the object's absence there to be a drift (0..1).
        min_visible_for_area: share of the prompted view's mask a view must see for its
            area to be compared with its neighbours' (an object cut by the photo's border
            or by unknown pixels legitimately shrinks) (0..1).
        canvas_max_side: longer side, pixels, of the reference plane raster the IoU is
            measured on (>= 64).
    """

    min_iou: float = 0.5
    max_area_ratio: float = 1.5
    min_score: float = 0.5
    min_present: float = 0.5
    neighbours: int = 2
    min_expected_visible: float = 0.25
    min_visible_for_area: float = 0.9
    canvas_max_side: int = 512

    def __post_init__(self) -> None:
        for name in ("min_iou", "min_score", "min_present", "min_expected_visible", "min_visible_for_area"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValidationError(f"drift threshold {name}={v!r} must be between 0 and 1")
        if not (isinstance(self.max_area_ratio, (int, float)) and self.max_area_ratio > 1.0):
            raise ValidationError(f"drift threshold max_area_ratio={self.max_area_ratio!r} must be above 1 (e.g. 1.5)")
        if not (isinstance(self.neighbours, int) and self.neighbours >= 1):
            raise ValidationError(f"drift threshold neighbours={self.neighbours!r} must be an integer >= 1")
        if not (isinstance(self.canvas_max_side, int) and self.canvas_max_side >= 64):
            raise ValidationError(f"canvas_max_side={self.canvas_max_side!r} must be an integer >= 64")


@dataclass(frozen=True)
class ObjectViewStats:
    """Review of one object on one view.

    Attributes:
        index: position of the view in the pseudo-video.
        view_id, obj_id: what it is about.
        has_result: False when no tracker result is stored (every measure is then None).
        prompted: the view carries a prompt for the object.
        tracker, source_view: from the stored result.
        computed_at: how the stored mask was computed (``MaskResult.computed_at``, e.g.
            ``"sam2 1024 px"`` or ``"sam2 512 px preview"``); empty without a result.
        area_px: area in view pixels (original photo).
        area_ref_px: area in reference-plane pixels, None when the view is not registered.
        area_cm2: reference-plane area in cm² with a scale, else None.
        score: predicted mask score 0..1 or None.
        present_score: object-present score 0..1 or None.
        iou: reference-plane IoU with ``iou_with`` (the prompted view compared to), or None.
        area_ratio: area over the neighbours' median, or None.
        occluded_share: share of the mask hidden by something in front of the wall in this
            photo (the view's occlusion layer, :mod:`multiview.occlusion`), 0..1; None when the
            view has no up-to-date layer.
        drift: True when at least one check failed.
        reasons: the failed checks, human-readable (e.g. ``"IoU 0.31 < 0.50 with IMG_1.jpg"``).
        notes: checks skipped and why, human-readable.
        severity: 0 when not drifted, else the sum over failed checks of ``1 + margin``.
    """

    index: int
    view_id: str
    obj_id: int
    has_result: bool
    prompted: bool = False
    tracker: str = ""
    computed_at: str = ""
    source_view: str | None = None
    area_px: float | None = None
    area_ref_px: float | None = None
    area_cm2: float | None = None
    score: float | None = None
    present_score: float | None = None
    iou: float | None = None
    iou_with: str | None = None
    area_ratio: float | None = None
    occluded_share: float | None = None
    drift: bool = False
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    severity: float = 0.0

    @property
    def reason(self) -> str:
        """Reasons then notes, joined by ``"; "``."""
        return "; ".join((*self.reasons, *self.notes))

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "view": self.view_id,
            "obj_id": self.obj_id,
            "has_result": self.has_result,
            "prompted": self.prompted,
            "tracker": self.tracker,
            "computed_at": self.computed_at,
            "source_view": self.source_view,
            "area_px": self.area_px,
            "area_ref_px": self.area_ref_px,
            "area_cm2": self.area_cm2,
            "score": self.score,
            "present_score": self.present_score,
            "iou": self.iou,
            "iou_with": self.iou_with,
            "area_ratio": self.area_ratio,
            "occluded_share": self.occluded_share,
            "drift": self.drift,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class ReviewReport:
    """Result of :func:`review`.

    Attributes:
        rows: one per (view, object), views in pseudo-video order, objects by id.
        thresholds: the thresholds used.
        scale: the scale used, or None.
    """

    rows: tuple[ObjectViewStats, ...]
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)
    scale: Scale | None = None

    def drifted(self) -> list[ObjectViewStats]:
        """Rows with a drift flag, worst (highest severity) first."""
        return sorted((r for r in self.rows if r.drift), key=lambda r: (-r.severity, r.index, r.obj_id))

    def views_to_correct(self) -> list[str]:
        """View ids with at least one drifted object, worst first."""
        out: list[str] = []
        for r in self.drifted():
            if r.view_id not in out:
                out.append(r.view_id)
        return out

    def row(self, view_id: str, obj_id: int) -> ObjectViewStats | None:
        for r in self.rows:
            if r.view_id == view_id and r.obj_id == obj_id:
                return r
        return None

    def for_view(self, view_id: str) -> list[ObjectViewStats]:
        return [r for r in self.rows if r.view_id == view_id]


class _Sources:
    """Lazily warped masks of the prompted views on the review canvas (small; cached)."""

    def __init__(self, project: Project, canvas: PlaneCanvas, maps: dict[str, ViewMapping]) -> None:
        self.project, self.canvas, self.maps = project, canvas, maps
        self._cache: dict[tuple[int, str], tuple[np.ndarray, np.ndarray] | None] = {}

    def get(self, obj_id: int, view_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        key = (obj_id, view_id)
        if key not in self._cache:
            self._cache[key] = self._load(obj_id, view_id)
        return self._cache[key]

    def _load(self, obj_id: int, view_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        m = self.maps.get(view_id)
        if m is None:
            return None
        r = self.project.read_result(obj_id, view_id)
        if r is not None:
            prob, known = warp_result_to_ref(m, r, self.canvas)
            return prob >= 0.5, known
        for p in reversed(self.project.prompts_for(obj_id, view_id)):
            pm = self.project.prompt_mask(p)
            if pm is not None:
                prob, known = m.warp_to_ref(pm.astype(np.uint8) * 255, self.canvas, geometry="orig")
                return prob >= 0.5, known
        return None


def _occluded_share(result: MaskResult, occluded: np.ndarray | None) -> float | None:
    """Share of a result's known mask pixels that are occluded (working geometry), or None."""
    if occluded is None:
        return None
    mask = result.mask if result.valid is None else result.mask & result.valid
    n = np.count_nonzero(mask)
    return float(np.count_nonzero(mask & occluded)) / n if n else 0.0


def _margin(value: float, threshold: float, worst: float) -> float:
    """0..1: how far ``value`` is past ``threshold`` towards ``worst``."""
    span = abs(worst - threshold)
    return 1.0 if span <= 0 else float(min(1.0, max(0.0, abs(value - threshold) / span)))


@dataclass(frozen=True)
class CheckOutcome:
    """What one check says about one object on one view.

    Attributes:
        reasons: failed-check descriptions (each makes the row drifted).
        notes: skipped-check explanations.
        severity: the check's share of :attr:`ObjectViewStats.severity` (0 when it passed).
    """

    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    severity: float = 0.0


@dataclass(frozen=True)
class IouOutcome(CheckOutcome):
    """The ``iou`` check (see the module docstring).

    Attributes:
        iou: reference-plane IoU with ``iou_with`` over the pixels both views see, or None.
        iou_with: the prompted view compared to, or None.
        visible: share 0..1 of that prompted view's mask inside this view, or None when unknown.
    """

    iou: float | None = None
    iou_with: str | None = None
    visible: float | None = None


@dataclass(frozen=True)
class AreaOutcome(CheckOutcome):
    """The ``area`` check: ``ratio`` of the area to the neighbours' median, or None when not compared."""

    ratio: float | None = None


@dataclass(frozen=True)
class Measured:
    """First-pass measurements of one object on one view that has a result.

    Attributes:
        index, view_id, obj_id, prompted: the row.
        tracker, source_view, score, present_score: from the stored result.
        computed_at: how the stored mask was computed (``MaskResult.computed_at``).
        areas: view, reference-plane and cm² areas.
        kind, value: the area the ``area`` check compares: ``"ref"`` (reference-plane pixels)
            when the view is registered, else ``"frac"`` (share of the photo).
        absent: empty mask, or object-present score below ``min_present``.
        score_check, iou_check: the checks that need only this view.
        occluded_share: share of the mask hidden in this view by something in front of the wall,
            or None without an occlusion layer.
    """

    index: int
    view_id: str
    obj_id: int
    prompted: bool
    tracker: str
    source_view: str | None
    score: float | None
    present_score: float | None
    areas: Areas
    kind: str
    value: float
    absent: bool
    score_check: CheckOutcome
    iou_check: IouOutcome
    computed_at: str = ""
    occluded_share: float | None = None


def check_score(score: float | None, th: DriftThresholds) -> CheckOutcome:
    """``score``: a predicted mask score below ``min_score``."""
    if score is not None and score < th.min_score:
        return CheckOutcome(
            reasons=(f"low score {score:.2f} < {th.min_score:.2f}",),
            severity=1.0 + _margin(score, th.min_score, 0.0),
        )
    return CheckOutcome()


def check_iou(
    result: MaskResult,
    src: str | None,
    vmap: ViewMapping | None,
    sources: _Sources,
    canvas: PlaneCanvas,
    absent: bool,
    th: DriftThresholds,
) -> IouOutcome:
    """``iou``: this view's mask against the prompted view ``src``'s, on the reference plane."""
    if src is None:
        return IouOutcome(notes=("no prompted view to compare: IoU skipped",))
    if vmap is None:
        return IouOutcome(notes=("no registration: IoU skipped",))
    s = sources.get(result.obj_id, src)
    if s is None:
        return IouOutcome(notes=(f"{src} is not registered or has no mask: IoU skipped",))
    prob, known = warp_result_to_ref(vmap, result, canvas)
    mask = prob >= 0.5
    smask, sknown = s
    n_src = np.count_nonzero(smask)
    visible = float(np.count_nonzero(smask & known)) / n_src if n_src else None
    common = known & sknown
    if not (mask & common).any() and not (smask & common).any():
        return IouOutcome(notes=(f"object outside the area {src} and this view share: IoU skipped",), visible=visible)
    iou = mask_iou(mask, smask, common)
    if iou < th.min_iou and not absent:
        return IouOutcome(
            reasons=(f"IoU {iou:.2f} < {th.min_iou:.2f} with {src}",),
            severity=1.0 + _margin(iou, th.min_iou, 0.0),
            iou=iou,
            iou_with=src,
            visible=visible,
        )
    return IouOutcome(iou=iou, iou_with=src, visible=visible)


def check_absent(row: Measured, neighbours: Sequence[Measured], th: DriftThresholds) -> CheckOutcome:
    """``absent``: an object that disappears where it should be seen (``row.absent`` only)."""
    what = "empty mask" if row.areas.px == 0 else f"object-present score {row.present_score:.2f}"
    vis = row.iou_check.visible
    if vis is not None:
        expected = vis > th.min_expected_visible
        why = f"{vis:.0%} of the prompted mask falls in this view"
    else:
        expected = any(not n.absent for n in neighbours)
        why = "no neighbour shows it either"
    if expected:
        return CheckOutcome(reasons=(f"object lost ({what})",), severity=2.0)
    return CheckOutcome(notes=(f"object out of sight ({what}; {why})",))


def check_area(row: Measured, neighbours: Sequence[Measured], th: DriftThresholds) -> AreaOutcome:
    """``area``: a sudden area change against the median of the neighbours that show the object."""
    vis = row.iou_check.visible
    if vis is not None and vis < th.min_visible_for_area:
        return AreaOutcome(notes=(f"object {vis:.0%} inside this view: area check skipped",))
    same = [
        n.value
        for n in neighbours
        if not n.absent
        and n.kind == row.kind
        and n.value > 0
        and (n.iou_check.visible is None or n.iou_check.visible >= th.min_visible_for_area)
    ]
    if not same or row.value <= 0:
        return AreaOutcome()
    ratio = row.value / float(np.median(same))
    if ratio > th.max_area_ratio or ratio < 1.0 / th.max_area_ratio:
        unit = "reference-plane area" if row.kind == "ref" else "area (photo fraction)"
        lr = abs(math.log(ratio))
        return AreaOutcome(
            reasons=(f"{unit} x{ratio:.2f} vs neighbours (limit x{th.max_area_ratio:g})",),
            severity=1.0 + _margin(lr, math.log(th.max_area_ratio), 2 * math.log(th.max_area_ratio)),
            ratio=ratio,
        )
    return AreaOutcome(ratio=ratio)


def _nearest_prompted(result: MaskResult, index: int, prompted: list[str], order: dict[str, int]) -> str | None:
    """The prompted view a result is compared to: its source view, else the nearest in pseudo-video order."""
    src = result.source_view if result.source_view in prompted else None
    if src is None and prompted:
        src = min(prompted, key=lambda s: (abs(order[s] - index), order[s]))
    return src


def review(
    project: Project,
    obj_ids: Sequence[int] | None = None,
    thresholds: DriftThresholds | None = None,
    scale: Scale | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ReviewReport:
    """Measure every stored result and flag drifted views (see the module docstring).

    Reads one result at a time (plus the prompted views' masks on a small canvas),
    so memory does not grow with the number of views. The checks are
    :func:`check_score` and :func:`check_iou` (first pass, per view), then
    :func:`check_absent` or :func:`check_area` (second pass, against the neighbours).

    Args:
        obj_ids: objects to review (default: all).
        thresholds: drift thresholds (default :class:`DriftThresholds`).
        scale: turns reference-plane areas into cm².
        progress: ``progress(i, n, view_id)`` before each view.

    Raises:
        ValidationError: unknown object.
    """
    th = thresholds or DriftThresholds()
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for oid in ids:
        project.object(oid)
    views = project.views
    order = {v.id: i for i, v in enumerate(views)}
    maps = mappings(project)
    canvas = reference_canvas(project, th.canvas_max_side)
    sources = _Sources(project, canvas, maps)
    prompted = {oid: sorted({p.view_id for p in project.prompts_for(oid)}, key=order.__getitem__) for oid in ids}
    from ..occlusion import stored_layers

    layers = stored_layers(project)

    # First pass: per-row measures and the checks that need only this view.
    rows: list[Measured | ObjectViewStats] = []
    for i, v in enumerate(views):
        if progress is not None:
            progress(i, len(views), v.id)
        vmap = maps.get(v.id)
        layer = layers.get(v.id)
        occluded = None if layer is None else layer.at_size(v.work_size)[0]
        for oid in ids:
            is_prompted = v.id in prompted[oid]
            r = project.read_result(oid, v.id)
            if r is None:
                rows.append(
                    ObjectViewStats(i, v.id, oid, has_result=False, prompted=is_prompted, notes=(NO_RESULT_NOTE,))
                )
                continue
            areas = result_areas(r, v, vmap, scale)
            absent = areas.px == 0 or (r.present_score is not None and r.present_score < th.min_present)
            if is_prompted:
                iou_check = IouOutcome(notes=("prompted view",))
            else:
                src = _nearest_prompted(r, i, prompted[oid], order)
                iou_check = check_iou(r, src, vmap, sources, canvas, absent, th)
            kind, value = ("frac", areas.px / (v.width * v.height)) if areas.ref_px is None else ("ref", areas.ref_px)
            rows.append(
                Measured(
                    index=i,
                    view_id=v.id,
                    obj_id=oid,
                    prompted=is_prompted,
                    tracker=r.tracker,
                    source_view=r.source_view,
                    score=r.score,
                    present_score=r.present_score,
                    areas=areas,
                    kind=kind,
                    value=value,
                    absent=absent,
                    score_check=check_score(r.score, th),
                    iou_check=iou_check,
                    computed_at=r.computed_at,
                    occluded_share=_occluded_share(r, occluded),
                )
            )

    # Second pass: checks against the neighbours (disappearance, area change).
    second: dict[tuple[str, int], CheckOutcome] = {}
    for oid in ids:
        seq = [m for m in rows if isinstance(m, Measured) and m.obj_id == oid]
        for k, m in enumerate(seq):
            nbrs = [n for n in seq[max(0, k - th.neighbours) : k + th.neighbours + 1] if n is not m]
            second[(m.view_id, oid)] = check_absent(m, nbrs, th) if m.absent else check_area(m, nbrs, th)

    out = tuple(r if isinstance(r, ObjectViewStats) else _stats(r, second[(r.view_id, r.obj_id)]) for r in rows)
    report = ReviewReport(out, th, scale)
    log.info("review: %d row(s), %d drifted", len(out), len(report.drifted()))
    return report


#: Note on a row without a stored result.
NO_RESULT_NOTE = "no result yet: track the object"


def _stats(m: Measured, neighbour_check: CheckOutcome) -> ObjectViewStats:
    """The row of a measured result, its checks combined in order (score, IoU, then absence or area)."""
    checks = (m.score_check, m.iou_check, neighbour_check)
    reasons = tuple(r for c in checks for r in c.reasons)
    severity = 0.0
    for c in checks:
        severity += c.severity
    return ObjectViewStats(
        index=m.index,
        view_id=m.view_id,
        obj_id=m.obj_id,
        has_result=True,
        prompted=m.prompted,
        tracker=m.tracker,
        computed_at=m.computed_at,
        source_view=m.source_view,
        area_px=m.areas.px,
        area_ref_px=m.areas.ref_px,
        area_cm2=m.areas.cm2,
        score=m.score,
        present_score=m.present_score,
        iou=m.iou_check.iou,
        iou_with=m.iou_check.iou_with,
        area_ratio=neighbour_check.ratio if isinstance(neighbour_check, AreaOutcome) else None,
        occluded_share=m.occluded_share,
        drift=bool(reasons),
        reasons=reasons,
        notes=tuple(n for c in checks for n in c.notes),
        severity=severity,
    )
