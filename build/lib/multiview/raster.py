"""Raster helpers shared by every stage: working sizes, pixel-grid scales, soft-mask resizing, encoding.

Convention:
    Sizes are ``(width, height)``; arrays are ``(height, width[, channels])``. Pixel
    coordinates are ``(x, y)``, origin at the top-left, pixel centres at integer
    coordinates (the OpenCV convention), so the pixel grid of a ``w x h`` image spans
    ``[-0.5, w - 0.5] x [-0.5, h - 0.5]``. Soft masks are ``uint8`` 0..255 (object
    probability) or ``float32`` 0..1; a mask is ``prob >= 128`` (or ``>= 0.5``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["encode_image", "resize_prob", "scale_between", "working_size"]


def working_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Size ``(w, h)`` of the working copy of a ``width x height`` photo bounded by ``max_side``.

    Args:
        width, height: full size, pixels.
        max_side: bound on the longer side, pixels, or None (no bound).

    Returns:
        ``(w, h)``: the full size when it already fits, else scaled so that the longer
        side is ``max_side`` (each side rounded, at least 1).
    """
    if max_side is None or max(width, height) <= max_side:
        return width, height
    s = max_side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def scale_between(src: tuple[int, int], dst: tuple[int, int]) -> np.ndarray:
    """(3, 3) float64 matrix mapping pixel coords of an image of size ``src`` to one of size ``dst``.

    Convention: pixel centres at integer coordinates, so the map is
    ``x_dst = (x_src + 0.5) * sx - 0.5`` with ``sx = dst_w / src_w`` (the pixel-grid
    borders map onto each other).
    """
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], dtype=np.float64)


def resize_prob(prob: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a soft mask to ``size`` by bilinear interpolation (never nearest on binary masks).

    Args:
        prob: (h, w) uint8 object probability 0..255 (or float32).
        size: target ``(width, height)``.

    Returns:
        (height, width) array of the same dtype (the input itself when the size already
        matches). Enlarging is bilinear (``cv2.INTER_LINEAR``), shrinking averages areas
        (``cv2.INTER_AREA``).
    """
    import cv2

    w, h = size
    if (prob.shape[1], prob.shape[0]) == (w, h):
        return prob
    interp = cv2.INTER_LINEAR if w >= prob.shape[1] else cv2.INTER_AREA
    return cv2.resize(prob, (w, h), interpolation=interp)


def encode_image(image: np.ndarray, ext: str = ".png", params: Sequence[int] = ()) -> bytes:
    """Encode an image with OpenCV (the inverse of :func:`multiview.loading.read_photo`'s colour order).

    Args:
        image: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA uint8.
        ext: encoder extension, e.g. ``".png"`` or ``".jpg"``.
        params: OpenCV encoder flags, e.g. ``[cv2.IMWRITE_JPEG_QUALITY, 90]``.

    Returns:
        The encoded file's bytes.

    Raises:
        ValueError: OpenCV cannot encode this image with ``ext``.
    """
    import cv2

    arr = image
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    elif arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, arr, list(params))
    if not ok:
        raise ValueError(f"OpenCV could not encode a {ext} image of shape {image.shape}")
    return buf.tobytes()
