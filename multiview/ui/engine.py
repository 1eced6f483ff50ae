"""Which tracker the workbench uses, and the immediate mask of a prompt on its view.

With a SAM 2 checkpoint the page uses the ``sam2`` tracker: a click on a view is
answered by SAM 2's prompt encoder and decoder over the view's cached features, and
the first click of an object shows the three candidate masks. Without one it uses
the ``homography`` tracker: a click or box becomes a mask through GrabCut (no model),
exactly as ``multiview track --tracker homography`` makes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import TrackingError
from ..tracking import get_tracker

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project

log = logging.getLogger(__name__)

ENGINES = ("auto", "sam2", "homography")


@dataclass(frozen=True)
class EngineInfo:
    """The tracker the page uses and why (shown on the page)."""

    name: str
    note: str


def choose_engine(engine: str, sam2_options: dict[str, Any]) -> EngineInfo:
    """Resolve ``auto`` to ``sam2`` when its checkpoint file exists, else ``homography``.

    Raises:
        TrackingError: unknown engine, or ``sam2`` without a checkpoint.
    """
    from ..tracking.sam2.checkpoints import DEFAULT_MODEL, default_checkpoint, missing_message

    if engine not in ENGINES:
        raise TrackingError(f"engine '{engine}' is unknown; use one of {', '.join(ENGINES)}")
    model = sam2_options.get("model", DEFAULT_MODEL)
    ckpt = Path(sam2_options.get("checkpoint") or default_checkpoint(model))
    if engine == "homography":
        return EngineInfo("homography", "homography tracker (chosen); clicks and boxes become masks by GrabCut")
    if ckpt.is_file():
        return EngineInfo("sam2", f"SAM 2 ({model}, {ckpt.name})")
    if engine == "sam2":
        raise TrackingError(missing_message(model, ckpt))
    return EngineInfo(
        "homography",
        f"homography tracker: no SAM 2 checkpoint at {ckpt} "
        f"(`multiview checkpoints download {model}`); clicks and boxes become masks by GrabCut",
    )


class Engine:
    """The workbench's tracker, built once (the SAM 2 model is loaded on first use).

    Args:
        info: from :func:`choose_engine`.
        sam2_options: keyword arguments of the sam2 tracker.
    """

    def __init__(self, info: EngineInfo, sam2_options: dict[str, Any]) -> None:
        self.info = info
        self.options = dict(sam2_options) if info.name == "sam2" else {}
        self.tracker = get_tracker(info.name, **self.options)
        self.model_lock = threading.Lock()
        self._session = None

    @property
    def name(self) -> str:
        return self.info.name

    def _sam2_session(self, project: Project):
        if self._session is None:
            self._session = self.tracker.session(project)  # type: ignore[attr-defined]
        return self._session

    def view_mask(self, project: Project, obj_id: int, view_id: str) -> MaskResult | None:
        """The mask the object's prompts on ``view_id`` give on that view, at once.

        sam2: the view's prompts are given to a scratch SAM 2 state (cached image
        features, prompt encoder + decoder only). homography: the tracker itself makes
        the prompted view's mask (GrabCut for clicks and boxes). The next tracking run
        replaces it with the propagated result.
        """
        prompts = sorted(project.prompts_for(obj_id, view_id), key=lambda p: p.id)
        if not prompts:
            return None
        if self.name == "homography":
            for r in self.tracker.run(project, obj_ids=[obj_id], full=True):
                if r.view_id == view_id:
                    return r
            return None
        from ..project import MaskResult

        with self.model_lock:
            session = self._sam2_session(project)
            session.reset_object(obj_id)
            fm = None
            for p in prompts:
                fm = self.tracker.apply_prompt(session, p, project)  # type: ignore[attr-defined]
            session.reset_object(obj_id)
        video = session.frames.video
        prob, valid = video.to_view(fm.frame, fm.prob)
        return MaskResult(
            obj_id,
            view_id,
            prob,
            valid,
            fm.score,
            fm.present_score,
            "sam2",
            None,
            {"preview": True, "image_size": session.predictor.image_size},
        )

    def candidates(self, project: Project, view_id: str, point: tuple[float, float]) -> list[dict[str, Any]]:
        """SAM 2's three candidate masks for a first single click (original-photo pixels).

        Returns:
            One dict per candidate: ``index``, ``score``, ``best``, ``area`` (frame pixels),
            ``prob`` ((work_h, work_w) uint8 at the view's working size).

        Raises:
            TrackingError: the engine is not sam2.
        """
        if self.name != "sam2":
            raise TrackingError("candidate masks need SAM 2; this workbench uses the homography tracker")
        import numpy as np

        from ..tracking.sam2.candidates import click_candidates

        with self.model_lock:
            session = self._sam2_session(project)
            video = session.frames.video
            i = video.index_of(view_id)
            fx, fy = video.points_to_frame(i, np.array([point], np.float64))[0]
            cands = click_candidates(session, i, (float(fx), float(fy)))
        out = []
        for c in cands:
            prob, _ = video.to_view(i, c.prob)
            out.append({"index": c.index, "score": c.score, "best": c.best, "area": c.area, "prob": prob})
        return out
