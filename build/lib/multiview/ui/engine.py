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
from typing import TYPE_CHECKING, Any

from ..errors import TrackingError
from ..tracking import get_tracker
from ..tracking.interactive import CandidateMask, candidates, preview_mask

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
    from ..tracking.sam2.checkpoints import DEFAULT_MODEL, missing_checkpoint, resolve_checkpoint

    if engine not in ENGINES:
        raise TrackingError(f"engine '{engine}' is unknown; use one of {', '.join(ENGINES)}")
    model = sam2_options.get("model", DEFAULT_MODEL)
    given = sam2_options.get("checkpoint")
    ckpt = resolve_checkpoint(model, given)
    if engine == "homography":
        return EngineInfo("homography", "homography tracker (chosen); clicks and boxes become masks by GrabCut")
    if ckpt.is_file():
        return EngineInfo("sam2", f"SAM 2 ({model}, {ckpt.name})")
    if engine == "sam2":
        raise missing_checkpoint(model, ckpt, given=given is not None)
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
        #: held while the tracker's model runs (a propagation, a click): one at a time
        self.model_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.info.name

    def view_mask(self, project: Project, obj_id: int, view_id: str) -> MaskResult | None:
        """The mask the object's prompts on ``view_id`` give on that view, at once
        (:func:`multiview.tracking.interactive.preview_mask`)."""
        with self.model_lock:
            return preview_mask(project, view_id, obj_id, self.tracker)

    def candidates(self, project: Project, view_id: str, point: tuple[float, float]) -> list[CandidateMask]:
        """SAM 2's three candidate masks for a first single click (original-photo pixels)
        (:func:`multiview.tracking.interactive.candidates`).

        Raises:
            TrackingError: the engine is not sam2.
        """
        if self.name != "sam2":
            raise TrackingError("candidate masks need SAM 2; this workbench uses the homography tracker")
        with self.model_lock:
            return candidates(project, view_id, point, self.tracker)
