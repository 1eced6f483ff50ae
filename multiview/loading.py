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

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PhotoError, PhotoSetError
from .raster import working_size

log = logging.getLogger(__name__)

#: Extensions decoded with Pillow (case-insensitive).
RASTER_EXTS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff"})
#: Camera RAW extensions decoded with rawpy (LibRaw).
RAW_EXTS = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"})
IMAGE_EXTS = RASTER_EXTS | RAW_EXTS

#: Largest photo accepted, in pixels (Pillow's decompression-bomb guard is raised to this).
MAX_PIXELS = 400_000_000


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
        path: absolute path.
        width, height: size in pixels in display geometry (EXIF orientation applied).
        sha256: hex digest of the file's bytes (identifies the content).
        file_size: bytes on disk.
        mtime_ns: modification time, nanoseconds.
    """

    path: Path
    width: int
    height: int
    sha256: str
    file_size: int
    mtime_ns: int


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

    ours = beside_photos_files(folder)  # masks multiview added beside the photos are not photos
    photos, skipped = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        is_photo = entry.suffix.lower() in IMAGE_EXTS and entry.name not in ours
        (photos if is_photo else skipped).append(entry.resolve())
    if len(photos) < min_photos:
        raise PhotoSetError(
            f"photo folder '{folder}' holds {len(photos)} photo(s); at least {min_photos} are needed "
            f"(readable types: {', '.join(sorted(e.lstrip('.') for e in IMAGE_EXTS))})"
        )
    return PhotoScan(tuple(photos), tuple(skipped))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode_error(path: Path, exc: BaseException) -> PhotoError:
    return PhotoError(
        f"cannot decode photo '{path.name}' ({type(exc).__name__}: {exc}); "
        "the file is truncated, corrupt or not really an image: re-export it or move it out of the folder"
    )


def _to_rgb8(img: Image.Image) -> np.ndarray:  # noqa: F821 - PIL imported lazily
    """Convert a Pillow image of any mode to (H, W, 3) uint8 RGB."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        else:
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        g = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Transparent pixels become white paper rather than black.
        rgba = img.convert("RGBA")
        from PIL import Image

        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def _read_raw(path: Path, max_side: int | None) -> np.ndarray:
    try:
        import rawpy
    except ImportError as exc:  # pragma: no cover - rawpy is a dependency
        raise PhotoError(f"cannot read RAW photo '{path.name}': rawpy is not installed (pip install rawpy)") from exc
    try:
        with rawpy.imread(str(path)) as raw:
            half = max_side is not None and max(raw.sizes.width, raw.sizes.height) > 2 * max_side
            rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8, no_auto_bright=False)
    except Exception as exc:  # LibRaw raises many types
        raise _decode_error(path, exc) from exc
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def _open_pil(path: Path, max_side: int | None) -> np.ndarray:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as img:
            if max_side is not None and img.format == "JPEG":
                # JPEG can decode at 1/2, 1/4, 1/8 scale: bounded memory for huge photos.
                w, h = img.size
                if max(w, h) > max_side:
                    img.draft("RGB", working_size(w, h, max_side))
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgb8(img)
    except Image.DecompressionBombError as exc:
        raise PhotoError(
            f"photo '{path.name}' is larger than {MAX_PIXELS // 1_000_000} MP; downscale it before adding it"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise _decode_error(path, exc) from exc


def read_photo(path: str | os.PathLike[str], max_side: int | None = None) -> np.ndarray:
    """Decode a photo to RGB in display geometry.

    Args:
        path: JPEG, PNG, TIFF (8/16-bit, grey, RGB, RGBA, CMYK) or camera RAW file.
        max_side: if given, the result is resized (area interpolation) so that its
            longer side is at most ``max_side``; the decoder already works at a reduced
            scale where it can, so peak memory stays bounded.

    Returns:
        (H, W, 3) uint8 RGB array. With ``max_side``, ``(W, H)`` equals
        :func:`multiview.raster.working_size` of the full size.

    Raises:
        PhotoError: the file is missing or cannot be decoded.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise PhotoError(f"photo '{path}' is missing; move it back or recreate the project")
    if path.suffix.lower() in RAW_EXTS:
        rgb = _read_raw(path, max_side)
    else:
        rgb = _open_pil(path, max_side)
    if max_side is not None:
        full = _full_size_hint(path, rgb)
        tw, th = working_size(*full, max_side)
        if (rgb.shape[1], rgb.shape[0]) != (tw, th):
            rgb = cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA)
    return rgb


def _full_size_hint(path: Path, decoded: np.ndarray) -> tuple[int, int]:
    """Full display size of a photo whose decode may have been reduced."""
    try:
        return photo_size(path)
    except PhotoError:  # pragma: no cover - decode already succeeded
        return decoded.shape[1], decoded.shape[0]


def photo_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Display size ``(width, height)`` of a photo without decoding its pixels (EXIF orientation applied)."""
    path = Path(path)
    if path.suffix.lower() in RAW_EXTS:
        import rawpy

        try:
            with rawpy.imread(str(path)) as raw:
                s = raw.sizes
                w, h = s.width, s.height
                # LibRaw flip codes 5 and 6 mean the image is shown rotated by 90 degrees.
                return (h, w) if s.flip in (5, 6) else (w, h)
        except Exception as exc:
            raise _decode_error(path, exc) from exc
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError) as exc:
        raise _decode_error(path, exc) from exc
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def probe_photo(path: str | os.PathLike[str], *, check_decode: bool = True, max_side: int = 1024) -> PhotoInfo:
    """Hash a photo, read its size, and (by default) make sure it decodes completely.

    The decode check runs at a reduced scale (``max_side``) so it stays cheap for huge
    photos; it still reads the whole file, so truncated files are caught.

    Raises:
        PhotoError: missing, unreadable or undecodable file.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise PhotoError(f"photo '{path}' is missing; check the path")
    st = path.stat()
    if st.st_size == 0:
        raise PhotoError(f"cannot decode photo '{path.name}' (empty file); re-export it or move it out of the folder")
    w, h = photo_size(path)
    if check_decode:
        read_photo(path, max_side=max_side)
    return PhotoInfo(path, int(w), int(h), file_sha256(path), int(st.st_size), int(st.st_mtime_ns))


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
