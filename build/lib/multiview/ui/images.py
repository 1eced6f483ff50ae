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
from typing import TYPE_CHECKING

import numpy as np

from ..loading import read_photo
from ..raster import encode_image, working_size

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
