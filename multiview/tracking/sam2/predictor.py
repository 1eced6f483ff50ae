"""The stock ``SAM2VideoPredictor`` with three small changes multiview needs.

1. Image features come from ``inference_state["features"]`` (a
   :class:`~multiview.tracking.sam2.cache.FeatureProvider`: lazy frames + a
   feature cache) instead of ``inference_state["images"]`` and sam2's
   one-frame cache, so no frame is held as a float tensor and no view is encoded
   twice.
2. The mask decoder's predicted IoUs are recorded: every per-frame output carries
   ``"iou"`` (the predicted quality of the mask that was kept), and the three
   candidates of a first click are kept in :attr:`last_candidates`.
3. :attr:`forced_candidate` makes the predictor keep candidate K (0..2) instead of
   the one with the highest predicted IoU, everywhere the model uses that choice
   (mask, memory, object pointer).
4. Two speed levers that are off unless a caller selects them for its own thread
   (context variables, so a workbench request and a background job never see each
   other's choice): the attention kernel of the memory attention
   (:func:`~multiview.tracking.sam2.attention.attention_kernel`) and a cap on the
   conditioning frames a frame attends (:func:`cond_frames_cap`, sam2's own
   ``max_cond_frames_in_attn``). :attr:`last_cond_frames_attended` records which
   conditioning frames the last tracked frame attended.

Everything else (memory attention, memory encoder, conditioning logic) is sam2's
own code, unchanged; with the levers off the predictor computes exactly what the
stock one computes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import torch
from sam2.modeling.sam2_base import NO_OBJ_SCORE
from sam2.modeling.sam2_utils import select_closest_cond_frames
from sam2.sam2_video_predictor import SAM2VideoPredictor

from . import attention

_COND_CAP: ContextVar[int | None] = ContextVar("multiview_sam2_cond_frames_cap", default=None)


@contextlib.contextmanager
def cond_frames_cap(cap: int | None) -> Iterator[None]:
    """Cap the conditioning frames each tracked frame attends, in this thread/context.

    Args:
        cap: at most this many prompted frames, the nearest ones first (sam2's
            ``select_closest_cond_frames``: the nearest before, the nearest after, then by
            distance); ``-1`` = all (Meta's setting); None = the model's configured value.

    Raises:
        ValueError: a cap below 2 (sam2 needs the nearest frame on each side).
    """
    if cap is not None and cap != -1 and cap < 2:
        raise ValueError(f"conditioning-frame cap {cap} must be -1 (all) or at least 2")
    token = _COND_CAP.set(cap)
    try:
        yield
    finally:
        _COND_CAP.reset(token)


class MultiviewVideoPredictor(SAM2VideoPredictor):
    """SAM 2 video predictor with external features and recorded scores (see module doc)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: candidate index to keep on the next multimask decoder call, or None (best IoU).
        self.forced_candidate: int | None = None
        #: ``{"low_res_masks": (1, 3, s, s) float32 logits, "ious": (1, 3), "object_score_logits": (1, 1)}``
        #: of the last multimask decoder call, or None.
        self.last_candidates: dict[str, torch.Tensor] | None = None
        self._last_iou: float | None = None
        #: conditioning frames (sorted indices) attended by the last frame tracked from memory, or None.
        self.last_cond_frames_attended: tuple[int, ...] | None = None
        self.sam_mask_decoder.register_forward_hook(self._after_decoder)
        attention.install(self)

    # -- conditioning-frame cap -------------------------------------------------------
    @property
    def max_cond_frames_in_attn(self) -> int:
        """sam2's cap on attended conditioning frames: the thread's :func:`cond_frames_cap` or the config's."""
        cap = _COND_CAP.get()
        return self._configured_max_cond_frames if cap is None else cap

    @max_cond_frames_in_attn.setter
    def max_cond_frames_in_attn(self, value: int) -> None:
        self._configured_max_cond_frames = int(value)

    def _prepare_memory_conditioned_features(
        self,
        frame_idx: int,
        is_init_cond_frame: bool,
        current_vision_feats: Any,
        current_vision_pos_embeds: Any,
        feat_sizes: Any,
        output_dict: dict[str, Any],
        num_frames: int,
        track_in_reverse: bool = False,
    ) -> Any:
        if not is_init_cond_frame and self.num_maskmem > 0:
            selected, _ = select_closest_cond_frames(
                frame_idx, output_dict["cond_frame_outputs"], self.max_cond_frames_in_attn
            )
            self.last_cond_frames_attended = tuple(sorted(selected))
        return super()._prepare_memory_conditioned_features(
            frame_idx,
            is_init_cond_frame,
            current_vision_feats,
            current_vision_pos_embeds,
            feat_sizes,
            output_dict,
            num_frames,
            track_in_reverse,
        )

    # -- scores and candidates -------------------------------------------------------
    def _after_decoder(self, module: Any, args: Any, output: Any) -> Any:
        masks, ious, tokens, obj_logits = output
        ious_f = ious.detach().float()
        if ious.shape[-1] > 1:
            self.last_candidates = {
                "low_res_masks": masks.detach().float(),
                "ious": ious_f,
                "object_score_logits": obj_logits.detach().float(),
            }
            k = self.forced_candidate
            if k is not None and 0 <= k < ious.shape[-1]:
                bonus = torch.zeros_like(ious)
                bonus[..., k] = 10.0  # predicted IoUs are in [0, 1]: K wins the argmax
                self._last_iou = float(ious_f[0, k])
                return masks, ious + bonus, tokens, obj_logits
            self._last_iou = float(ious_f[0].max())
        else:
            self._last_iou = float(ious_f[0, 0])
        return None

    def _use_mask_as_output(self, backbone_features: Any, high_res_features: Any, mask_inputs: Any) -> Any:
        out = super()._use_mask_as_output(backbone_features, high_res_features, mask_inputs)
        self._last_iou = 1.0  # a mask prompt is taken as the answer itself
        return out

    def _run_single_frame_inference(self, inference_state: Any, *args: Any, **kwargs: Any) -> Any:
        self._last_iou = None
        compact, pred_gpu = super()._run_single_frame_inference(inference_state, *args, **kwargs)
        compact["iou"] = self._last_iou
        return compact, pred_gpu

    # -- features --------------------------------------------------------------------
    def _get_image_feature(self, inference_state: Any, frame_idx: int, batch_size: int) -> Any:
        provider = inference_state.get("features")
        if provider is None:  # a state made by sam2's own init_state
            return super()._get_image_feature(inference_state, frame_idx, batch_size)
        fpn, pos = provider.backbone(frame_idx)
        backbone_out = {
            "backbone_fpn": [f.expand(batch_size, -1, -1, -1) for f in fpn],
            "vision_pos_enc": [p.expand(batch_size, -1, -1, -1) for p in pos],
        }
        return (None, *self._prepare_backbone_features(backbone_out))


def no_object_logit() -> float:
    """The logit sam2 writes where an object is absent."""
    return float(NO_OBJ_SCORE)
