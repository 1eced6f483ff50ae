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

Speed (:mod:`.speed`): the tracker runs with the project's stored SAM 2 settings
(``sections["sam2"]``, written by ``multiview track --speed/--max-cond-frames/
--preview-size``), overridden by the options it is built with; default ``exact``.
A correction's re-propagation stops early when the settings say so; with a preview
size, every run first makes (or updates) masks at the preview size, then at the
full size, each view's result replaced as it finishes. Every result records the
model input size it was computed at (``meta["image_size"]``) and its pass
(``meta["pass"]``: ``"preview"`` or ``"full"``).
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
from .speed import SpeedSettings, saved_settings, speed_preset

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
        precision: ``fp32`` or ``bf16`` (autocast); None: the speed settings' precision.
        frames: ``unaligned`` (each photo as it is) or ``aligned`` (warped onto the reference).
        cache_memory_mb, cache_disk_mb: budgets of the feature cache.
        predictor: an already built predictor (tests, notebooks); skips model loading.
        speed: a preset name (``exact``, ``balanced``, ``fast``) or
            :class:`~multiview.tracking.sam2.speed.SpeedSettings`; None: the project's stored
            settings, else ``exact``.
        max_cond_frames: conditioning frames attended per frame (-1 all, else >= 2); None: from ``speed``.
        preview_size: model input size of the preview pass (0 = none); None: from ``speed``.

    Raises:
        ValidationError: unknown precision or preset, bad image size, cap or preview size.
    """

    name = "sam2"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        checkpoint: str | Path | None = None,
        device: str = "auto",
        image_size: int = 1024,
        precision: str | None = None,
        frames: str = "unaligned",
        cache_memory_mb: float = 128,
        cache_disk_mb: float = 4096,
        predictor: Any = None,
        speed: str | SpeedSettings | None = None,
        max_cond_frames: int | None = None,
        preview_size: int | None = None,
    ) -> None:
        from .model import check_image_size

        if precision is not None and precision not in ("fp32", "bf16"):
            raise ValidationError(f"precision '{precision}' is unknown; use fp32 or bf16")
        self.speed = speed_preset(speed) if isinstance(speed, str) else speed
        self.overrides: dict[str, Any] = {
            "precision": precision,
            "max_cond_frames": max_cond_frames,
            "preview_size": preview_size,
        }
        self.settings()  # validate the overrides now
        self.model = model
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.device = device
        self.image_size = check_image_size(image_size)
        self.frame_mode = frames
        self.cache_memory_mb = cache_memory_mb
        self.cache_disk_mb = cache_disk_mb
        self._predictor = predictor
        self._previews: dict[int, Any] = {}
        self._ckpt_id = "given" if predictor is not None else None
        self._session: Sam2Session[VideoFrames] | None = None
        self._interactive: tuple[Path, Sam2Session[VideoFrames]] | None = None
        #: sessions of the last run, by pass (``"preview"``, ``"full"``).
        self.sessions: dict[str, Sam2Session[VideoFrames]] = {}

    # ------------------------------------------------------------------ settings
    def settings(self, project: Project | None = None) -> SpeedSettings:
        """The speed settings of a run on ``project``: options given > project's stored > ``exact``.

        Raises:
            ValidationError: an option the settings refuse (cap below 2, bad preview size).
        """
        base = self.speed
        if base is None and project is not None:
            base = saved_settings(project)
        base = base or speed_preset("exact")
        changes = {k: v for k, v in self.overrides.items() if v is not None}
        if changes.get("preview_size") == 0:
            changes["preview_size"] = None
        return base.with_options(**changes)

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

    def preview_predictor(self, size: int) -> Any:
        """The same network at model input size ``size`` (weights shared with :attr:`predictor`)."""
        p = self._previews.get(size)
        if p is None:
            from .model import at_image_size

            p = self._previews[size] = at_image_size(self.predictor, self.model, size)
        return p

    def _model_key(self, predictor: Any = None) -> str:
        pred = predictor if predictor is not None else self.predictor
        return f"{self.model}|{self._ckpt_id}|{pred.image_size}"

    def session(
        self, project: Project, *, settings: SpeedSettings | None = None, predictor: Any = None
    ) -> Sam2Session[VideoFrames]:
        """A session over the project's pseudo-video, with the project's feature cache.

        Args:
            settings: speed settings (default: :meth:`settings` of the project).
            predictor: the model to use (default: the full-size :attr:`predictor`).
        """
        from ...alignment.frames import pseudo_video
        from .cache import FeatureCache
        from .frames import VideoFrames
        from .session import Sam2Session

        settings = settings if settings is not None else self.settings(project)
        pred = predictor if predictor is not None else self.predictor
        video = pseudo_video(project, self.frame_mode)
        cache = FeatureCache(
            project.cache_dir("sam2") / "features", memory_mb=self.cache_memory_mb, disk_mb=self.cache_disk_mb
        )
        return Sam2Session(pred, VideoFrames(video), cache=cache, model_key=self._model_key(pred), speed=settings)

    @property
    def precision(self) -> str:
        """Precision of a run without project settings (see :meth:`settings`)."""
        return self.settings().precision

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
        """Track every prompted object (or ``obj_ids``); yield one result per recomputed view.

        With a preview size, the preview pass yields its results first, then the full-size pass.
        """
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
        settings = self.settings(project)
        passes: list[tuple[str, Any]] = []
        if settings.preview_size is not None and settings.preview_size < self.image_size:
            passes.append(("preview", self.preview_predictor(settings.preview_size)))
        passes.append(("full", self.predictor))
        self.sessions = {}
        for label, pred in passes:
            session = self.sessions[label] = self._session = self.session(project, settings=settings, predictor=pred)
            log.info("sam2: %s pass at %d px (%s)", label, pred.image_size, settings.name)
            yield from self._run_pass(project, session, targets, full, label, final=label == "full")

    def _run_pass(
        self,
        project: Project,
        session: Sam2Session[VideoFrames],
        targets: Sequence[int],
        full: bool,
        label: str,
        final: bool,
    ) -> Iterator[MaskResult]:
        from .statestore import Manifest, ObjectStateStore

        root = self._state_root(project, session)
        early_stop = session.speed.early_stop
        video = session.frames
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
            new_frames = [video.index_of(p.view_id) for p in new]
            for p in new:
                self.apply_prompt(session, p, project)
            todo = [] if full else list(man.todo)
            if new:
                session.preflight(oid)
                for f in set(new_frames):
                    store.save_frame(session, oid, f)
            first_run = False
            if new or full:
                first_run = not session.tracked_frames(oid)
                todo += [(j, 0) for j in session.plan(oid, new_frames, full=full or first_run)]
            man = Manifest(ids, todo)
            store.write_manifest(man)
            log.info("sam2: object %d: %d new prompt(s), %d job(s) (%s pass)", oid, len(new), len(todo), label)
            # early stop only re-runs frames that have an earlier output to compare with
            stop_rule = None if (full or first_run) else early_stop
            while man.todo:
                job, done = man.todo[0]
                for fm in session.run_job(job, skip=done, early_stop=stop_rule):
                    store.save_frame(session, oid, fm.frame)
                    yield self._result(session, fm, job, label)
                    done += 1
                    man.todo[0] = (job, done)
                    store.write_manifest(man)
                man.todo.pop(0)
                store.write_manifest(man)
            # views whose stored result went missing (deleted, or lost in an interruption), and
            # after the full pass the views still holding a preview, are written again from the
            # memory, without recomputing
            for f in range(session.num_frames):
                if self._needs_result(project, oid, video.view_ids[f], session, final):
                    stored = session.mask(oid, f)
                    if stored is not None:
                        yield self._result(session, stored, None, label)

    @staticmethod
    def _needs_result(
        project: Project, obj_id: int, view_id: str, session: Sam2Session[VideoFrames], final: bool
    ) -> bool:
        if not project.has_result(obj_id, view_id):
            return True
        if not final:
            return False
        try:
            r = project.read_result(obj_id, view_id)
        except Exception:  # damaged file: write it again
            return True
        return r is None or r.tracker != "sam2" or r.meta.get("image_size") != session.predictor.image_size

    def _result(self, session: Sam2Session[VideoFrames], fm: FrameMask, job: Any, label: str = "full") -> MaskResult:
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
                "pass": label,
                "precision": session.precision,
                "speed": session.speed.name,
                "frames": self.frame_mode,
            },
        )


def make_tracker(**options: Any) -> Sam2Tracker:
    """Registry factory: ``get_tracker("sam2", model=..., checkpoint=..., ...)``."""
    return Sam2Tracker(**options)
