"""Homography helpers: the projective math under alignment and the reference plane (:mod:`multiview.plane`).

Convention:
    Points are ``(N, 2)`` float64 arrays of pixel coordinates ``(x, y)``, origin at
    the top-left, pixel centres at integer coordinates (OpenCV convention).
    Homographies are ``(3, 3)`` float64 arrays named by direction: ``H_b_from_a``
    maps homogeneous pixels of geometry ``a`` to geometry ``b``
    (``x_b ~ H_b_from_a @ x_a``). Three geometries occur for a view:

    * *orig*: the full photo (``View.size``),
    * *work*: the view's working copy (``View.work_size``), where results live,
    * *ref*: the reference plane = original pixels of the reference view.

    Sizes are ``(width, height)``; arrays are ``(height, width)``. How a *view* maps onto
    the reference plane is not composed from these by hand: ask
    :func:`multiview.plane.mapping` (a homography today, possibly a smoother model).
"""

from __future__ import annotations

import numpy as np

from .errors import ValidationError
from .raster import scale_between

__all__ = [
    "apply_h",
    "compose",
    "corner_error",
    "corners",
    "coverage",
    "footprint",
    "invert",
    "mask_iou",
    "normalize_h",
    "polygon_area",
    "warp_image",
    "warp_prob",
]


def normalize_h(H: np.ndarray) -> np.ndarray:
    """Scale a homography so that ``H[2, 2] == 1`` (when possible).

    Args:
        H: (3, 3) homography.

    Returns:
        (3, 3) float64 copy.

    Raises:
        ValidationError: not a finite (3, 3) matrix.
    """
    H = np.asarray(H, dtype=np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        raise ValidationError(f"homography must be a finite 3x3 matrix, got shape {H.shape}")
    s = H[2, 2]
    return H / s if abs(s) > 1e-12 else H.copy()


def apply_h(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map points through a homography.

    Args:
        H: (3, 3) ``H_b_from_a``.
        points: (N, 2) or (2,) pixel coordinates in geometry ``a``.

    Returns:
        (N, 2) float64 coordinates in geometry ``b``; points mapped to infinity
        (behind the horizon) come back as ``nan``.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ph = np.c_[pts, np.ones(len(pts))] @ np.asarray(H, dtype=np.float64).T
    w = ph[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ph[:, :2] / w
    out[np.abs(w[:, 0]) < 1e-12] = np.nan
    return out


def compose(*Hs: np.ndarray) -> np.ndarray:
    """Product of homographies, left to right as in matrix notation, normalised.

    ``compose(H_c_from_b, H_b_from_a)`` is ``H_c_from_a``.
    """
    if not Hs:
        return np.eye(3)
    out = np.eye(3)
    for H in Hs:
        out = out @ np.asarray(H, dtype=np.float64)
    return normalize_h(out)


def invert(H: np.ndarray) -> np.ndarray:
    """Inverse homography, normalised: ``invert(H_b_from_a)`` is ``H_a_from_b``.

    Raises:
        ValidationError: the matrix is singular.
    """
    H = np.asarray(H, dtype=np.float64)
    try:
        Hi = np.linalg.inv(H)
    except np.linalg.LinAlgError as exc:
        raise ValidationError("homography is singular and cannot be inverted") from exc
    return normalize_h(Hi)


def corners(size: tuple[int, int]) -> np.ndarray:
    """(4, 2) outer corners of an image of ``size = (w, h)``: the pixel-grid border, not pixel centres.

    Convention: with centres at integers, the grid spans ``[-0.5, w - 0.5] x [-0.5, h - 0.5]``.
    """
    w, h = size
    return np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]], dtype=np.float64)


