"""Loading stage: find photos in a folder, check them, decode them to RGB.

Convention:
    Every image this module returns is a ``(H, W, 3)`` ``uint8`` RGB array in the
    photo's *display geometry*: EXIF orientation already applied, so ``W x H`` is
    the size a restorer sees in any photo viewer. Pixel coordinates elsewhere in
    multiview are ``(x, y)`` in that geometry, origin at the top-left corner,
    pixel centres at integer coordinates (the OpenCV convention).

Photos can be large (60 MP and more). Work never needs the full resolution:
:func:`read_photo` with ``max_side`` decodes a bounded *working copy* (JPEG is
decoded directly at a reduced scale, RAW at half size), and exports bring masks
back to the original geometry with :func:`multiview.raster.resize_prob`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import orientation
from .atomic import file_sha256
from .decoders import (
    MAX_PIXELS,
    Decoder,
    Header,
    PillowDecoder,
    RawDecoder,
    decoder_for,
    extensions,
    open_pillow,
    to_rgb8,
    too_large,
)
from .errors import PhotoError, PhotoSetError
from .raster import working_size

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

log = logging.getLogger(__name__)

#: Camera RAW extensions (decoded with rawpy/LibRaw).
RAW_EXTS = RawDecoder.extensions
#: Every extension multiview reads as a photo (case-insensitive), see :data:`multiview.decoders.DECODERS`.
IMAGE_EXTS = extensions()
#: Extensions that are not RAW.
RASTER_EXTS = IMAGE_EXTS - RAW_EXTS

__all__ = [
    "IMAGE_EXTS",
    "MAX_PIXELS",
    "Header",
    "PhotoInfo",
    "PhotoScan",
    "natural_key",
    "photo_size",
    "probe_photo",
    "probe_photos",
    "read_header",
    "read_mask",
    "read_photo",
    "scan_photos",
]


@dataclass(frozen=True)
class PhotoScan:
    """Result of scanning a folder for photos.

    Attributes:
        photos: image files, sorted by file name (natural order: ``img2`` before ``img10``).
        skipped: other files (sidecars such as ``.xmp``, notes, masks multiview added beside
            the photos), sorted; they are ignored.
    """

    photos: tuple[Path, ...]
    skipped: tuple[Path, ...]


@dataclass(frozen=True)
class PhotoInfo:
    """What :func:`probe_photo` learns about one photo.

    Attributes:
        path: absolute path as listed in the photo folder (links are not resolved).
        width, height: size in pixels in display geometry (EXIF orientation applied).
        sha256: hex digest of the file's bytes (identifies the content).
        file_size: bytes on disk.
        mtime_ns: modification time, nanoseconds.
        orientation: EXIF orientation 1-8 the decoder applies (:mod:`multiview.orientation`).
        pages: full-resolution pages or frames in the file (multiview uses the first).
    """

    path: Path
    width: int
    height: int
    sha256: str
    file_size: int
    mtime_ns: int
    orientation: int = 1
    pages: int = 1


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key that orders embedded numbers by value (``img2`` < ``img10``)."""
    import re

    parts = re.split(r"(\d+)", name.lower())
    return tuple(int(p) if p.isdigit() else p for p in parts)


