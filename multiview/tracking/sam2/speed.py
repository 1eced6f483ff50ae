"""Speed presets of the SAM 2 engine and the levers they combine.

A tracked SAM 2 frame on a CPU is the image encoder plus the memory attention
(more than half), plus the mask decoder and memory encoder. The levers:

* **bf16** (``precision="bf16"``): autocast to bfloat16; the memory attention and the
  encoder's global attention then run as blocked bf16 GEMMs
  (:mod:`~multiview.tracking.sam2.attention`) instead of torch's fused CPU kernel,
  which reaches less than half of the bf16 matmul peak. On a GPU, torch's fused
  kernels are used (they are the fast path there).
* **conditioning-frame cap** (``max_cond_frames``): each frame attends at most this
  many prompted frames, nearest first (sam2's ``max_cond_frames_in_attn``). Meta's
  setting is -1 (all): with ``add_all_frames_to_correct_as_cond`` every correction
  becomes a conditioning frame, so without a cap every correction makes every frame
  slower (about +0.37 s per frame per correction for hiera tiny at 1024 px on 2 cores).
* **early stop** (:class:`EarlyStop`): a correction's re-propagation stops once K
  consecutive frames come out unchanged in what they write to the memory bank (mask
  memory features and object pointer) *and* in their mask; the frames after keep
  their results and memory.
* **preview** (``preview_size``): a first pass at a lower model input size gives masks
  on every view quickly; the full-size pass follows and replaces them one by one.

Presets (:data:`PRESETS`): ``exact`` is Meta's settings in fp32 (bit-for-bit the
path checked against sam2's own predictor) and the default; ``balanced`` and
``fast`` combine the levers. Their cost in accuracy with real weights is what
``multiview track --check-speed-preset`` measures on the user's own views.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from ...errors import ValidationError

log = logging.getLogger(__name__)

SPEEDS = ("exact", "balanced", "fast")
PRECISIONS = ("fp32", "bf16")
ATTENTION = ("auto", "sdpa", "blocked")


@dataclass(frozen=True)
class FrameChange:
    """How much one re-computed frame differs from its previous output.

    Attributes:
        mask_iou: IoU of the two low-resolution masks (logits > 0); 1.0 when both are empty.
        memory_rel: relative L2 change of the mask memory features, ``|new - old| / |old|``.
        pointer_rel: relative L2 change of the object pointer.
    """

    mask_iou: float
    memory_rel: float
    pointer_rel: float


@dataclass(frozen=True)
class EarlyStop:
    """Stop rule for the re-propagation after a correction.

    The re-propagation of a correction stops after ``frames`` consecutive frames whose
    new output is unchanged: mask IoU at least ``mask_iou`` and relative L2 change of
    the mask memory features and of the object pointer at most ``memory_rel`` and
    ``pointer_rel``. Comparing only masks is not safe: after a correction the changes
    do not decay with the distance to it, and a frame whose mask did not move can
    still write a different memory that changes the frames after it.

    Attributes:
        frames: K, consecutive unchanged frames before stopping (at least 2).
        mask_iou, memory_rel, pointer_rel: the tolerances above.
    """

    frames: int = 2
    mask_iou: float = 0.99
    memory_rel: float = 0.02
    pointer_rel: float = 0.02

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ValidationError(f"early stop after {self.frames} frame(s): use at least 2 consecutive frames")
        if not 0 < self.mask_iou <= 1 or self.memory_rel < 0 or self.pointer_rel < 0:
            raise ValidationError(
                f"early-stop tolerances mask_iou={self.mask_iou}, memory_rel={self.memory_rel}, "
                f"pointer_rel={self.pointer_rel}: use 0 < mask_iou <= 1 and non-negative relative changes"
            )

    def unchanged(self, change: FrameChange) -> bool:
        """True if ``change`` is within every tolerance."""
        return (
            change.mask_iou >= self.mask_iou
            and change.memory_rel <= self.memory_rel
            and change.pointer_rel <= self.pointer_rel
        )


def frame_change(old: dict[str, Any], new: dict[str, Any]) -> FrameChange:
    """Compare two sam2 per-frame outputs (``pred_masks``, ``maskmem_features``, ``obj_ptr`` tensors)."""
    import torch

    with torch.inference_mode():
        a = old["pred_masks"] > 0
        b = new["pred_masks"] > 0
        union = int(torch.count_nonzero(a | b))
        iou = 1.0 if union == 0 else int(torch.count_nonzero(a & b)) / union

        def rel(key: str) -> float:
            x, y = old.get(key), new.get(key)
            if x is None or y is None:
                return 0.0 if x is None and y is None else float("inf")
            x = x.float()
            den = float(torch.linalg.vector_norm(x))
            num = float(torch.linalg.vector_norm(y.float() - x))
            return 0.0 if num == 0 else num / max(den, 1e-12)

        return FrameChange(iou, rel("maskmem_features"), rel("obj_ptr"))


@dataclass(frozen=True)
class SpeedSettings:
    """The levers of one tracking configuration (see module doc).

    Attributes:
        name: preset name (``exact``, ``balanced``, ``fast``) or ``custom``.
        precision: ``fp32`` or ``bf16``.
        attention: kernel of the memory attention and the encoder's global attention:
            ``auto`` (blocked bf16 GEMMs under bf16 on CPU, else torch's fused kernel),
            ``sdpa`` (torch's fused kernel, as sam2) or ``blocked``.
        max_cond_frames: conditioning frames attended per frame, nearest first; -1 = all.
        early_stop: the stop rule of correction re-propagation, or None (run every frame).
        preview_size: model input size of a first, quick pass (multiple of 32), or None.
    """

    name: str = "exact"
    precision: str = "fp32"
    attention: str = "auto"
    max_cond_frames: int = -1
    early_stop: EarlyStop | None = None
    preview_size: int | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValidationError(f"precision '{self.precision}' is unknown; use fp32 or bf16")
        if self.attention not in ATTENTION:
            raise ValidationError(f"attention kernel '{self.attention}' is unknown; use {', '.join(ATTENTION)}")
        if self.max_cond_frames != -1 and self.max_cond_frames < 2:
            raise ValidationError(
                f"conditioning-frame cap {self.max_cond_frames} must be -1 (all) or at least 2 "
                "(the nearest prompted view on each side)"
            )
        if self.preview_size is not None and (self.preview_size < 128 or self.preview_size % 32):
            raise ValidationError(f"preview size {self.preview_size} must be a multiple of 32 and at least 128")

    def kernel(self, device_type: str) -> str:
        """The attention kernel these settings use on ``device_type`` (``"sdpa"`` or ``"blocked"``)."""
        if self.attention != "auto":
            return self.attention
        return "blocked" if self.precision == "bf16" and device_type == "cpu" else "sdpa"

    def with_options(self, **options: Any) -> SpeedSettings:
        """These settings with some fields replaced; named ``custom`` if that changes them.

        Raises:
            ValidationError: a value the settings refuse.
        """
        new = replace(self, **options)
        return new if new == self else replace(new, name="custom")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self, device_type: str = "cpu") -> str:
        """One line for people, e.g. ``"balanced: bf16, blocked attention, at most 4 prompted views, ..."``."""
        parts = [self.precision]
        if self.kernel(device_type) == "blocked":
            parts.append("blocked bf16 attention")
        parts.append(
            "all prompted views" if self.max_cond_frames == -1 else f"at most {self.max_cond_frames} prompted views"
        )
        if self.early_stop is not None:
            parts.append(f"corrections stop after {self.early_stop.frames} unchanged views")
        if self.preview_size is not None:
            parts.append(f"{self.preview_size} px preview first")
        return f"{self.name}: {', '.join(parts)}"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SpeedSettings:
        es = d.get("early_stop")
        return cls(
            name=str(d.get("name", "custom")),
            precision=str(d.get("precision", "fp32")),
            attention=str(d.get("attention", "auto")),
            max_cond_frames=int(d.get("max_cond_frames", -1)),
            early_stop=EarlyStop(**es) if isinstance(es, dict) else None,
            preview_size=None if d.get("preview_size") is None else int(d["preview_size"]),
        )


#: ``exact``: Meta's settings in fp32 (the default). ``balanced``: bf16 with the blocked
#: attention, at most 4 conditioning frames per frame, early stop after 2 unchanged frames.
#: ``fast``: as balanced with 2 conditioning frames and a 512 px preview pass first.
PRESETS: dict[str, SpeedSettings] = {
    "exact": SpeedSettings("exact"),
    "balanced": SpeedSettings("balanced", precision="bf16", max_cond_frames=4, early_stop=EarlyStop()),
    "fast": SpeedSettings("fast", precision="bf16", max_cond_frames=2, early_stop=EarlyStop(), preview_size=512),
}


def speed_preset(name: str) -> SpeedSettings:
    """The preset called ``name``.

    Raises:
        ValidationError: unknown name.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValidationError(f"speed preset '{name}' is unknown; use one of {', '.join(SPEEDS)}") from None


SECTION = "sam2"


def saved_settings(project: Any) -> SpeedSettings | None:
    """The SAM 2 speed settings stored in a project (``sections["sam2"]["speed"]``), or None.

    A damaged entry is ignored (logged), so tracking falls back to ``exact``.
    """
    d = project.section(SECTION).get("speed")
    if not isinstance(d, dict):
        return None
    try:
        return SpeedSettings.from_json(d)
    except (ValidationError, TypeError, ValueError) as exc:
        log.warning("ignoring the stored SAM 2 speed settings (%s)", exc)
        return None


def save_settings(project: Any, settings: SpeedSettings) -> None:
    """Store ``settings`` as the project's SAM 2 speed settings (atomic, keeps the section's other keys)."""
    data = project.section(SECTION)
    data["speed"] = settings.to_json()
    project.set_section(SECTION, data)


@contextlib.contextmanager
def compute(settings: SpeedSettings, device_type: str) -> Iterator[None]:
    """Run model calls under ``settings``: no autograd, autocast, attention kernel, conditioning cap.

    Everything it sets is local to the calling thread/context.
    """
    import torch

    from .attention import attention_kernel
    from .predictor import cond_frames_cap

    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.inference_mode())
        if settings.precision == "bf16":
            stack.enter_context(torch.autocast(device_type=device_type, dtype=torch.bfloat16))
        stack.enter_context(attention_kernel(settings.kernel(device_type)))
        stack.enter_context(cond_frames_cap(settings.max_cond_frames))
        yield
