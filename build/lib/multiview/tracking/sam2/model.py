"""Build the SAM 2 video predictor the way multiview needs it.

sam2 1.1.0's builder silently ignores keyword arguments: every setting goes
through hydra overrides. The settings multiview changes from the builder's
defaults, and why:

* ``add_all_frames_to_correct_as_cond=true``: a correction click on an already
  tracked view becomes a conditioning frame; otherwise the next propagation
  overwrites it (measured on sam2 1.1.0).
* ``_target_`` = :class:`~multiview.tracking.sam2.predictor.MultiviewVideoPredictor`:
  the stock predictor plus a feature cache, lazy frames and recorded scores.
* ``image_size``: multiples of 32 (1024 is native).
* ``fill_hole_area = 0`` when sam2's CUDA extension is absent (always on CPU):
  set on the built object, since the builder overwrites the hydra value.

``clear_non_cond_mem_around_input`` stays off: it crashes in 1.1.0 (misnamed method).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import Hint, ValidationError
from .checkpoints import DEFAULT_MODEL, load_into, missing_checkpoint, model_spec, resolve_checkpoint

if TYPE_CHECKING:  # pragma: no cover
    from .predictor import MultiviewVideoPredictor

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")
NATIVE_IMAGE_SIZE = 1024


def resolve_device(device: str | None) -> str:
    """``"auto"``/None -> ``"cuda"`` when available else ``"cpu"``.

    Raises:
        ValidationError: unknown device, or ``"cuda"`` without a usable GPU.
    """
    import torch

    d = (device or "auto").lower()
    if d == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if d.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValidationError(
                f"device '{device}' requested but torch sees no CUDA GPU; run on the CPU",
                hint=Hint(option="--device cpu", field="device"),
            )
        return d
    if d == "cpu":
        return d
    raise ValidationError(f"device '{device}' is unknown; use auto, cpu or cuda")


def check_image_size(image_size: int) -> int:
    """Raise ValidationError unless ``image_size`` is a positive multiple of 32 (>= 128)."""
    if image_size < 128 or image_size % 32:
        raise ValidationError(f"image size {image_size} must be a multiple of 32 and at least 128 (1024 is native)")
    return int(image_size)


def _has_cuda_extension() -> bool:
    try:
        from sam2 import _C  # noqa: F401
    except ImportError:
        return False
    return True


def build_model(
    name: str = DEFAULT_MODEL,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    image_size: int = NATIVE_IMAGE_SIZE,
) -> MultiviewVideoPredictor:
    """Build a :class:`MultiviewVideoPredictor` of model ``name``.

    Args:
        checkpoint: official-format checkpoint to load (``weights_only=True``), or None
            for random initial weights (tests, benchmarks: the cost does not depend on
            the weights).
        device: ``"cpu"`` or ``"cuda[:n]"`` (already resolved).
        image_size: square input size of the model, multiple of 32.

    Raises:
        ValidationError: unknown model or bad image size.
        CheckpointError: the checkpoint does not load or does not fit.
    """
    import torch  # noqa: F401  (imported before sam2 for a clear error if missing)
    from sam2.build_sam import build_sam2_video_predictor

    spec = model_spec(name)
    image_size = check_image_size(image_size)
    overrides = [
        "++model._target_=multiview.tracking.sam2.predictor.MultiviewVideoPredictor",
        "++model.add_all_frames_to_correct_as_cond=true",
        f"++model.image_size={image_size}",
    ]
    model = build_sam2_video_predictor(spec.config, ckpt_path=None, device=device, hydra_overrides_extra=overrides)
    if not _has_cuda_extension():
        model.fill_hole_area = 0
    if checkpoint is not None:
        load_into(model, checkpoint)
    model.eval()
    return model


def load_predictor(
    name: str = DEFAULT_MODEL,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str | None = "auto",
    image_size: int = NATIVE_IMAGE_SIZE,
) -> tuple[MultiviewVideoPredictor, Path]:
    """Build the predictor of ``name`` with its checkpoint (default ``checkpoints/<name>.pt``).

    Returns:
        ``(predictor, checkpoint_path)``.

    Raises:
        CheckpointError: the checkpoint is missing (the one-line message gives the
            exact download command) or invalid.
    """
    path = resolve_checkpoint(name, checkpoint)
    if not path.is_file():
        raise missing_checkpoint(name, path, given=checkpoint is not None)
    model = build_model(name, checkpoint=path, device=resolve_device(device), image_size=image_size)
    log.info("loaded %s from %s on %s at %d px", name, path, model.device, model.image_size)
    return model, path
