"""Drawing masks and marks on photos: the one module every picture goes through.

Review pictures (contact sheet, one view large), the candidate previews of a first
click and the workbench's transparent mask layers all draw here: mask tints and
outlines, unknown pixels shaded, prompt marks, frames and text.

Convention:
    Images are (H, W, 3) uint8 RGB arrays, drawn on in place where stated; pixel
    coordinates are ``(x, y)``, origin at the top-left, pixel centres at integers.
    Colours are ``(r, g, b)`` 0..255.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from PIL import ImageFont

#: Colour of drift marks (red) and of "ok" marks (green), RGB.
DRIFT_RGB = (220, 20, 20)
OK_RGB = (40, 160, 60)
POS_RGB = (30, 200, 60)
NEG_RGB = (230, 30, 30)


def overlay_mask(
    img: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], *, alpha: float = 0.45, thickness: int = 2
) -> None:
    """Tint ``mask`` pixels of ``img`` with ``color`` and outline the mask (over a dark halo), in place.

    Args:
        img: (H, W, 3) uint8 RGB.
        mask: (H, W) bool.
        thickness: outline width, pixels (0: no outline).
    """
    import cv2

    if not mask.any():
        return
    c = np.asarray(color, dtype=np.float32)
    sel = img[mask].astype(np.float32)
    img[mask] = np.clip(sel * (1.0 - alpha) + c * alpha, 0, 255).astype(np.uint8)
    if thickness > 0:
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        # A dark halo under the coloured line keeps it visible on paint of the same hue.
        cv2.drawContours(img, contours, -1, (0, 0, 0), thickness + 2, lineType=cv2.LINE_AA)
        cv2.drawContours(img, contours, -1, tuple(int(v) for v in color), thickness, lineType=cv2.LINE_AA)


def shade_unknown(img: np.ndarray, known: np.ndarray, factor: float = 0.45) -> None:
    """Darken pixels where the tracker could not see the photo (``known`` False), in place."""
    unk = ~known
    if unk.any():
        img[unk] = (img[unk].astype(np.float32) * factor).astype(np.uint8)


def frame(img: np.ndarray, color: tuple[int, int, int], width: int) -> None:
    """Draw a border of ``width`` pixels around ``img``, in place."""
    img[:width] = color
    img[-width:] = color
    img[:, :width] = color
    img[:, -width:] = color


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in scalable font at ``size`` pixels (no font file needed)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def text_width(text: str, size: int) -> int:
    f = font(size)
    box = f.getbbox(text)
    return int(box[2] - box[0])


def fit_text(text: str, size: int, width: int, *, middle: bool = False) -> str:
    """``text`` shortened with an ellipsis (at the end, or in the middle for file names)
    so that it fits ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    keep = len(text)
    while keep > 1:
        keep -= 1
        if middle:
            head = (keep + 1) // 2
            cand = text[:head] + "…" + text[len(text) - (keep - head) :]
        else:
            cand = text[:keep].rstrip() + "…"
        if text_width(cand, size) <= width:
            return cand
    return text[:1]


def wrap_text(text: str, size: int, width: int, max_lines: int = 2) -> list[str]:
    """Split ``text`` at spaces into at most ``max_lines`` lines of ``width`` pixels (the last one shortened)."""
    lines: list[str] = []
    words = text.split(" ")
    while words and len(lines) < max_lines - 1:
        k = len(words)
        while k > 1 and text_width(" ".join(words[:k]), size) > width:
            k -= 1
        lines.append(fit_text(" ".join(words[:k]), size, width))
        words = words[k:]
    if words:
        lines.append(fit_text(" ".join(words), size, width))
    return lines


def draw_texts(img: np.ndarray, items: list[tuple[tuple[int, int], str, tuple[int, int, int], int]]) -> np.ndarray:
    """Draw text items ``((x, y), text, color, size)`` (top-left anchored); returns the new image."""
    from PIL import Image, ImageDraw

    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    for (x, y), text, color, size in items:
        d.text((x, y), text, fill=tuple(color), font=font(size))
    return np.asarray(pil).copy()


