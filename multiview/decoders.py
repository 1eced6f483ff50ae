"""Per-format photo decoders: each reads a file's header and its *stored* pixels, nothing more.

Everything the formats share happens once, in :func:`multiview.loading.read_photo`:
the pixel limit, the check of the decoded size against the header, the colour
conversion to 8-bit RGB (:func:`to_rgb8`), the EXIF orientation
(:mod:`multiview.orientation`) and the bounded working copy. A decoder only
answers two questions, so adding a format is one small class plus one line in
:data:`DECODERS`:

* :meth:`Decoder.header` -- stored size, orientation still to apply, page count,
  without decoding pixels;
* :meth:`Decoder.decode` -- the first page's pixels in stored geometry, possibly at
  an integer reduction (JPEG's DCT scaling, LibRaw's half size) when the caller
  needs only a working copy, as one of the layouts :func:`to_rgb8` accepts.

A decoder whose library already applies the orientation (HEIF decoders do) reports
``orientation=1`` in its header.

Libraries (each the field's usual reader of its format): Pillow for JPEG and PNG,
tifffile (+ imagecodecs for LZW/JPEG/... compression) for TIFF, rawpy (LibRaw) for
camera RAW. Pillow is not used for TIFF because it applies the TIFF orientation
itself while loading, and wrongly for 16-bit grey images (Pillow 13: the data stay
stored while the size is swapped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from . import orientation as orient
from .errors import PhotoError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image


@dataclass(frozen=True)
class Header:
    """What a decoder learns from a file without decoding its pixels.

    Attributes:
        stored_size: ``(width, height)`` of the first page as stored, pixels.
        orientation: EXIF orientation 1-8 still to apply (:mod:`multiview.orientation`).
        pages: number of full-resolution pages or frames (multiview uses the first).
    """

    stored_size: tuple[int, int]
    orientation: int = 1
    pages: int = 1

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` as a viewer shows the photo."""
        return orient.display_size(self.stored_size, self.orientation)


class Decoder(Protocol):
    """One family of file formats."""

    #: Lower-case file extensions it reads, with the dot.
    extensions: frozenset[str]

    def header(self, path: Path) -> Header:
        """Size, orientation and pages from the file's header.

        Raises:
            PhotoError: not a readable file of this format (and too large, see :func:`too_large`).
            Exception: anything the library raises; the caller reports it as undecodable.
        """
        ...

    def decode(self, path: Path, max_side: int | None) -> np.ndarray:
        """The first page's pixels in stored geometry.

        Args:
            max_side: the caller will reduce the result so its longer side is at most
                this; the decoder may decode at an integer reduction no smaller than that.

        Returns:
            (h, w) grey, (h, w, 2) grey + alpha, (h, w, 3) RGB or (h, w, 4) RGBA, of
            dtype uint8, uint16, int32 or float32.
        """
        ...


class PillowDecoder:
    """JPEG and PNG through Pillow (EXIF orientation from the ``Exif``/``eXIf`` data).

    JPEG is decoded at 1/2, 1/4 or 1/8 scale when a working copy is asked for
    (Pillow's ``draft``), so a 100 MP photo never sits in memory whole.
    """

    extensions = frozenset({".jpg", ".jpeg", ".jpe", ".png"})

    def header(self, path: Path) -> Header:
        with open_pillow(path) as img:
            return Header(img.size, orient.valid(img.getexif().get(0x0112, 1)), getattr(img, "n_frames", 1))

    def decode(self, path: Path, max_side: int | None) -> np.ndarray:
        from .raster import working_size

        with open_pillow(path) as img:
            w, h = img.size
            if max_side is not None and img.format == "JPEG" and max(w, h) > max_side:
                img.draft("RGB", working_size(w, h, max_side))
            img.load()
            return pillow_array(img)


