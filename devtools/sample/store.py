"""Writing the sample files atomically (:func:`make_sample`) and reading them back (:func:`load_sample`).

See :mod:`devtools.sample` for the layout written in ``out_dir``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from pathlib import Path

import cv2
import numpy as np

from devtools.sample.camera import _plan_views
from devtools.sample.errors import SampleExistsError, SampleFormatError, SampleValueError
from devtools.sample.panel import PANEL_METRES_PER_PIXEL, PANEL_SIZE, _render_panel
from devtools.sample.photo import _render_view
from devtools.sample.sequence import SAMPLE_OBJECTS, SampleObject, SampleSequence, _warp_mask
from multiview import atomic
from multiview.raster import encode_image

__all__ = ["FORMAT_VERSION", "HOMOGRAPHY_CONVENTION", "load_sample", "make_sample"]

logger = logging.getLogger("multiview.sample")  # the name it had before the split into a package

FORMAT_VERSION = 1
HOMOGRAPHY_CONVENTION = "H_view_from_panel maps panel pixel (x, y, 1) to view pixel"
_PHOTO_RE = re.compile(r"^IMG_\d{4}\.jpg$")
_JPEG_QUALITY = 90


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (:func:`multiview.atomic.write_bytes`)."""
    atomic.write_bytes(path, data)


def _encode(ext: str, img: np.ndarray, params: list[int] | None = None) -> bytes:
    try:
        return encode_image(img, ext, params or [])
    except ValueError as exc:
        raise SampleFormatError(str(exc)) from exc


def _mask_png(mask: np.ndarray) -> bytes:
    return _encode(".png", mask.astype(np.uint8) * 255, [cv2.IMWRITE_PNG_COMPRESSION, 9])


def _clear_previous(out_dir: Path, meta_name: str = "homographies.json") -> None:
    """Remove the files a previous :func:`make_sample` (or ``make_curved_sample``: ``meta_name``) wrote."""
    photos = out_dir / "photos"
    if photos.is_dir():
        for f in photos.iterdir():
            if f.is_file() and (_PHOTO_RE.match(f.name) or f.name.startswith(atomic.TMP_PREFIX)):
                f.unlink()
    gt = out_dir / "ground_truth"
    for sub in ("masks", "panel_masks", "occluders"):
        d = gt / sub
        if d.is_dir():
            shutil.rmtree(d)
    if gt.is_dir():
        for f in gt.iterdir():
            if f.is_file() and (f.name in ("panel.png", meta_name) or f.name.startswith(atomic.TMP_PREFIX)):
                f.unlink()
    leftovers = [str(f.relative_to(out_dir)) for f in out_dir.rglob("*") if f.is_file()]
    if leftovers:
        logger.warning(
            "overwriting %s: keeping files the sample generator did not write: %s",
            out_dir,
            ", ".join(sorted(leftovers)[:10]),
        )