def corner_error(H_est: np.ndarray, H_true: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    """Mean and max distance between the four image corners mapped by two homographies.

    Args:
        H_est, H_true: (3, 3) ``H_b_from_a`` estimates.
        size: ``(w, h)`` of image ``a``; its corners ``(0,0), (w-1,0), (w-1,h-1), (0,h-1)`` are used
            (the usual benchmark definition).

    Returns:
        ``(mean, max)`` in pixels of image ``b``.
    """
    w, h = size
    c = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)
    d = np.linalg.norm(apply_h(H_est, c) - apply_h(H_true, c), axis=1)
    return float(np.mean(d)), float(np.max(d))


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula).

    Args:
        poly: (N, 2) vertices in order.
    """
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def footprint(H_dst_from_src: np.ndarray, src_size: tuple[int, int]) -> np.ndarray:
    """(4, 2) outline of a source image mapped into the destination geometry."""
    return apply_h(H_dst_from_src, corners(src_size))


def warp_prob(
    prob: np.ndarray,
    H_dst_from_src: np.ndarray,
    dst_size: tuple[int, int],
    *,
    border: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a soft mask into another geometry with bilinear interpolation.

    Args:
        prob: (h, w) soft mask, uint8 0..255 or float 0..1 (any float scale is kept).
        H_dst_from_src: (3, 3) map from source pixels to destination pixels.
        dst_size: ``(W, H)`` of the destination.
        border: value of destination pixels the source does not cover.

    Returns:
        ``(warped, valid)``: (H, W) float32 soft mask (uint8 inputs become 0..1),
        and (H, W) bool, True where the destination pixel centre falls inside the
        source image (pixel-grid border ``[-0.5, w - 0.5]``), i.e. where the value is known.

    Convention: validity is computed from the exact inverse map of each destination
    pixel centre, so it does not depend on interpolation of a binary image.
    """
    import cv2

    src = np.asarray(prob)
    if src.ndim != 2:
        raise ValidationError(f"soft mask must be 2-D (h, w), got shape {src.shape}")
    data = src.astype(np.float32) / 255.0 if src.dtype == np.uint8 else src.astype(np.float32)
    W, Hh = int(dst_size[0]), int(dst_size[1])
    H = normalize_h(H_dst_from_src)
    warped = cv2.warpPerspective(
        data,
        H,
        (W, Hh),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    valid = coverage(H, (src.shape[1], src.shape[0]), (W, Hh))
    warped[~valid] = border
    return warped, valid


def warp_image(
    image: np.ndarray, H_dst_from_src: np.ndarray, dst_size: tuple[int, int], fill: tuple[float, ...] = (0.0,)
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a colour image through a homography (bilinear), shrinking it first when the map shrinks a lot.

    ``cv2.warpPerspective`` has no area filter: when the affine part of the map shrinks
    the image to less than a quarter of its area (``|det H[:2, :2]| < 0.25``), the image is
    first reduced with ``cv2.INTER_AREA`` to about 1.5 times the final scale.

    Args:
        image: (h, w[, C]) uint8.
        H_dst_from_src: (3, 3) map from image pixels to destination pixels.
        dst_size: ``(W, H)``.
        fill: value of destination pixels the image does not cover.

    Returns:
        ``(warped, valid)``: (H, W[, C]) uint8 and (H, W) bool (see :func:`coverage`).
    """
    import cv2

    H = np.asarray(H_dst_from_src, dtype=np.float64)
    area = abs(np.linalg.det(H[:2, :2]))
    src = image
    if area < 0.25:
        f = max(np.sqrt(area) * 1.5, 8 / min(image.shape[:2]))
        src = cv2.resize(
            image,
            (max(1, round(image.shape[1] * f)), max(1, round(image.shape[0] * f))),
            interpolation=cv2.INTER_AREA,
        )
        H = compose(H, scale_between((src.shape[1], src.shape[0]), (image.shape[1], image.shape[0])))
    W, Hh = int(dst_size[0]), int(dst_size[1])
    out = cv2.warpPerspective(src, H, (W, Hh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    return out, coverage(H, (src.shape[1], src.shape[0]), (W, Hh))


def coverage(H_dst_from_src: np.ndarray, src_size: tuple[int, int], dst_size: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: destination pixels whose centre maps inside the source image.

    Args:
        H_dst_from_src: (3, 3).
        src_size, dst_size: ``(w, h)``.
    """
    W, Hh = int(dst_size[0]), int(dst_size[1])
    w, h = src_size
    Hinv = invert(H_dst_from_src)
    xs = np.arange(W, dtype=np.float64)
    ys = np.arange(Hh, dtype=np.float64)[:, None]
    den = Hinv[2, 0] * xs + Hinv[2, 1] * ys + Hinv[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (Hinv[0, 0] * xs + Hinv[0, 1] * ys + Hinv[0, 2]) / den
        v = (Hinv[1, 0] * xs + Hinv[1, 1] * ys + Hinv[1, 2]) / den
    return (den > 0) & (u >= -0.5) & (u <= w - 0.5) & (v >= -0.5) & (v <= h - 0.5)


def mask_iou(a: np.ndarray, b: np.ndarray, known: np.ndarray | None = None) -> float:
    """IoU of two boolean masks, optionally only over ``known`` pixels; 1.0 when both are empty."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if known is not None:
        a = a & known
        b = b & known
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else float(np.count_nonzero(a & b)) / union
