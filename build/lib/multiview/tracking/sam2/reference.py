"""sam2's own predictor driven the documented way: the baseline of the equivalence test and benchmarks.

Not used by the product: sam2's loader reads only folders of integer-named JPEGs,
squashes frames to one square size and takes the output size from the last file.
Here it is the yardstick: same weights, same frames, same clicks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoints import model_spec


def build_reference(
    name: str, checkpoint: str | os.PathLike[str], *, device: str = "cpu", image_size: int = 1024
) -> Any:
    """The plain ``SAM2VideoPredictor`` built by sam2's builder from an official checkpoint."""
    from sam2.build_sam import build_sam2_video_predictor

    overrides = [f"++model.image_size={image_size}"]
    pred = build_sam2_video_predictor(
        model_spec(name).config, ckpt_path=str(checkpoint), device=device, hydra_overrides_extra=overrides
    )
    pred.fill_hole_area = 0  # needs sam2's CUDA extension, absent here (as in the engine)
    return pred


def write_jpeg_folder(frames: Sequence[np.ndarray], folder: str | os.PathLike[str], quality: int = 95) -> Path:
    """Write RGB frames as ``0.jpg, 1.jpg, ...`` (sam2's video folder format)."""
    import cv2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(frames):
        cv2.imwrite(str(folder / f"{i}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return folder


@dataclass
class ReferenceRun:
    """Outputs of the reference: per frame, (H, W) float32 logits at the video size, and its state."""

    logits: dict[int, np.ndarray] = field(default_factory=dict)
    state: Any = None


def run_reference(
    pred: Any,
    folder: str | os.PathLike[str],
    frame: int,
    points: Sequence[Sequence[float]],
    labels: Sequence[int],
    *,
    obj_id: int = 1,
    state: Any = None,
    on_frame: Callable[[int], None] | None = None,
) -> ReferenceRun:
    """Click on ``frame`` (pixel coordinates of the video size), propagate forward then backward.

    Pass ``state`` (from an earlier run) to add the click as a correction and re-propagate the
    whole video the way sam2's demo does.
    """
    import torch

    run = ReferenceRun()
    with torch.inference_mode():
        st = state if state is not None else pred.init_state(str(folder))
        pred.add_new_points_or_box(
            st, frame, obj_id, points=np.asarray(points, np.float32), labels=np.asarray(labels, np.int32)
        )
        for reverse in (False, True):
            for f, _, masks in pred.propagate_in_video(st, start_frame_idx=frame, reverse=reverse):
                run.logits[f] = masks[0, 0].float().cpu().numpy()
                if on_frame is not None:
                    on_frame(f)
    run.state = st
    return run
