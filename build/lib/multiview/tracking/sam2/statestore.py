"""On-disk copy of a session's per-object memory, so corrections and resumes work across processes.

Layout (under ``cache/sam2/state/<config-hash>/<obj-id>/``, re-computable data)::

    manifest.json     prompt ids already applied, jobs still to run (with progress)
    constants.pt      sam2's memory position encoding (same for every frame)
    frames/<i>.pt     one frame's output: memory features, object pointer, low-res
                      logits, scores; clicks on prompted frames

Every file is written atomically. The manifest is written after the frames it
describes, and a job's progress only after its frame's result was handed over, so
a killed run resumes from its last complete frame. Only a tracking run writes here,
and a run holds the project's tracking lock (:meth:`multiview.project.Project.tracking_lock`),
so two SAM 2 runs never share a state folder, in one process or several.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ... import atomic
from .session import Job, Sam2Session

log = logging.getLogger(__name__)

_KEYS = ("maskmem_features", "pred_masks", "obj_ptr", "object_score_logits", "iou")


@dataclass
class Manifest:
    """What was applied and what remains for one object.

    Attributes:
        applied: ids of the prompts already in the memory.
        todo: ``[(job, done)]``: jobs still to run and how many of their frames are done.
    """

    applied: list[int] = field(default_factory=list)
    todo: list[tuple[Job, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "todo": [{**j.to_json(), "done": d} for j, d in self.todo]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        return cls(
            [int(i) for i in d.get("applied", [])], [(Job.from_json(t), int(t["done"])) for t in d.get("todo", [])]
        )


class ObjectStateStore:
    """The stored memory of one object (see module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> Manifest | None:
        try:
            return Manifest.from_json(json.loads(self.manifest_path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("state manifest %s is damaged (%s); recomputing", self.manifest_path, exc)
            return None

    def write_manifest(self, m: Manifest) -> None:
        atomic.write_json(self.manifest_path, m.to_json())

    def clear(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)

    def save_frame(self, session: Sam2Session, obj_id: int, frame: int) -> None:
        """Write the object's current output on ``frame`` (cond or not) to disk."""
        st = session.state(obj_id)
        outs = st["output_dict_per_obj"][0]
        cond = frame in outs["cond_frame_outputs"]
        out = outs["cond_frame_outputs"][frame] if cond else outs["non_cond_frame_outputs"][frame]
        rec: dict[str, Any] = {k: _cpu(out.get(k)) for k in _KEYS}
        rec["cond"] = cond
        tracked = st["frames_tracked_per_obj"][0].get(frame)
        rec["tracked"] = tracked is not None
        rec["reverse"] = bool(tracked["reverse"]) if tracked else False
        pin = st["point_inputs_per_obj"][0].get(frame)
        rec["point_inputs"] = None if pin is None else {k: _cpu(v) for k, v in pin.items()}
        atomic.write_with(self.root / "frames" / f"{frame}.pt", lambda f: torch.save(rec, f))
        const = st["constants"].get("maskmem_pos_enc")
        cpath = self.root / "constants.pt"
        if const is not None and not cpath.is_file():
            atomic.write_with(cpath, lambda f: torch.save([_cpu(c) for c in const], f))

    def load_into(self, session: Sam2Session, obj_id: int) -> bool:
        """Rebuild the object's memory in ``session``; False if nothing usable is stored."""
        files = sorted((self.root / "frames").glob("*.pt")) if (self.root / "frames").is_dir() else []
        cpath = self.root / "constants.pt"
        if not files or not cpath.is_file():
            return False
        dev = session.predictor.device
        try:
            const = [c.to(dev) for c in torch.load(cpath, map_location="cpu", weights_only=True)]
            recs = {int(f.stem): torch.load(f, map_location="cpu", weights_only=True) for f in files}
        except Exception as exc:  # damaged cache: recompute
            log.warning("stored SAM 2 state in %s is damaged (%s); recomputing", self.root, exc)
            return False
        session.reset_object(obj_id)
        st = session.state(obj_id)
        st["constants"]["maskmem_pos_enc"] = const
        outs = st["output_dict_per_obj"][0]
        for frame, rec in recs.items():
            if not 0 <= frame < session.num_frames:
                continue
            out = {k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in rec.items() if k in _KEYS}
            out["maskmem_pos_enc"] = [c.expand(1, -1, -1, -1) for c in const]
            outs["cond_frame_outputs" if rec["cond"] else "non_cond_frame_outputs"][frame] = out
            if rec["tracked"]:
                st["frames_tracked_per_obj"][0][frame] = {"reverse": rec["reverse"]}
            if rec.get("point_inputs") is not None:
                st["point_inputs_per_obj"][0][frame] = {k: v.to(dev) for k, v in rec["point_inputs"].items()}
        return bool(outs["cond_frame_outputs"])


def _cpu(v: Any) -> Any:
    return v.detach().to("cpu") if isinstance(v, torch.Tensor) else v