class TiffDecoder:
    """TIFF through tifffile: every bit depth, strips or tiles, BigTIFF, any compression
    imagecodecs decodes; orientation from the TIFF ``Orientation`` tag (274)."""

    extensions = frozenset({".tif", ".tiff"})

    def header(self, path: Path) -> Header:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            w, h = int(page.imagewidth), int(page.imagelength)
            tag = page.tags.get(274)
            pages = sum(1 for p in tif.pages if not getattr(p, "is_reduced", False))
        return Header((w, h), orient.valid(tag.value if tag is not None else 1), max(1, pages))

    def decode(self, path: Path, max_side: int | None) -> np.ndarray:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            too_large(path, (int(page.imagewidth), int(page.imagelength)))
            arr = page.asarray()
            axes = page.axes
            photometric = int(page.photometric)
            extra = len(page.extrasamples or ())
            colormap = page.colormap
        if axes.startswith("S"):  # planar configuration: samples first
            arr = np.moveaxis(arr, 0, -1)
        arr = np.squeeze(arr) if arr.ndim > 3 else arr
        return _tiff_layout(path, arr, photometric, extra, colormap)


class RawDecoder:
    """Camera RAW through rawpy (LibRaw): demosaiced with the camera's white balance,
    8-bit, sensor orientation (``user_flip=0``); the orientation comes from LibRaw's
    ``flip`` (:data:`multiview.orientation.LIBRAW_FLIP_TO_EXIF`). Half size when a
    working copy of at most half the sensor is asked for."""

    extensions = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"})

    def header(self, path: Path) -> Header:
        import rawpy

        with rawpy.imread(str(path)) as raw:
            s = raw.sizes
            return Header((int(s.width), int(s.height)), orient.LIBRAW_FLIP_TO_EXIF.get(int(s.flip), 1))

    def decode(self, path: Path, max_side: int | None) -> np.ndarray:
        import rawpy

        with rawpy.imread(str(path)) as raw:
            too_large(path, (int(raw.sizes.width), int(raw.sizes.height)))
            half = max_side is not None and max(raw.sizes.width, raw.sizes.height) >= 2 * max_side
            rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8, user_flip=0)
        return np.ascontiguousarray(rgb)


#: Every decoder, tried by file extension. Add a format here.
DECODERS: tuple[Decoder, ...] = (PillowDecoder(), TiffDecoder(), RawDecoder())

#: Largest photo accepted, pixels (stored width x height), for every format. Above it a
#: photo is refused with one line (Pillow's decompression-bomb warning is turned into
#: that refusal, never printed).
MAX_PIXELS = 400_000_000


def decoder_for(path: Path) -> Decoder | None:
    """The decoder of ``path``'s extension, or None (not a photo multiview reads)."""
    ext = path.suffix.lower()
    for d in DECODERS:
        if ext in d.extensions:
            return d
    return None


def extensions() -> frozenset[str]:
    """Every extension some decoder reads."""
    return frozenset().union(*(d.extensions for d in DECODERS))


def too_large(path: Path, size: tuple[int, int]) -> None:
    """Refuse a photo over :data:`MAX_PIXELS`.

    Raises:
        PhotoError: one line naming the photo, its size and the limit.
    """
    w, h = size
    if w * h > MAX_PIXELS:
        raise PhotoError(
            f"photo '{path.name}' has {w}x{h} pixels ({w * h / 1e6:.0f} MP), more than multiview's limit of "
            f"{MAX_PIXELS // 1_000_000} MP; save a downscaled copy (e.g. {MAX_PIXELS // 2_000_000} MP) and use that"
        )


def open_pillow(path: Path) -> Image.Image:
    """``PIL.Image.open`` with :data:`MAX_PIXELS` as the one limit, refused in one line before decoding.

    Pillow's own decompression-bomb guard (a printed warning, then an error at twice
    its limit) is switched off for this: the size is checked here instead.
    """
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    img = Image.open(path)
    try:
        too_large(path, img.size)
    except PhotoError:
        img.close()
        raise
    return img


