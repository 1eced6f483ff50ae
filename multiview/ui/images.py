"""Pictures the page shows: downscaled previews of the photos and mask overlays.

The browser never receives a photo file: previews are JPEGs decoded at reduced
scale (longer side at most :data:`MAX_PREVIEW_SIDE`), overlays are RGBA PNGs of the
same size.

Convention:
    A preview of view ``v`` with longer side ``s`` has size
    ``working_size(v.width, v.height, s)`` (never larger than the working copy); it
    covers the whole photo, so a page pixel maps to original pixels by the ratio of
    the sizes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..loading import encode_image, read_photo, resize_prob, working_size

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

#: Longer side of the largest preview served, pixels.
MAX_PREVIEW_SIDE = 2048
#: Smallest preview side accepted.
MIN_PREVIEW_SIDE = 32


def preview_size(project: Project, view: View, max_side: int) -> tuple[int, int]:
    """(w, h) of the preview of ``view`` at ``max_side`` (bounded by the working size)."""
    side = min(int(max_side), MAX_PREVIEW_SIDE, max(view.work_size))
    return working_size(view.width, view.height, side)


class PreviewCache:
    """Small LRU cache of decoded, downscaled photos: (view id, size) -> (h, w, 3) uint8 RGB."""

    def __init__(self, max_items: int = 64) -> None:
        self._items: OrderedDict[tuple[str, tuple[int, int]], np.ndarray] = OrderedDict()
        self._max = max_items
        self._lock = threading.Lock()

    def image(self, project: Project, view: View, max_side: int) -> np.ndarray:
        import cv2

        size = preview_size(project, view, max_side)
        key = (view.id, size)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        img = read_photo(view.path, max_side=max(size))
        if (img.shape[1], img.shape[0]) != size:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        with self._lock:
            self._items[key] = img
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return img


def encode_jpeg(rgb: np.ndarray, quality: int = 88) -> bytes:
    """JPEG of an (h, w, 3) RGB uint8 image."""
    import cv2

    return encode_image(rgb, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality])


def encode_png(img: np.ndarray) -> bytes:
    """PNG of an (h, w) grey, (h, w, 3) RGB or (h, w, 4) RGBA uint8 image."""
    return encode_image(img, ".png")


def mask_overlay(
    probs: Sequence[tuple[np.ndarray, tuple[int, int, int]]],
    size: tuple[int, int],
    alpha: float = 0.45,
    outline: int = 2,
) -> np.ndarray:
    """Transparent picture of coloured masks.

    Args:
        probs: (prob, colour) per object: (h, w) uint8 0..255 soft masks at any size,
            colour (r, g, b).
        size: (w, h) of the output.

    Returns:
        (h, w, 4) uint8 RGBA: each mask filled with its colour at ``alpha`` and outlined.
    """
    import cv2

    w, h = size
    out = np.zeros((h, w, 4), np.uint8)
    for prob, color in probs:
        m = resize_prob(prob, (w, h)) >= 128 if prob.shape != (h, w) else prob >= 128
        if not m.any():
            continue
        out[m, :3] = color
        out[m, 3] = round(255 * alpha)
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        edge = np.zeros((h, w), np.uint8)
        cv2.drawContours(edge, contours, -1, 255, outline)
        e = edge > 0
        out[e, :3] = color
        out[e, 3] = 255
    return out