def scan_photos(folder: str | os.PathLike[str], *, min_photos: int = 2) -> PhotoScan:
    """List the photos of ``folder`` (not recursive).

    Raises:
        PhotoSetError: the folder is missing or holds fewer than ``min_photos`` photos.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PhotoSetError(f"photo folder '{folder}' does not exist; check the path")
    from .safety import beside_photos_files

    base = Path(os.path.abspath(folder))
    ours = beside_photos_files(folder)  # masks multiview added beside the photos are not photos
    photos: list[Path] = []
    skipped: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        is_photo = entry.suffix.lower() in IMAGE_EXTS and entry.name not in ours
        # the name as it appears in the folder, even for a link (a view is named like what
        # COLMAP or RealityCapture see there, never like the link's target)
        (photos if is_photo else skipped).append(base / entry.name)
    if len(photos) < min_photos:
        raise PhotoSetError(
            f"photo folder '{folder}' holds {len(photos)} photo(s); at least {min_photos} are needed "
            f"(readable types: {', '.join(sorted(e.lstrip('.') for e in IMAGE_EXTS))})"
        )
    return PhotoScan(tuple(photos), tuple(skipped))


def _decode_error(path: Path, exc: BaseException) -> PhotoError:
    return PhotoError(
        f"cannot decode photo '{path.name}' ({type(exc).__name__}: {exc}); "
        "the file is truncated, corrupt or not really an image: re-export it or move it out of the folder"
    )


def _decoder(path: Path) -> Decoder:
    d = decoder_for(path)
    if d is None:
        raise PhotoError(
            f"'{path.name}' is not a photo multiview reads "
            f"(types: {', '.join(sorted(e.lstrip('.') for e in IMAGE_EXTS))}); convert it to JPEG or TIFF"
        )
    return d


def read_header(path: str | os.PathLike[str]) -> Header:
    """Stored size, EXIF orientation and page count of a photo, without decoding its pixels.

    Raises:
        PhotoError: missing, unknown type, over :data:`MAX_PIXELS`, or an unreadable header.
    """
    path = Path(path)
    if not path.is_file():
        raise PhotoError(f"photo '{path}' is missing; move it back or relink the project to its new folder")
    dec = _decoder(path)
    try:
        header = dec.header(path)
    except PhotoError:
        raise
    except Exception as exc:  # the libraries raise many types
        raise _decode_error(path, exc) from exc
    too_large(path, header.stored_size)
    return header


def read_photo(path: str | os.PathLike[str], max_side: int | None = None) -> np.ndarray:
    """Decode a photo to RGB in display geometry: the one path every format takes.

    1. the format's decoder (:mod:`multiview.decoders`) reads the header and the first
       page's stored pixels (at a reduced scale where the format allows it);
    2. the decoded size is checked against the header (a file whose pixels do not
       match its own header is refused, never squashed);
    3. :func:`multiview.decoders.to_rgb8` converts the colours;
    4. the EXIF orientation is applied, exactly once (:mod:`multiview.orientation`);
    5. with ``max_side``, the image is resized (area interpolation) to the working size.

    Args:
        path: JPEG, PNG, TIFF (8/16-bit, float, grey, RGB(A), CMYK, palette) or camera RAW.
        max_side: bound on the longer side of the result, pixels (None: full size).

    Returns:
        (H, W, 3) uint8 RGB in display geometry. With ``max_side``, ``(W, H)`` is
        :func:`multiview.raster.working_size` of the display size.

    Raises:
        PhotoError: missing, unknown type, too large, truncated or corrupt file.
    """
    import cv2

    path = Path(path)
    header = read_header(path)
    dec = _decoder(path)
    try:
        pixels = dec.decode(path, max_side)
    except PhotoError:
        raise
    except Exception as exc:  # the libraries raise many types
        raise _decode_error(path, exc) from exc
    _check_decoded_size(path, pixels, header.stored_size)
    rgb = orientation.to_display(to_rgb8(pixels), header.orientation)
    if max_side is not None:
        tw, th = working_size(*header.display_size, max_side)
        if (rgb.shape[1], rgb.shape[0]) != (tw, th):
            rgb = cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA)
    return rgb


def _check_decoded_size(path: Path, pixels: np.ndarray, stored: tuple[int, int]) -> None:
    """Refuse pixels whose size is not the header's, or the header's at an integer reduction."""
    h, w = pixels.shape[:2]
    sw, sh = stored
    for k in (1, 2, 4, 8):
        if w in (sw // k, -(-sw // k)) and h in (sh // k, -(-sh // k)):
            return
    raise PhotoError(
        f"photo '{path.name}' decodes to {w}x{h} pixels but its header says {sw}x{sh}; "
        "the file is damaged or unusual: re-export it (e.g. as JPEG or TIFF) or move it out of the folder"
    )


def photo_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Display size ``(width, height)`` of a photo without decoding its pixels (EXIF orientation applied)."""
    return read_header(path).display_size


