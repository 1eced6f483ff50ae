"""What a click on a view gives at once: the candidate masks of a first click, and the preview mask.

The command line (``multiview prompt``) and the workbench ask the same two questions:

* :func:`candidates`: SAM 2's three candidate masks for a first single click on an
  object, with their predicted scores (the model's own choice is the best-scored one;
  ``Prompt.candidate`` keeps another);
* :func:`preview_mask`: the mask an object's prompts on one view give on that view,
  before any propagation (the next tracking run replaces it with the propagated result).

Both take the tracker that will track the project (from
:func:`multiview.tracking.get_tracker`). With the ``sam2`` tracker they run SAM 2's prompt
encoder and mask decoder over the view's cached image features, on scratch states that
never touch the tracking memory; any other tracker answers the preview with what its
``run`` gives on the prompted view (the homography tracker: the mask prompt, or GrabCut
for clicks and boxes). Calls on one tracker must not overlap (one thread at a time).

Convention:
    Clicks are ``(x, y)`` original-photo pixels of the view; masks come back at the
    view's working size (:class:`~multiview.project.MaskResult` geometry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TrackingError

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project
    from .base import Tracker

__all__ = ["CandidateMask", "candidates", "preview_mask"]


@dataclass(frozen=True, eq=False)
class CandidateMask:
    """One of SAM 2's candidate masks for a first click.

    Attributes:
        index: 0, 1 or 2 (the value of ``--candidate`` / ``Prompt.candidate``).
        prob: (h, w) uint8 object probability 0..255 at the view's working size.
        score: the mask decoder's predicted IoU, 0..1.
        best: the model keeps this one by default (highest score).
        present_score: probability 0..1 that the object is visible.
        area: mask area in pixels of the frame SAM 2 saw.
    """

    index: int
    prob: np.ndarray
    score: float
    best: bool
    present_score: float
    area: int


def candidates(project: Project, view: str, point: tuple[float, float], tracker: Tracker) -> list[CandidateMask]:
    """SAM 2's three candidate masks for a single positive click at ``point`` on ``view``.

    Args:
        view: file name or stem.
        point: ``(x, y)`` original-photo pixels.
        tracker: the ``sam2`` tracker (its model is loaded on first use).

    Returns:
        Three candidates, index 0..2.

    Raises:
        TrackingError: the tracker is not SAM 2 (candidates need its mask decoder).
        ValidationError: unknown view.
        CheckpointError: the model's checkpoint is missing or invalid.
    """
    from .sam2.candidates import click_candidates
    from .sam2.tracker import Sam2Tracker

    if not isinstance(tracker, Sam2Tracker):
        raise TrackingError(f"candidate masks need SAM 2; the {tracker.name} tracker has none")
    session = tracker.interactive_session(project)
    frames = session.frames
    i = frames.index_of(view)
    fx, fy = frames.points_to_frame(i, np.array([point], np.float64))[0]
    out = []
    for c in click_candidates(session, i, (float(fx), float(fy))):
        prob, _ = frames.to_view(i, c.prob)
        out.append(CandidateMask(c.index, prob, c.score, c.best, c.present_score, c.area))
    return out


def preview_mask(project: Project, view: str, obj_id: int, tracker: Tracker) -> MaskResult | None:
    """The mask object ``obj_id``'s prompts on ``view`` give on that view, at once.

    ``sam2``: the view's prompts, oldest first, go to a scratch SAM 2 state (clicks of
    one view accumulate; a box starts over, as in SAM 2); the result is marked
    ``meta["preview"] = True``. Other trackers: the result their ``run`` yields for the
    view.

    Returns:
        The result at the view's working size, or None when the object has no prompt
        on the view.

    Raises:
        TrackingError: the tracker refuses the prompts (e.g. no positive click for GrabCut,
            views not registered for the homography tracker).
        ValidationError: unknown view or object.
    """
    from .sam2.tracker import Sam2Tracker

    vid = project.view(view).id
    project.object(obj_id)
    prompts = sorted(project.prompts_for(obj_id, vid), key=lambda p: p.id)
    if not prompts:
        return None
    if not isinstance(tracker, Sam2Tracker):
        for r in tracker.run(project, obj_ids=[obj_id], full=True):
            if r.view_id == vid:
                return r
        return None
    from ..project import MaskResult

    session = tracker.interactive_session(project)
    session.reset_object(obj_id)
    try:
        fm = tracker.apply_prompt(session, prompts[0], project)
        for p in prompts[1:]:
            fm = tracker.apply_prompt(session, p, project)
    finally:
        session.reset_object(obj_id)
    prob, valid = session.frames.to_view(fm.frame, fm.prob)
    meta = {"preview": True, "image_size": session.predictor.image_size}
    return MaskResult(obj_id, vid, prob, valid, fm.score, fm.present_score, tracker.name, None, meta)