def pillow_array(img: Image.Image) -> np.ndarray:
    """A loaded Pillow image as one of :func:`to_rgb8`'s layouts (Pillow converts the exotic modes)."""
    mode = img.mode
    if mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    if mode in ("I", "F", "L", "LA", "RGB", "RGBA"):
        return np.asarray(img)
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode in ("P", "PA") and ("transparency" in img.info or mode == "PA"):
        return np.asarray(img.convert("RGBA"))
    return np.asarray(img.convert("RGB"))  # P, CMYK, YCbCr, LAB, HSV, RGBX...


def _tiff_layout(path: Path, arr: np.ndarray, photometric: int, extra: int, colormap: np.ndarray | None) -> np.ndarray:
    """tifffile's array of a page -> a :func:`to_rgb8` layout (TIFF 6.0 photometric interpretations)."""
    if arr.ndim == 2:
        samples = 1
    elif arr.ndim == 3:
        samples = arr.shape[2]
    else:
        raise PhotoError(f"TIFF '{path.name}' has an array of shape {arr.shape}; save it as a plain RGB TIFF")
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "iub" and arr.dtype.itemsize <= 2:
        arr = arr.astype(np.uint16) if arr.dtype.itemsize == 2 else arr.astype(np.uint8)
    else:
        arr = arr.astype(np.int32)
    if photometric in (0, 1):  # MINISWHITE, MINISBLACK
        grey = arr if samples == 1 else arr[..., 0]
        if photometric == 0:
            top = 1.0 if grey.dtype == np.float32 else np.iinfo(grey.dtype).max
            grey = (top - grey).astype(grey.dtype)
        if samples >= 2 and extra:
            return np.stack([grey, arr[..., 1]], axis=-1)
        return grey
    if photometric == 3 and colormap is not None:  # PALETTE: 16-bit colour map
        idx = arr if samples == 1 else arr[..., 0]
        return np.ascontiguousarray(np.asarray(colormap, dtype=np.uint16).T[idx.astype(np.intp)])
    if photometric in (2, 6) and samples >= 3:  # RGB, YCbCr (decoded to RGB by the JPEG codec)
        return arr[..., :4] if samples >= 4 and extra else arr[..., :3]
    if photometric == 5 and samples >= 4:  # SEPARATED (CMYK), the naive conversion Pillow also uses
        top = 1.0 if arr.dtype == np.float32 else float(np.iinfo(arr.dtype).max)
        cmyk = arr[..., :4].astype(np.float64) / top
        rgb = (1.0 - cmyk[..., :3]) * (1.0 - cmyk[..., 3:4])
        return (rgb * top).round().astype(arr.dtype)
    raise PhotoError(
        f"TIFF '{path.name}' uses colour space {photometric} with {samples} sample(s), which multiview does not "
        "read; save it as RGB or greyscale"
    )


def to_rgb8(arr: np.ndarray) -> np.ndarray:
    """The one colour conversion of every decoded photo: any :class:`Decoder` layout -> (h, w, 3) uint8 RGB.

    16-bit values are scaled by 1/257 (65535 -> 255, rounded), float images in
    [0, 1] by 255, other integer or float ranges are stretched min..max (a documented
    simplification; no colour management). Transparent pixels become white paper,
    not black.
    """
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if arr.dtype == np.uint16:
            a = a / 257.0
        elif arr.dtype.kind == "f" and np.nanmin(a) >= 0.0 and np.nanmax(a) <= 1.0:
            a = a * 255.0
        elif arr.dtype == np.int32 and a.min() >= 0 and a.max() <= 65535:
            a = a / 257.0
        else:
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        arr = np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.shape[2] == 1:
        return np.repeat(arr, 3, axis=2)
    if arr.shape[2] in (2, 4):  # composite over white
        alpha = arr[..., -1:].astype(np.float64) / 255.0
        colour = arr[..., :-1].astype(np.float64)
        if colour.shape[2] == 1:
            colour = np.repeat(colour, 3, axis=2)
        return np.clip(np.rint(colour * alpha + 255.0 * (1.0 - alpha)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[..., :3])