def probe_photo(path: str | os.PathLike[str], *, check_decode: bool = True, max_side: int = 1024) -> PhotoInfo:
    """Hash a photo, read its size and orientation, and (by default) make sure it decodes completely.

    The decode check runs at a reduced scale (``max_side``) so it stays cheap for huge
    photos; it still reads the whole file, so truncated files are caught.

    Raises:
        PhotoError: missing, unreadable or undecodable file.
    """
    path = Path(os.path.abspath(path))
    if not path.is_file():
        raise PhotoError(f"photo '{path}' is missing; check the path")
    st = path.stat()
    if st.st_size == 0:
        raise PhotoError(f"cannot decode photo '{path.name}' (empty file); re-export it or move it out of the folder")
    header = read_header(path)
    if header.pages > 1:
        log.warning("photo '%s' has %d pages; multiview uses the first", path.name, header.pages)
    if check_decode:
        read_photo(path, max_side=max_side)
    w, h = header.display_size
    return PhotoInfo(
        path, int(w), int(h), file_sha256(path), int(st.st_size), int(st.st_mtime_ns), header.orientation, header.pages
    )


def probe_photos(paths: Iterable[Path], progress: Callable[[int, int, Path], None] | None = None) -> list[PhotoInfo]:
    """Probe every photo and refuse duplicates (identical file content).

    Args:
        progress: called as ``progress(i, n, path)`` before each photo.

    Raises:
        PhotoError: a photo cannot be decoded, or two files hold the same content.
    """
    paths = list(paths)
    infos: list[PhotoInfo] = []
    seen: dict[str, Path] = {}
    stems: dict[str, Path] = {}
    for i, p in enumerate(paths):
        if progress is not None:
            progress(i, len(paths), p)
        info = probe_photo(p)
        if info.sha256 in seen:
            raise PhotoError(
                f"photo '{p.name}' is a duplicate of '{seen[info.sha256].name}' (same content); "
                "move one of them out of the folder"
            )
        key = p.stem.lower()
        if key in stems:
            raise PhotoError(
                f"photos '{stems[key].name}' and '{p.name}' share the name '{p.stem}' "
                "(e.g. RAW + JPEG of one shot); keep one of them in the folder"
            )
        seen[info.sha256] = p
        stems[key] = p
        infos.append(info)
    return infos


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a mask image drawn for a photo: (H, W) bool, True = object, display geometry.

    Rules (the same for PNG, TIFF, JPEG; the EXIF orientation of the mask file is applied):

    * an alpha channel that is not fully opaque holds the selection: object = alpha > 0
      (an editor's "selection as transparency", colour white everywhere);
    * otherwise a pixel is object when any channel is non-zero;
    * 16-bit masks are read unchanged (a label mask with object = 1 is 1, not 0);
    * palette images: palette index non-zero (label images).

    Raises:
        PhotoError: missing, unreadable or unknown file type.
    """
    path = Path(path)
    header = read_header(path)
    dec = _decoder(path)
    try:
        if isinstance(dec, PillowDecoder):
            with open_pillow(path) as img:
                img.load()
                arr = _mask_array(img)
        else:
            arr = dec.decode(path, None)
    except PhotoError:
        raise
    except Exception as exc:  # the libraries raise many types
        raise _decode_error(path, exc) from exc
    if arr.ndim == 3 and arr.shape[2] in (2, 4):
        alpha = arr[..., -1]
        opaque = 1.0 if alpha.dtype.kind == "f" else np.iinfo(alpha.dtype).max
        mask = alpha > 0 if (alpha < opaque).any() else (arr[..., :-1] != 0).any(axis=2)
    elif arr.ndim == 3:
        mask = (arr != 0).any(axis=2)
    else:
        mask = arr != 0
    return orientation.to_display(mask, header.orientation)


def _mask_array(img: Image.Image) -> np.ndarray:
    """A Pillow image's values for :func:`read_mask` (palette indices kept, 16-bit kept)."""
    if img.mode == "P" and "transparency" not in img.info:
        return np.asarray(img)  # indices: label images
    if img.mode in ("P", "PA"):
        return np.asarray(img.convert("RGBA"))
    if img.mode == "1":
        return np.asarray(img.convert("L"))
    if img.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(img.convert("RGB"))
    return np.asarray(img)
