"""Helpers of the SAM 2 engine tests (import as ``from sam2_helpers import ...``)."""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 256
MODEL = "sam2.1_hiera_tiny"


def always_unchanged():
    """An early-stop rule that takes every re-computed frame as unchanged (stops after K = 2 frames)."""
    from multiview.tracking.sam2.speed import EarlyStop

    return EarlyStop(frames=2, mask_iou=1e-9, memory_rel=float("inf"), pointer_rel=float("inf"))


def blob_frames(n: int, size: tuple[int, int] = (160, 120), seed: int = 0) -> list[np.ndarray]:
    """``n`` (h, w, 3) uint8 frames: a bright disc drifting over a textured background."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    out = []
    for i in range(n):
        img = base.copy()
        cx = int(w * (0.35 + 0.3 * i / max(1, n - 1)))
        cv2.circle(img, (cx, h // 2), min(w, h) // 5, (250, 240, 30), -1)
        out.append(img)
    return out
