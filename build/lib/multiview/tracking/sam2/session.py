"""A SAM 2 tracking session over a pseudo-video: prompts, propagation, corrections.

The session owns, per object, a sam2 inference state (memory bank, prompts,
per-frame outputs) over the stateless network, and feeds the network frames from
a :class:`~multiview.tracking.sam2.frames.FrameSource` through a feature cache:
no frame is held as a float tensor, each view is encoded once, and every view
keeps its own size.

Propagation runs in *jobs*: from a prompted frame forward or backward to a stop
frame. :meth:`Sam2Session.plan` makes the jobs for an object:

* first run, or ``full``: forward from the earliest prompted frame to the end,
  then backward from it to the start (what sam2's reference loop does);
* after new prompts: for each newly prompted frame, forward up to the next
  prompted frame and backward down to the previous one (or the ends): the stretch
  that prompt governs; frames anchored by their own prompts keep their masks.

Convention:
    Points, boxes and masks are in *frame* pixels ``(x, y)``, origin top-left,
    pixel centres at integer coordinates. Output probabilities are (h, w) float32
    in the frame's own geometry.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import TrackingError, ValidationError
from .cache import FeatureCache, FeatureProvider
from .frames import FrameSource
from .memory import release_free_memory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameMask:
    """The session's answer for one object on one frame.

    Attributes:
        obj_id, frame: what it is about.
        prob: (h, w) float32 object probability 0..1 in frame geometry (mask: ``prob > 0.5``).
        score: predicted mask quality (the decoder's IoU estimate) 0..1, or None.
        present_score: probability 0..1 that the object is visible on the frame.
        prompted: True if the frame carries a prompt for the object (a conditioning frame).
    """

    obj_id: int
    frame: int
    prob: np.ndarray
    score: float | None
    present_score: float
    prompted: bool


@dataclass(frozen=True)
class Job:
    """Propagate ``obj_id`` from prompted frame ``start`` to ``stop`` (inclusive).

    Attributes:
        reverse: backward (``stop <= start``) instead of forward.
        emit_start: also yield the start frame's mask.
    """

    obj_id: int
    start: int
    stop: int
    reverse: bool
    emit_start: bool = True

    def frames(self) -> range:
        step = -1 if self.reverse else 1
        return range(self.start, self.stop + step, step)

    def to_json(self) -> dict[str, Any]:
        return {
            "obj_id": self.obj_id,
            "start": self.start,
            "stop": self.stop,
            "reverse": self.reverse,
            "emit_start": self.emit_start,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Job:
        return cls(
            int(d["obj_id"]), int(d["start"]), int(d["stop"]), bool(d["reverse"]), bool(d.get("emit_start", True))
        )


def autocast_factory(device: torch.device, precision: str) -> Callable[[], AbstractContextManager[Any]]:
    """Context-manager factory: bf16 autocast on ``device`` for ``"bf16"``, nothing for ``"fp32"``."""
    if precision not in ("fp32", "bf16"):
        raise ValidationError(f"precision '{precision}' is unknown; use fp32 or bf16")
    if precision == "fp32":
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


#: Frame source type of a session (:class:`~.frames.VideoFrames` for a project, :class:`~.frames.ArrayFrames` in tests).
FramesT = TypeVar("FramesT", bound=FrameSource)


class Sam2Session(Generic[FramesT]):
    """Interactive SAM 2 video segmentation over a pseudo-video (see module doc).

    Args:
        predictor: a :class:`~multiview.tracking.sam2.predictor.MultiviewVideoPredictor`.
        frames: the frame source.
        cache: feature cache (default: memory only, default budget).
        precision: ``"fp32"`` or ``"bf16"`` (autocast on CPU and GPU).
        model_key: identity of the model configuration for the cache key.
    """

    def __init__(
        self,
        predictor: Any,
        frames: FramesT,
        *,
        cache: FeatureCache | None = None,
        precision: str = "fp32",
        model_key: str = "",
    ) -> None:
        self.predictor = predictor
        self.frames: FramesT = frames
        self.num_frames = len(frames)
        if self.num_frames < 1:
            raise TrackingError("the pseudo-video has no frames")
        self.precision = precision
        self.autocast = autocast_factory(predictor.device, precision)
        self.cache = cache if cache is not None else FeatureCache(None)
        mk = model_key or f"{type(predictor).__name__}|{predictor.image_size}"
        self.model_key = f"{mk}|{precision}|{predictor.device.type}"
        self.features = FeatureProvider(predictor, frames.image, frames.key, self.model_key, self.cache, self.autocast)
        self.states: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ state
    def new_state(self) -> dict[str, Any]:
        """A fresh, empty sam2 inference state over this session's frames and feature cache.

        The session keeps one per object (:meth:`state`); a scratch one serves one-off
        questions such as the candidates of a first click.
        """
        S = self.predictor.image_size
        dev = self.predictor.device
        return {
            "images": None,
            "num_frames": self.num_frames,
            "offload_video_to_cpu": False,
            "offload_state_to_cpu": False,
            # sam2 resizes "video resolution" outputs to this size; the session maps the
            # low-resolution logits to each frame's own size itself.
            "video_height": S // 4,
            "video_width": S // 4,
            "device": dev,
            "storage_device": dev,
            "point_inputs_per_obj": {},
            "mask_inputs_per_obj": {},
            "cached_features": {},
            "constants": {},
            "obj_id_to_idx": OrderedDict(),
            "obj_idx_to_id": OrderedDict(),
            "obj_ids": [],
            "output_dict_per_obj": {},
            "temp_output_dict_per_obj": {},
            "frames_tracked_per_obj": {},
            "features": self.features,
        }

    def state(self, obj_id: int) -> dict[str, Any]:
        """The sam2 inference state of ``obj_id`` (created empty on first use)."""
        st = self.states.get(obj_id)
        if st is None:
            st = self.states[obj_id] = self.new_state()
            self.predictor._obj_id_to_idx(st, obj_id)
        return st

    @property
    def obj_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self.states))

    def reset_object(self, obj_id: int) -> None:
        """Forget an object's prompts and outputs."""
        self.states.pop(obj_id, None)

    def _outputs(self, obj_id: int) -> dict[str, dict[int, Any]]:
        return self.state(obj_id)["output_dict_per_obj"][0]

    def prompted_frames(self, obj_id: int) -> tuple[int, ...]:
        """Conditioning frames of an object (including prompts not yet propagated)."""
        st = self.state(obj_id)
        f = set(st["output_dict_per_obj"][0]["cond_frame_outputs"]) | set(
            st["temp_output_dict_per_obj"][0]["cond_frame_outputs"]
        )
        return tuple(sorted(f))

    def tracked_frames(self, obj_id: int) -> tuple[int, ...]:
        return tuple(sorted(self.state(obj_id)["frames_tracked_per_obj"][0]))

    def has_output(self, obj_id: int, frame: int) -> bool:
        out = self._outputs(obj_id)
        return frame in out["cond_frame_outputs"] or frame in out["non_cond_frame_outputs"]

    # ------------------------------------------------------------------ prompts
    def check_frame(self, frame: int) -> int:
        """``frame`` as an int, or ValidationError when it is outside the pseudo-video."""
        if not 0 <= frame < self.num_frames:
            raise ValidationError(f"frame {frame} is outside the pseudo-video (0..{self.num_frames - 1})")
        return int(frame)

    def add_points(
        self,
        obj_id: int,
        frame: int,
        points: np.ndarray | Sequence[Sequence[float]] = (),
        labels: Sequence[int] = (),
        box: Sequence[float] | None = None,
        *,
        accumulate: bool | None = None,
        candidate: int | None = None,
    ) -> FrameMask:
        """Add clicks and/or a box for ``obj_id`` on ``frame`` (before or after tracking).

        Args:
            points: (N, 2) frame pixels; labels: N ints, 1 positive, 0 negative.
            box: (x0, y0, x1, y1) frame pixels, or None.
            accumulate: keep the frame's earlier clicks (default: True when the frame
                already has clicks for this object and no box is given).
            candidate: for a first single click, keep candidate 0..2 instead of the
                model's best.

        Returns:
            The object's mask on that frame after the prompt.
        """
        frame = self.check_frame(frame)
        st = self.state(obj_id)
        w, h = self.frames.size(frame)
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        if len(pts) != len(labels):
            raise ValidationError(f"{len(pts)} points but {len(labels)} labels")
        if not len(pts) and box is None:
            raise ValidationError(f"empty prompt for object {obj_id} on frame {frame}: give points or a box")
        norm = np.array([w, h], dtype=np.float32)
        if accumulate is None:
            accumulate = box is None and frame in st["point_inputs_per_obj"][0]
        kwargs: dict[str, Any] = {}
        if len(pts):
            kwargs["points"] = torch.from_numpy(pts / norm)
            kwargs["labels"] = torch.as_tensor(list(labels), dtype=torch.int32)
        if box is not None:
            b = np.asarray(box, dtype=np.float32).reshape(2, 2) / norm
            kwargs["box"] = torch.from_numpy(b)
        self.predictor.forced_candidate = candidate
        try:
            with torch.inference_mode(), self.autocast():
                self.predictor.add_new_points_or_box(
                    st, frame, obj_id, clear_old_points=not accumulate, normalize_coords=False, **kwargs
                )
        finally:
            self.predictor.forced_candidate = None
        return self._temp_mask(obj_id, frame)

    def add_mask(self, obj_id: int, frame: int, mask: np.ndarray) -> FrameMask:
        """Give the object's mask on ``frame``: (h, w) bool/0..1 array in frame geometry."""
        frame = self.check_frame(frame)
        w, h = self.frames.size(frame)
        m = np.asarray(mask)
        if m.shape != (h, w):
            raise ValidationError(f"mask is {m.shape[1]}x{m.shape[0]} but frame {frame} is {w}x{h}")
        st = self.state(obj_id)
        with torch.inference_mode(), self.autocast():
            self.predictor.add_new_mask(st, frame, obj_id, torch.from_numpy(m > 0.5 if m.dtype != bool else m))
        return self._temp_mask(obj_id, frame)

    def _temp_mask(self, obj_id: int, frame: int) -> FrameMask:
        st = self.state(obj_id)
        temp = st["temp_output_dict_per_obj"][0]
        out = temp["cond_frame_outputs"].get(frame) or temp["non_cond_frame_outputs"].get(frame)
        return self._to_frame_mask(obj_id, frame, out, prompted=True)

    # ------------------------------------------------------------------ outputs
    def _to_frame_mask(self, obj_id: int, frame: int, out: dict[str, Any], prompted: bool) -> FrameMask:
        w, h = self.frames.size(frame)
        logits = out["pred_masks"].float()
        with torch.inference_mode():
            up = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
            prob = torch.sigmoid(up)[0, 0].to("cpu", torch.float32).numpy()
            present = float(torch.sigmoid(out["object_score_logits"].float()).flatten()[0])
        iou = out.get("iou")
        return FrameMask(obj_id, frame, prob, None if iou is None else float(iou), present, prompted)

    def logits(self, obj_id: int, frame: int) -> np.ndarray | None:
        """(S/4, S/4) float32 low-resolution mask logits of the object's stored output, or None."""
        out = self._outputs(obj_id)
        o = out["cond_frame_outputs"].get(frame) or out["non_cond_frame_outputs"].get(frame)
        return None if o is None else o["pred_masks"][0, 0].float().cpu().numpy()

    def mask(self, obj_id: int, frame: int) -> FrameMask | None:
        """The stored output of ``obj_id`` on ``frame`` in frame geometry, or None."""
        out = self._outputs(obj_id)
        if frame in out["cond_frame_outputs"]:
            return self._to_frame_mask(obj_id, frame, out["cond_frame_outputs"][frame], True)
        if frame in out["non_cond_frame_outputs"]:
            return self._to_frame_mask(obj_id, frame, out["non_cond_frame_outputs"][frame], False)
        return None

    # ------------------------------------------------------------------ propagation
    def plan(self, obj_id: int, new_frames: Iterable[int] = (), *, full: bool = False) -> list[Job]:
        """Jobs that bring ``obj_id`` up to date after prompts on ``new_frames`` (see module doc)."""
        prompted = self.prompted_frames(obj_id)
        if not prompted:
            raise TrackingError(f"object {obj_id} has no prompt; add a click, box or mask first")
        last = self.num_frames - 1
        if full or not self.tracked_frames(obj_id):
            first = prompted[0]
            jobs = [Job(obj_id, first, last, False)]
            if first > 0:
                jobs.append(Job(obj_id, first, 0, True, emit_start=False))
            return jobs
        jobs = []
        for f in sorted(set(new_frames)):
            nxt = [p for p in prompted if p > f]
            prv = [p for p in prompted if p < f]
            jobs.append(Job(obj_id, f, (nxt[0] - 1) if nxt else last, False))
            stop = (prv[-1] + 1) if prv else 0
            if stop <= f - 1:
                jobs.append(Job(obj_id, f, stop, True, emit_start=False))
        return jobs

    def preflight(self, obj_id: int) -> None:
        """Move new prompt outputs into the memory bank (runs the memory encoder on them)."""
        st = self.state(obj_id)
        with torch.inference_mode(), self.autocast():
            self.predictor.propagate_in_video_preflight(st)

    def run_job(self, job: Job, *, skip: int = 0) -> Iterator[FrameMask]:
        """Propagate one job, yielding each frame's mask as soon as it is computed.

        Args:
            skip: number of frames of the job already done (resume); they are not recomputed.
        """
        st = self.state(job.obj_id)
        self.preflight(job.obj_id)
        pred = self.predictor
        out_dict = st["output_dict_per_obj"][0]
        tracked = st["frames_tracked_per_obj"][0]
        for n, f in enumerate(job.frames()):
            if n < skip:
                continue
            if f in out_dict["cond_frame_outputs"]:
                tracked[f] = {"reverse": job.reverse}
                if f != job.start or job.emit_start:
                    yield self._to_frame_mask(job.obj_id, f, out_dict["cond_frame_outputs"][f], True)
                continue
            with torch.inference_mode(), self.autocast():
                out, _ = pred._run_single_frame_inference(
                    inference_state=st,
                    output_dict=out_dict,
                    frame_idx=f,
                    batch_size=1,
                    is_init_cond_frame=False,
                    point_inputs=None,
                    mask_inputs=None,
                    reverse=job.reverse,
                    run_mem_encoder=True,
                )
            out_dict["non_cond_frame_outputs"][f] = out
            tracked[f] = {"reverse": job.reverse}
            release_free_memory()
            yield self._to_frame_mask(job.obj_id, f, out, False)

    def propagate(
        self,
        obj_ids: Iterable[int] | None = None,
        new_frames: dict[int, Iterable[int]] | None = None,
        *,
        full: bool = False,
    ) -> Iterator[FrameMask]:
        """Plan and run the jobs of several objects, yielding masks as they come."""
        for oid in sorted(obj_ids) if obj_ids is not None else self.obj_ids:
            for job in self.plan(oid, (new_frames or {}).get(oid, ()), full=full):
                yield from self.run_job(job)
