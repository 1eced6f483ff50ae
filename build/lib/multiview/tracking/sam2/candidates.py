"""The three candidate masks of a first click, with the model's predicted quality scores.

For a single click on an object that has no prompt yet, SAM 2's mask decoder
proposes three masks (roughly: part, object, whole) with a predicted IoU each, and
keeps the highest. The highest score is not always the mask a restorer wants, so
:func:`click_candidates` returns all three; choosing one (``Prompt.candidate``)
makes the tracker keep it everywhere the model uses the choice (mask, memory,
object pointer).

The candidates come from the video predictor itself, on a throwaway inference
state over the session's cached image features: no second model, no torchvision,
and a click on an already encoded view costs only the prompt encoder and decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import ValidationError
from .session import Sam2Session


@dataclass(frozen=True)
class Candidate:
    """One candidate mask.

    Attributes:
        index: 0, 1 or 2 (the value of ``--candidate``).
        prob: (h, w) float32 probability 0..1 in frame geometry.
        score: predicted IoU 0..1.
        best: the model would keep this one by default (highest score).
        present_score: probability 0..1 that the object is visible.
    """

    index: int
    prob: np.ndarray
    score: float
    best: bool
    present_score: float

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.prob > 0.5))


def click_candidates(
    session: Sam2Session[Any], frame: int, point: tuple[float, float], label: int = 1
) -> list[Candidate]:
    """The three candidates for a single click at ``point`` (frame pixels) on ``frame``.

    Raises:
        ValidationError: frame out of range.
    """
    session.check_frame(frame)
    pred = session.predictor
    st = session.new_state()
    pred._obj_id_to_idx(st, 0)
    w, h = session.frames.size(frame)
    pts = torch.tensor([[point[0] / w, point[1] / h]], dtype=torch.float32)
    pred.last_candidates = None
    with torch.inference_mode(), session.autocast():
        pred.add_new_points_or_box(
            st, frame, 0, points=pts, labels=torch.tensor([int(label)], dtype=torch.int32), normalize_coords=False
        )
    cand = pred.last_candidates
    if cand is None:  # pragma: no cover - the config always gives 3 masks for one click
        raise ValidationError("this model gives no candidate masks for a single click")
    obj = cand["object_score_logits"].float()
    masks = cand["low_res_masks"].float()
    if bool((obj <= 0).all()):
        masks = torch.full_like(masks, -1024.0)
    with torch.inference_mode():
        probs = torch.sigmoid(F.interpolate(masks, size=(h, w), mode="bilinear", align_corners=False))[0]
    ious = cand["ious"][0].cpu().numpy().astype(float)
    present = float(torch.sigmoid(obj).flatten()[0])
    best = int(np.argmax(ious))
    return [
        Candidate(k, probs[k].cpu().numpy().astype(np.float32), float(ious[k]), k == best, present)
        for k in range(len(ious))
    ]
