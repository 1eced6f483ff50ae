"""EXIF orientation: how a photo's stored pixels turn into what a restorer sees.

A camera held upright stores the sensor's pixels as they are and records in the
file how to show them: the EXIF / TIFF ``Orientation`` tag (tag 274, values 1-8,
CIPA DC-008 "Exif 2.3", section 4.6.4 A). multiview applies it exactly once, when a
photo is decoded (:func:`multiview.loading.read_photo`), and works in *display
geometry* from then on; exports whose consumer reads the stored pixels turn masks
back with :func:`to_stored`.

Convention:
    ``to_display(stored, o)`` gives the picture a viewer shows; ``to_stored`` is its
    inverse. Values, as "row 0 / column 0 of the stored image is shown at ...":
    1 top/left (as stored), 2 top/right (mirrored left-right), 3 bottom/right
    (rotated 180°), 4 bottom/left (mirrored top-bottom), 5 left/top (transposed),
    6 right/top (rotated 90° clockwise), 7 right/bottom (transverse), 8 left/bottom
    (rotated 90° counter-clockwise). 5-8 swap width and height.
"""

from __future__ import annotations

import numpy as np

#: Valid orientation values.
ORIENTATIONS = (1, 2, 3, 4, 5, 6, 7, 8)

#: LibRaw's ``sizes.flip`` code -> EXIF orientation (LibRaw's bits: 4 = transpose, 2 = flip rows,
#: 1 = flip columns; measured on DNGs carrying each EXIF value, see tests/test_loading.py).
LIBRAW_FLIP_TO_EXIF = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

_WORDS = {
    1: "as stored",
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "transposed",
    6: "rotated 90° clockwise",
    7: "transverse",
    8: "rotated 90° counter-clockwise",
}


def valid(orientation: object) -> int:
    """``orientation`` as an int 1-8; anything else (missing, 0, 9, garbage) is 1, as viewers do."""
    try:
        o = int(orientation)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1
    return o if o in ORIENTATIONS else 1


def swaps_axes(orientation: int) -> bool:
    """True when display width is the stored height (orientations 5-8)."""
    return orientation in (5, 6, 7, 8)


def display_size(stored_size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Display ``(width, height)`` of a photo stored as ``stored_size`` ``(width, height)``."""
    w, h = stored_size
    return (h, w) if swaps_axes(orientation) else (w, h)


def describe(orientation: int) -> str:
    """Words for an orientation value, e.g. ``"rotated 90° clockwise"``."""
    return _WORDS.get(orientation, _WORDS[1])


def to_display(image: np.ndarray, orientation: int) -> np.ndarray:
    """Stored pixels -> display geometry.

    Args:
        image: (H, W) or (H, W, C) array in stored geometry, any dtype.
        orientation: EXIF value 1-8.

    Returns:
        A contiguous array in display geometry ((W, H, ...) for 5-8).
    """
    o = orientation
    if o == 2:
        out = image[:, ::-1]
    elif o == 3:
        out = image[::-1, ::-1]
    elif o == 4:
        out = image[::-1]
    elif o == 5:
        out = np.swapaxes(image, 0, 1)
    elif o == 6:
        out = np.swapaxes(image[::-1], 0, 1)
    elif o == 7:
        out = np.swapaxes(image[::-1, ::-1], 0, 1)
    elif o == 8:
        out = np.swapaxes(image[:, ::-1], 0, 1)
    else:
        return image
    return np.ascontiguousarray(out)


def to_stored(image: np.ndarray, orientation: int) -> np.ndarray:
    """Display geometry -> stored pixels (the inverse of :func:`to_display`)."""
    inverse = {6: 8, 8: 6}.get(orientation, orientation)  # the others are their own inverse
    return to_display(image, inverse)