def make_sample(out_dir: Path, *, seed: int = 0, n_views: int = 6, overwrite: bool = False) -> SampleSequence:
    """Render the fresco sample sequence into ``out_dir`` and return it.

    The panel (``1200 x 900`` pixels, a 2.4 m x 1.8 m painted wall panel) is
    photographed ``n_views`` times by a pinhole camera moving along the wall
    from left to right: yaw from about -35 deg (camera left of the panel) to
    +35 deg, some tilt, in-plane roll and scale change.  For ``n_views >= 3``
    one view (index ``n_views - 2``, by default ``IMG_0105.jpg``) is a zoomed
    close-up of the figure that does not see the whole panel (other objects
    are cut or out of frame) and one (by default ``IMG_0102.jpg``) has a
    scaffolding pole in front of the wall; for ``n_views >= 5`` the last view
    has a dark diagonal beam in front of it.  The middle view
    (``n_views // 2``, the default reference of ``multiview init``) is always a
    clean view of the whole panel.
    Photos have mixed sizes (800x600, 640x480, 720x540, 600x800 portrait,
    768x576), per-view lighting, vignetting, blur, noise and JPEG quality 90.
    File-name order (``IMG_0101.jpg``, ``IMG_0102.jpg``, ...) is the order
    along the wall.

    Convention:
        Pixel ``(x, y)``, origin at the top-left of the pixel grid, pixel
        centres at integer coordinates (OpenCV).  ``H_view_from_panel`` maps
        panel ``(x, y, 1)`` to view pixels; it equals ``K [r1 r2 t] S`` where
        ``S`` maps panel pixels to wall metres (``z = 0``).  Masks in the views
        are the panel masks warped by ``H``; occluders do NOT cut them
        (``ground_truth/occluders/`` says where the wall is hidden).

    Every file is written atomically (temporary file in the same folder,
    then ``os.replace``) and ``homographies.json`` is written last, so a
    folder with it holds a complete sample.

    Deterministic: the same seed gives the same arrays and, with the same
    numpy/OpenCV builds, byte-identical files.  The panel depends on the seed
    only, not on ``n_views``.

    Args:
        out_dir: output folder; created if missing.  Photos go to
            ``out_dir/photos`` (nothing else is put there), ground truth to
            ``out_dir/ground_truth``.
        seed: random seed (non-negative int).
        n_views: number of photos, 2..50.
        overwrite: replace the files of a previous sample in a non-empty
            ``out_dir`` (files it did not write are left alone).

    Returns:
        The :class:`SampleSequence` as written (same as :func:`load_sample`).

    Raises:
        SampleExistsError: (a ``FileExistsError``) ``out_dir`` is not empty and
            ``overwrite`` is False.
        SampleValueError: (a ``ValueError``) bad ``seed`` or ``n_views``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise SampleValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if isinstance(n_views, bool) or not isinstance(n_views, (int, np.integer)) or not 2 <= int(n_views) <= 50:
        raise SampleValueError(f"n_views must be an integer between 2 and 50, got {n_views!r}")
    seed, n_views = int(seed), int(n_views)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SampleExistsError(f"{out_dir} exists and is not a folder; choose another output folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise SampleExistsError(
                f"{out_dir} is not empty; choose an empty or new folder, "
                "or pass overwrite=True (--overwrite) to replace it"
            )
        _clear_previous(out_dir)
    t0 = time.perf_counter()
    panel, panel_masks = _render_panel(seed)
    views = _plan_views(seed, n_views)
    t1 = time.perf_counter()
    photos_dir = out_dir / "photos"
    gt = out_dir / "ground_truth"
    photos_dir.mkdir(parents=True, exist_ok=True)
    # level 6 + filtered: 1.16 MB in 0.25 s; level 9 saves 4 % but takes 2 s
    panel_params = [cv2.IMWRITE_PNG_COMPRESSION, 6, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_FILTERED]
    _write_bytes(gt / "panel.png", _encode(".png", panel, panel_params))
    for obj in SAMPLE_OBJECTS:
        _write_bytes(gt / "panel_masks" / f"{obj.id}.png", _mask_png(panel_masks[obj.id]))
    occluders: dict[str, np.ndarray] = {}
    for i, v in enumerate(views):
        photo, occ = _render_view(panel, v, seed, i)
        _write_bytes(photos_dir / v.name, _encode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]))
        stem = Path(v.name).stem
        if occ is not None:
            occluders[v.name] = occ
            _write_bytes(gt / "occluders" / f"{stem}.png", _mask_png(occ))
        for obj in SAMPLE_OBJECTS:
            m = _warp_mask(panel_masks[obj.id], v.H, v.size)
            _write_bytes(gt / "masks" / str(obj.id) / f"{stem}.png", _mask_png(m))
    meta = {
        "format_version": FORMAT_VERSION,
        # the generator id recorded in the shipped sample (sequences/fresco); kept so the
        # sample stays byte-identical after the generator moved to devtools/sample
        "generator": "multiview.sample.make_sample",
        "seed": seed,
        "convention": HOMOGRAPHY_CONVENTION,
        "pixel_convention": "x right, y down, origin at the top-left of the pixel grid, pixel centres at integers",
        "panel_size": list(PANEL_SIZE),
        "panel_metres_per_pixel": PANEL_METRES_PER_PIXEL,
        "photos_dir": "photos",
        "views": {v.name: v.H.tolist() for v in views},
        "view_sizes": {v.name: list(v.size) for v in views},
        "occluders": {v.name: f"occluders/{Path(v.name).stem}.png" for v in views if v.occluder},
        "objects": [{"id": o.id, "name": o.name} for o in SAMPLE_OBJECTS],
        "cameras": {
            v.name: {
                "K": v.K.tolist(),
                "R_cam_from_wall": v.R.tolist(),
                "centre_wall_m": v.C.tolist(),
                "yaw_deg": round(v.yaw_deg, 3),
                "pitch_deg": round(v.pitch_deg, 3),
                "roll_deg": round(v.roll_deg, 3),
                "occluder": v.occluder,
            }
            for v in views
        },
    }
    _write_bytes(gt / "homographies.json", (json.dumps(meta, indent=1) + "\n").encode("utf-8"))
    logger.debug("sample: painted in %.2f s, total %.2f s", t1 - t0, time.perf_counter() - t0)
    return SampleSequence(
        photos_dir=photos_dir,
        panel_size=PANEL_SIZE,
        H_view_from_panel={v.name: v.H.copy() for v in views},
        objects=SAMPLE_OBJECTS,
        panel_masks=panel_masks,
        view_sizes={v.name: v.size for v in views},
        occluder_masks=occluders,
        ground_truth_dir=gt,
    )


def _read_mask(path: Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise SampleFormatError(f"cannot read mask {path}; regenerate the sample with make_sample(..., overwrite=True)")
    if shape is not None and img.shape != shape:
        raise SampleFormatError(f"mask {path} has shape {img.shape}, expected {shape}")
    return img >= 128


def load_sample(out_dir: Path) -> SampleSequence:
    """Read a sample written by :func:`make_sample`.

    Convention:
        As in :class:`SampleSequence`: pixel ``(x, y)``, pixel centres at
        integer coordinates; homographies ``(3, 3)`` ``float64`` map panel to
        view; masks ``bool`` ``(H, W)``.

    Raises:
        SampleFormatError: (a ``ValueError``) ``out_dir`` is not a sample, or a
            file is missing or unreadable.
    """
    out_dir = Path(out_dir)
    gt = out_dir / "ground_truth"
    meta_path = gt / "homographies.json"
    if not meta_path.is_file():
        raise SampleFormatError(f"{out_dir} is not a sample folder: {meta_path} is missing; make one with make_sample")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        pw, ph = (int(v) for v in meta["panel_size"])
        objects = tuple(SampleObject(int(o["id"]), str(o["name"])) for o in meta["objects"])
        Hs = {}
        for name in sorted(meta["views"]):  # file-name order = wall order
            Hm = np.asarray(meta["views"][name], dtype=np.float64)
            if Hm.shape != (3, 3):
                raise ValueError(f"homography of {name} has shape {Hm.shape}")
            Hs[name] = Hm
        photos_dir = out_dir / meta.get("photos_dir", "photos")
        sizes: dict[str, tuple[int, int]] = {}
        for name in Hs:
            if "view_sizes" in meta and name in meta["view_sizes"]:
                sw, sh = (int(v) for v in meta["view_sizes"][name])
            else:
                img = cv2.imread(str(photos_dir / name), cv2.IMREAD_GRAYSCALE)
                if img is None:
                    raise ValueError(f"photo {photos_dir / name} is missing and view_sizes lacks it")
                sh, sw = img.shape
            sizes[name] = (sw, sh)
        occ_files = meta.get("occluders", {})
    except (KeyError, TypeError, ValueError) as exc:
        raise SampleFormatError(
            f"{meta_path} is not a valid sample description ({exc}); regenerate the sample"
        ) from exc
    panel_masks = {o.id: _read_mask(gt / "panel_masks" / f"{o.id}.png", (ph, pw)) for o in objects}
    occluders = {
        name: _read_mask(gt / rel, (sizes[name][1], sizes[name][0])) for name, rel in occ_files.items() if name in Hs
    }
    return SampleSequence(
        photos_dir=photos_dir,
        panel_size=(pw, ph),
        H_view_from_panel=Hs,
        objects=objects,
        panel_masks=panel_masks,
        view_sizes=sizes,
        occluder_masks=occluders,
        ground_truth_dir=gt,
    )