def draw_prompt_marks(
    img: np.ndarray,
    points: list[tuple[float, float]],
    labels: list[int],
    box: tuple[float, float, float, float] | None,
    color: tuple[int, int, int],
    radius: int = 8,
) -> None:
    """Draw clicked points and a box (already in ``img`` pixels), in place.

    Positive points: green disc with a white ``+``; negative points: red disc with a
    white ``-``; both outlined in black. The box is drawn in the object's colour over
    a black line so it stays visible on any background.
    """
    import cv2

    if box is not None:
        x0, y0, x1, y1 = (round(v) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (0, 0, 0), 4, lineType=cv2.LINE_AA)
        cv2.rectangle(img, (x0, y0), (x1, y1), tuple(int(c) for c in color), 2, lineType=cv2.LINE_AA)
    for (x, y), lab in zip(points, labels):
        c = (round(x), round(y))
        cv2.circle(img, c, radius + 2, (0, 0, 0), -1, lineType=cv2.LINE_AA)
        cv2.circle(img, c, radius, POS_RGB if lab else NEG_RGB, -1, lineType=cv2.LINE_AA)
        r = max(2, radius // 2)
        cv2.line(img, (c[0] - r, c[1]), (c[0] + r, c[1]), (255, 255, 255), 2, lineType=cv2.LINE_AA)
        if lab:
            cv2.line(img, (c[0], c[1] - r), (c[0], c[1] + r), (255, 255, 255), 2, lineType=cv2.LINE_AA)


def click_preview(
    image: np.ndarray, prob: np.ndarray, color: tuple[int, int, int], point: tuple[float, float] | None = None
) -> np.ndarray:
    """Preview of a candidate mask: a copy of ``image`` with the mask tinted and outlined, and the click.

    Args:
        image: (h, w, 3) uint8 RGB (not changed).
        prob: (h, w) soft mask: float probability 0..1 (mask: ``prob > 0.5``) or uint8
            0..255 (mask: ``prob >= 128``).
        point: the click ``(x, y)`` in ``image`` pixels, drawn as a green dot, or None.

    Returns:
        (h, w, 3) uint8 RGB.
    """
    import cv2

    out = image.copy()
    overlay_mask(out, prob >= 128 if prob.dtype == np.uint8 else prob > 0.5, color, alpha=0.5)
    if point is not None:
        p = (round(point[0]), round(point[1]))
        cv2.circle(out, p, 6, (255, 255, 255), -1)
        cv2.circle(out, p, 4, (0, 200, 0), -1)
    return out


def hatch(size: tuple[int, int], period: int = 8, width: int = 3) -> np.ndarray:
    """(h, w) bool diagonal stripes (``/``): ``width`` pixels of every ``period``, at ``size = (w, h)``."""
    w, h = size
    yy, xx = np.indices((h, w))
    return (xx + yy) % period < width


def mask_layer(
    masks: Sequence[tuple[np.ndarray, tuple[int, int, int]]],
    size: tuple[int, int],
    alpha: float = 0.45,
    outline: int = 2,
    hatched: np.ndarray | None = None,
) -> np.ndarray:
    """Transparent layer of coloured masks (to lay over a picture of the same size).

    Args:
        masks: ``(mask, colour)`` per object: (h, w) bool at ``size``, colour ``(r, g, b)``.
        size: ``(w, h)`` of the layer.
        alpha: opacity of the fill, 0..1.
        outline: width of the opaque outline, pixels.
        hatched: (h, w) bool at ``size`` or None: where something in front of the wall hides
            the masks (:mod:`multiview.occlusion`); those parts are hatched (opaque stripes in
            the object's colour over a faint fill) instead of filled.

    Returns:
        (h, w, 4) uint8 RGBA: each mask filled with its colour at ``alpha`` (hatched where
        hidden) and outlined; later masks are drawn over earlier ones.
    """
    import cv2

    w, h = size
    out = np.zeros((h, w, 4), np.uint8)
    stripes = hatch(size) if hatched is not None and hatched.any() else None
    for m, color in masks:
        if not m.any():
            continue
        out[m, :3] = color
        out[m, 3] = round(255 * alpha)
        if stripes is not None:
            hidden = m & hatched
            out[hidden, 3] = round(255 * alpha * 0.25)
            out[hidden & stripes, 3] = 255
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        edge = np.zeros((h, w), np.uint8)
        cv2.drawContours(edge, contours, -1, 255, outline)
        e = edge > 0
        out[e, :3] = color
        out[e, 3] = 255
    return out


def occlusion_layer(occluded: np.ndarray, color: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Transparent layer that hatches what stands in front of the wall.

    Args:
        occluded: (h, w) bool, the occluded pixels of a view at the layer's size.
        color: colour of the stripes (a dark outline keeps them visible on light photos).

    Returns:
        (h, w, 4) uint8 RGBA: stripes over the occluded pixels, transparent elsewhere.
    """
    import cv2

    h, w = occluded.shape
    out = np.zeros((h, w, 4), np.uint8)
    if not occluded.any():
        return out
    stripes = hatch((w, h)) & occluded
    out[occluded, 3] = 40
    out[stripes, :3] = color
    out[stripes, 3] = 200
    contours, _ = cv2.findContours(occluded.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    edge = np.zeros((h, w), np.uint8)
    cv2.drawContours(edge, contours, -1, 255, 1)
    out[edge > 0] = (40, 40, 40, 220)
    return out
