"""``multiview track --tracker sam2``: the SAM 2 engine as a :class:`~multiview.tracking.Tracker`.

For each object the tracker keeps SAM 2's memory between runs (on disk, see
:mod:`.statestore`) and knows which prompts it has already seen, so a run does
only what the new prompts require:

* first run of an object (or ``full=True``): every prompt, then forward from the
  earliest prompted view to the last view and backward to the first;
* later runs: each new prompt is applied (on an already tracked view it is a
  *correction*: it uses the memory and becomes a conditioning frame, so it sticks),
  then only the stretch it governs is re-run: up to the neighbouring prompted view
  on each side, or the ends of the sequence;
* ``full=True`` re-runs every view the way sam2's own loop does after a correction
  (forward from the earliest prompted view, then backward), keeping the memory of
  every prompt, so corrections still hold;
* an interrupted run resumes from its last complete view.

Views are encoded once: features are cached in memory and in ``cache/sam2/features``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import PROMPT, TrackingError, ValidationError
from .checkpoints import DEFAULT_MODEL, fingerprint

if TYPE_CHECKING:  # pragma: no cover
    from ...project import MaskResult, Project, Prompt
    from .frames import VideoFrames
    from .session import FrameMask, Sam2Session

log = logging.getLogger(__name__)


class Sam2Tracker:
    """SAM 2 video tracker over a project's pseudo-video.

    Args:
        model: SAM 2.1 model name (``sam2.1_hiera_tiny|small|base_plus|large``).
        checkpoint: official checkpoint file (default ``checkpoints/<model>.pt``).
        device: ``auto`` (CUDA if available), ``cpu`` or ``cuda``.
        image_size: model input size, a multiple of 32 (1024 native; 512 is faster, coarser).
        precision: ``fp32`` or ``bf16`` (autocast).
        frames: ``unaligned`` (each photo as it is) or ``aligned`` (warped onto the reference).
        cache_memory_mb, cache_disk_mb: budgets of the feature cache.
        predictor: an already built predictor (tests, notebooks); skips model loading.
    """

    name = "sam2"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        checkpoint: str | Path | None = None,
        device: str = "auto",
        image_size: int = 1024,
        precision: str = "fp32",
        frames: str = "unaligned",
        cache_memory_mb: float = 128,
        cache_disk_mb: float = 4096,
        predictor: Any = None,
    ) -> None:
        from .model import check_image_size

        if precision not in ("fp32", "bf16"):
            raise ValidationError(f"precision '{precision}' is unknown; use fp32 or bf16")
        self.model = model
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.device = device
        self.image_size = check_image_size(image_size)
        self.precision = precision
        self.frame_mode = frames
        self.cache_memory_mb = cache_memory_mb
        self.cache_disk_mb = cache_disk_mb
        self._predictor = predictor
        self._ckpt_id = "given" if predictor is not None else None
        self._session: Sam2Session[VideoFrames] | None = None
        self._interactive: tuple[Path, Sam2Session[VideoFrames]] | None = None

    # ------------------------------------------------------------------ model
    @property
    def predictor(self) -> Any:
        """The SAM 2 predictor (loaded on first use)."""
        if self._predictor is None:
            from .model import load_predictor

            self._predictor, path = load_predictor(
                self.model, checkpoint=self.checkpoint, device=self.device, image_size=self.image_size
            )
            self._ckpt_id = fingerprint(path)
        return self._predictor

    def _model_key(self) -> str:
        pred = self.predictor
        return f"{self.model}|{self._ckpt_id}|{pred.image_size}"

    def session(self, project: Project) -> Sam2Session[VideoFrames]:
        """A new session over the project's pseudo-video, with the project's feature cache."""
        from ...alignment.frames import pseudo_video
        from .cache import FeatureCache
        from .frames import VideoFrames
        from .session import Sam2Session

        video = pseudo_video(project, self.frame_mode)
        cache = FeatureCache(
            project.cache_dir("sam2") / "features", memory_mb=self.cache_memory_mb, disk_mb=self.cache_disk_mb
        )
        return Sam2Session(
            self.predictor, VideoFrames(video), cache=cache, precision=self.precision, model_key=self._model_key()
        )

    def interactive_session(self, project: Project) -> Sam2Session[VideoFrames]:
        """The session that answers clicks at once (candidates, previews), kept between calls for one project.

        Its scratch states never touch the tracking memory stored on disk.
        """
        if self._interactive is None or self._interactive[0] != project.root:
            self._interactive = (project.root, self.session(project))
        return self._interactive[1]

    def _state_root(self, project: Project, session: Sam2Session[VideoFrames]) -> Path:
        keys = [session.frames.key(i) for i in range(session.num_frames)]
        h = hashlib.sha256(json.dumps([session.model_key, self.frame_mode, keys]).encode()).hexdigest()[:20]
        return project.cache_dir("sam2") / "state" / h

    # ------------------------------------------------------------------ prompts
    def apply_prompt(self, session: Sam2Session[VideoFrames], prompt: Prompt, project: Project) -> FrameMask:
        """Give one project prompt to the session (coordinates mapped to frame pixels)."""
        video = session.frames
        i = video.index_of(prompt.view_id)
        m = project.prompt_mask(prompt)  # None unless the prompt has a mask
        if m is not None and not prompt.points and prompt.box is None:
            return session.add_mask(prompt.obj_id, i, video.mask_to_frame(i, m) >= 0.5)
        pts = video.points_to_frame(i, np.asarray(prompt.points, np.float64)) if prompt.points else np.zeros((0, 2))
        box = None
        if prompt.box is not None:
            x0, y0, x1, y1 = prompt.box
            c = video.points_to_frame(i, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))
            box = (c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max())
        if m is not None:
            session.add_mask(prompt.obj_id, i, video.mask_to_frame(i, m) >= 0.5)
        return session.add_points(prompt.obj_id, i, pts, list(prompt.labels), box, candidate=prompt.candidate)

    # ------------------------------------------------------------------ run
    def run(
        self, project: Project, *, obj_ids: Sequence[int] | None = None, full: bool = False
    ) -> Iterator[MaskResult]:
        """Track every prompted object (or ``obj_ids``); yield one result per recomputed view."""
        from .statestore import Manifest, ObjectStateStore

        prompted = sorted({p.obj_id for p in project.prompts})
        targets = prompted if obj_ids is None else [o for o in obj_ids if o in prompted]
        if obj_ids is not None:
            missing = sorted(set(obj_ids) - set(prompted))
            if missing:
                raise TrackingError(
                    f"object(s) {', '.join(map(str, missing))} have no prompt; mark them on a view first", hint=PROMPT
                )
        if not targets:
            raise TrackingError("the project has no prompts yet; mark an object on a view first", hint=PROMPT)
        session = self._session = self.session(project)
        root = self._state_root(project, session)
        for oid in targets:
            store = ObjectStateStore(root / str(oid))
            prompts = sorted(project.prompts_for(oid), key=lambda p: p.id)
            ids = [p.id for p in prompts]
            man = store.manifest()
            if man is not None and (not set(man.applied) <= set(ids) or not store.load_into(session, oid)):
                man = None  # a prompt was removed, or the stored memory is unusable: start over
            if man is None:
                store.clear()
                session.reset_object(oid)
                new = prompts
                man = Manifest()
            else:
                new = [p for p in prompts if p.id not in man.applied]
            video = session.frames
            new_frames = [video.index_of(p.view_id) for p in new]
            for p in new:
                self.apply_prompt(session, p, project)
            todo = [] if full else list(man.todo)
            if new:
                session.preflight(oid)
                for f in set(new_frames):
                    store.save_frame(session, oid, f)
            if new or full:
                first_run = not session.tracked_frames(oid)
                todo += [(j, 0) for j in session.plan(oid, new_frames, full=full or first_run)]
            man = Manifest(ids, todo)
            store.write_manifest(man)
            log.info("sam2: object %d: %d new prompt(s), %d job(s)", oid, len(new), len(todo))
            while man.todo:
                job, done = man.todo[0]
                for fm in session.run_job(job, skip=done):
                    store.save_frame(session, oid, fm.frame)
                    yield self._result(session, fm, job)
                    done += 1
                    man.todo[0] = (job, done)
                    store.write_manifest(man)
                man.todo.pop(0)
                store.write_manifest(man)
            # views whose stored result went missing (deleted, or lost in an interruption)
            # are written again from the memory, without recomputing
            for f in range(session.num_frames):
                if not project.has_result(oid, video.view_ids[f]):
                    stored = session.mask(oid, f)
                    if stored is not None:
                        yield self._result(session, stored, None)

    def _result(self, session: Sam2Session[VideoFrames], fm: FrameMask, job: Any) -> MaskResult:
        from ...project import MaskResult

        video = session.frames
        prob, valid = video.to_view(fm.frame, fm.prob)
        return MaskResult(
            obj_id=fm.obj_id,
            view_id=video.view_ids[fm.frame],
            prob=prob,
            valid=valid,
            score=fm.score,
            present_score=fm.present_score,
            tracker=self.name,
            source_view=None if fm.prompted or job is None else video.view_ids[job.start],
            meta={
                "model": self.model,
                "image_size": session.predictor.image_size,
                "precision": self.precision,
                "frames": self.frame_mode,
            },
        )


def make_tracker(**options: Any) -> Sam2Tracker:
    """Registry factory: ``get_tracker("sam2", model=..., checkpoint=..., ...)``."""
    return Sam2Tracker(**options)
