"""What a faster speed preset costs on the user's own views, with the user's own checkpoint.

The presets' speed is measured by ``benchmarks/tracking.py``; their accuracy cannot be
measured here (no checkpoint can be downloaded: the benchmarks and tests use random
weights). :func:`check_speed` runs ``exact`` and a preset side by side on a few of a
project's views, from the object's own prompts, and reports the IoU between the
masks view by view, so a restorer sees what the faster preset changes before
choosing it. Nothing is written to the project except the feature cache.

The check exercises the precision, the attention kernel and the preview pass; the
conditioning-frame cap and the early stop act only when there are corrections
(several prompted views), which the report says.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import TrackingError, ValidationError
from .speed import SpeedSettings, speed_preset

if TYPE_CHECKING:  # pragma: no cover
    from ...project import Project
    from .tracker import Sam2Tracker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewAgreement:
    """Agreement of a preset with ``exact`` on one view.

    Attributes:
        obj_id, view_id: what it is about.
        iou: IoU of the preset's mask with ``exact``'s (masks ``prob > 0.5`` in frame
            geometry; 1.0 when both are empty).
        preview_iou: IoU of the preset's preview mask with ``exact``'s, or None (no preview).
        prompted: the view carries a prompt of the object.
        exact_area, preset_area: mask areas, frame pixels.
    """

    obj_id: int
    view_id: str
    iou: float
    preview_iou: float | None
    prompted: bool
    exact_area: int
    preset_area: int


@dataclass(frozen=True)
class SpeedCheck:
    """Result of :func:`check_speed`.

    Attributes:
        settings: the checked preset's settings.
        image_size: model input size of both runs, pixels.
        views: the views compared, in pseudo-video order.
        rows: one :class:`ViewAgreement` per object and view.
        exact_s, preset_s: wall time of each run (image encoding included), seconds.
        preview_s: wall time of the preview pass, or None.
        corrections: True when the compared stretch holds several prompted views (the
            conditioning-frame cap can act); the early stop never acts in this check.
    """

    settings: SpeedSettings
    image_size: int
    views: tuple[str, ...]
    rows: tuple[ViewAgreement, ...]
    exact_s: float
    preset_s: float
    preview_s: float | None
    corrections: bool

    @property
    def min_iou(self) -> float:
        """Lowest per-view IoU of the preset's final masks with ``exact``."""
        return min(r.iou for r in self.rows)

    @property
    def min_preview_iou(self) -> float | None:
        vals = [r.preview_iou for r in self.rows if r.preview_iou is not None]
        return min(vals) if vals else None


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union


def check_speed(
    project: Project,
    tracker: Sam2Tracker,
    *,
    settings: SpeedSettings | None = None,
    views: int = 4,
    obj_ids: Sequence[int] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SpeedCheck:
    """Run ``exact`` and ``settings`` on ``views`` consecutive views and compare their masks.

    The stretch starts at the object's first prompted view in the pseudo-video order
    (moved back when it would pass the last view); the object's prompts inside the
    stretch are given to both runs, which propagate over the stretch only.

    Args:
        tracker: a sam2 tracker (its model, checkpoint, image size, frames mode).
        settings: the preset to check (default: the tracker's settings for the project).
        views: number of views (at least 2).
        obj_ids: objects to compare (default: the first prompted object).
        on_progress: called with a short message before each run.

    Returns:
        The per-view agreement and the timings.

    Raises:
        ValidationError: fewer than 2 views, or ``settings`` is ``exact`` itself.
        TrackingError: the objects have no prompt.
    """
    from .session import Job

    settings = settings if settings is not None else tracker.settings(project)
    exact = speed_preset("exact")
    if replace(settings, name="exact") == exact:
        raise ValidationError("the speed settings to check are 'exact' itself; choose one with --speed balanced|fast")
    if views < 2:
        raise ValidationError(f"--check-views {views}: compare at least 2 views")
    prompted = sorted({p.obj_id for p in project.prompts})
    ids = list(obj_ids) if obj_ids else prompted[:1]
    if not ids or any(o not in prompted for o in ids):
        raise TrackingError("the object to check has no prompt; add one with `multiview prompt` first")

    full_session = tracker.session(project, settings=exact)
    video = full_session.frames
    n = full_session.num_frames
    first = min(video.index_of(p.view_id) for p in project.prompts if p.obj_id in ids)
    start = max(0, min(first, n - views))
    stop = min(n - 1, start + views - 1)
    window = range(start, stop + 1)

    def run(label: str, cfg: SpeedSettings, predictor: Any = None) -> tuple[dict[tuple[int, int], np.ndarray], float]:
        if on_progress is not None:
            on_progress(f"{label}: {len(window)} views at {(predictor or tracker.predictor).image_size} px")
        sess = (
            full_session
            if cfg == exact and predictor is None
            else tracker.session(project, settings=cfg, predictor=predictor)
        )
        t = time.perf_counter()
        masks: dict[tuple[int, int], np.ndarray] = {}
        for oid in ids:
            sess.reset_object(oid)
            inside = [
                p for p in sorted(project.prompts_for(oid), key=lambda p: p.id) if video.index_of(p.view_id) in window
            ]
            if not inside:
                continue
            for p in inside:
                tracker.apply_prompt(sess, p, project)
            p0 = min(video.index_of(p.view_id) for p in inside)
            jobs = [Job(oid, p0, stop, False)]
            if p0 > start:
                jobs.append(Job(oid, p0, start, True, emit_start=False))
            for job in jobs:
                for fm in sess.run_job(job):
                    masks[(oid, fm.frame)] = fm.prob > 0.5
        return masks, time.perf_counter() - t

    ref, exact_s = run("exact", exact)
    got, preset_s = run(settings.name, replace(settings, preview_size=None))
    prev, preview_s = None, None
    if settings.preview_size is not None and settings.preview_size < tracker.image_size:
        prev, preview_s = run(f"{settings.name} preview", settings, tracker.preview_predictor(settings.preview_size))
    rows = []
    for (oid, f), a in sorted(ref.items()):
        b = got[(oid, f)]
        pv = None if prev is None else _iou(a, prev[(oid, f)])
        is_prompted = any(video.index_of(p.view_id) == f for p in project.prompts_for(oid))
        rows.append(
            ViewAgreement(
                oid, video.view_ids[f], _iou(a, b), pv, is_prompted, int(np.count_nonzero(a)), int(np.count_nonzero(b))
            )
        )
    if not rows:
        raise TrackingError("no view of the compared stretch carries a prompt of the object")
    corrections = any(
        sum(1 for p in project.prompts_for(oid) if video.index_of(p.view_id) in window) > 1 for oid in ids
    )
    log.info("speed check %s: min IoU %.4f over %d view(s)", settings.name, min(r.iou for r in rows), len(rows))
    return SpeedCheck(
        settings,
        tracker.image_size,
        tuple(video.view_ids[f] for f in window),
        tuple(rows),
        exact_s,
        preset_s,
        preview_s,
        corrections,
    )
