"""Photometric consistency of one view with other views warped into it: where is the wall hidden?

A pixel of the *target* view shows the wall when its neighbourhood looks like the same
wall patch seen by the other (*source*) views, once they are warped into the target
through the stored geometry. Something in front of the wall (scaffolding, a beam, a
person, a lamp) replaces the wall's texture and colour in the target only, so the
target disagrees there with a *consensus* of sources that agree among themselves.

Comparisons are made so that what a restorer's photos legitimately change between
views does not count as disagreement:

* **Exposure, gain, vignetting, side light, soft shadows** act on the image (nearly)
  multiplicatively and vary slowly across it. Images are compared in log space
  (``log(c + LOG_OFFSET)`` per channel), where a local gain is an additive offset.
  *Structure* is the contrast-structure term of SSIM (Wang, Bovik, Sheikh and Simoncelli,
  "Image quality assessment: from error visibility to structural similarity", IEEE TIP
  13(4), 2004, eq. 9-10) on a high-pass of the log-luminance over Gaussian windows:
  ``cs = (2 cov(a, b) + C) / (var(a) + var(b) + C)``. It ignores the local mean (the
  offset) and slow ramps (a shadow's penumbra), equals zero-mean NCC where both windows are
  textured and is close to 1 where both are flat (plain plaster); a flat window against a
  textured one, or two different textures, gives a low value. ``C`` grows with the noise
  expected at the local brightness (:data:`NOISE_SIGMA`), so dark paint is not judged on
  its noise.
* **Brightness and colour** (log-luminance, log-chromaticities ``log(R/G)``, ``log(B/G)``):
  differences beyond a smooth per-pair offset field (median of block medians: exposure,
  vignetting, colour temperature, the colour cast of mixed light) add up,
  ``dlum / luminance + dchroma / chroma > 1`` is a disagreement (a grey pole over beige
  plaster is both darker and less warm; a shadow is only darker).
* **Registration error**: the source's window may shift by up to ``shift`` pixels (as
  census / NCC matchers with a small search range do), so painted edges do not flag; where
  the geometry's own held-out error is larger (a tolerance map per view, see
  :func:`compare`) the search widens up to ``max_shift``.
* **Different resolution on the wall** (a close-up against a distant view): the sharper
  image is blurred to the other's resolution before comparing.

Decision per target pixel ``p`` (see :func:`compare` and :func:`finish`): where the target
agrees with a source it shows the wall. Elsewhere the sources that cover ``p`` are compared
among themselves; a source that agrees with another at ``p`` is a *witness* of the wall there.
With two or more witnesses, ``p`` is occluded when the target agrees with none of them. With a
single source its verdict is used but recorded as weaker (``support == 1``): an occluder in
that source gives the same evidence, and :func:`finish` gives such regions to the other view
when that view's own occluders explain them. With no source, ``p`` is unknown (never called
occluded); sources that disagree with each other and with the target leave it unknown.
Pixels with a clipped channel (a specular highlight, over-exposure) are unknown in the target
and unused in a source: the paint's colour and texture are lost there, but nothing stands in
front of the wall. Windows blur an occluder's boundary both ways; within ``refine_band``
pixels of it, the pixel's own brightness and colour decide (matching two other views inside:
wall; matching none outside: occluder).

Limits (by construction): a soft shadow keeps the wall's texture and is not flagged; a shadow
darker than about half the brightness around it over flat plaster, or the sharp edge of a
hard shadow, can be; an occluder with the texture, colour and brightness of the wall it hides
cannot be seen; a photo more than about two thirds clipped leaves too little to compare.

Convention:
    Every array is in the *target's analysis geometry*: ``(h, w)`` rows and columns,
    pixel ``(x, y)`` is ``a[y, x]``. Images are RGB ``uint8`` or ``float32`` in
    ``0..255``; validity masks are ``bool``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Added to the colour channels before the log (0..255 scale): a dark floor small enough that a
#: change of exposure stays an offset down to dark paint; noise is handled by :data:`NOISE_SIGMA`.
LOG_OFFSET = 6.0
#: Noise of a photo's 8-bit channels (sensor and JPEG), levels: in the log domain it is
#: ``NOISE_SIGMA / (Y + LOG_OFFSET)``, so comparisons in dark areas tolerate more (SSIM's
#: stabilising constant and the brightness/colour tests grow with it).
NOISE_SIGMA = 2.5
#: A source view as :func:`compare` takes it: ``(warped image, valid, scale)`` or with a fourth
#: element, its registration error map (see :func:`compare`).
Source = tuple[np.ndarray, np.ndarray, float] | tuple[np.ndarray, np.ndarray, float, np.ndarray | None]

#: Pixels with a channel at or above this are clipped (a highlight, over-exposure): unknown.
SATURATED = 250


@dataclass(frozen=True)
class ConsistencyOptions:
    """Settings of the consistency test (defaults measured on the bundled sample; see the notes).

    Attributes:
        window_sigma: standard deviation of the Gaussian comparison window, analysis pixels.
        highpass_sigma: structure is compared on the log-luminance minus its Gaussian blur of
            this sigma, analysis pixels (0: no high-pass), so slow ramps such as a shadow's
            penumbra are not structure.
        shift: the source window may move by up to this many analysis pixels (registration
            tolerance), in x and y.
        max_shift: where the geometry's own error is larger (the registration's held-out error
            per region, passed as a tolerance map), the search widens up to this many pixels.
        c_structure: stabilising constant ``C`` of the contrast-structure term, in squared
            log-luminance units (sets the texture level below which a window counts as flat).
        agree: ``cs`` at or above which two images agree at a pixel (0..1).
        disagree: ``cs`` below which two images disagree (0..1); in between is undecided
            (counts as agreement for the target: no occluder is called on weak evidence).
        luminance: log-luminance difference beyond the pair's smooth offset above which two
            images disagree in brightness (``log 3``: a patch at most a third as bright, or
            three times as bright, as the smooth exposure/light field predicts).
        chroma: log-chromaticity difference beyond the pair's smooth offset (colour
            temperature, colour cast of mixed light) above which two images disagree in colour.
        offset_grid: block size of the smooth offset field, as a fraction of the longer side.
        offset_blocks: the field is a median over this many blocks across (odd).
        chroma_sigma: smoothing of the chroma channels before comparing, analysis pixels.
        fine_luminance, fine_chroma: pixel-scale brightness and colour tolerances (beyond the
            pair's smooth offset) under which a pixel near an occluder's boundary counts as
            showing the wall.
        refine_band: width of that boundary band, analysis pixels (the comparison window spreads
            a disagreement by about its radius; deeper inside, a pixel that happens to match
            stays occluded).
        open_radius: radius of the morphological opening of the occluded map (removes thin
            lines such as a hard shadow's edge and specks), analysis pixels.
        min_area: occluded regions smaller than this fraction of the image are dropped.
        shrink: the occluded map is eroded by this many pixels at the end (the comparison
            window spreads a disagreement by about its radius), analysis pixels.
    """

    window_sigma: float = 2.0
    highpass_sigma: float = 3.0
    max_shift: int = 3
    shift: int = 1
    c_structure: float = 2e-3
    agree: float = 0.6
    disagree: float = 0.35
    luminance: float = 0.8
    chroma: float = 0.12
    offset_grid: int = 32
    offset_blocks: int = 7
    chroma_sigma: float = 2.0
    fine_luminance: float = 0.16
    fine_chroma: float = 0.08
    refine_band: int = 6
    open_radius: int = 2
    min_area: float = 5e-4
    shrink: int = 0


@dataclass(frozen=True)
class Prepared:
    """An image prepared for comparisons (see :func:`prepare`).

    Attributes:
        logy: (h, w) float32 high-passed log-luminance (structure), blurred to the pair's
            common resolution.
        mean, var: (h, w) float32 local mean and variance of ``logy`` over the window.
        feat: (h, w, 3) float32 log-luminance and ``log(R/G)``, ``log(B/G)``, smoothed over the
            window (for the colour and brightness tests).
        fine: (h, w, 3) float32 the same at pixel scale (for the boundary refinement).
        noise: (h, w) float32 variance of the photo's noise in the log domain at each pixel's
            local brightness (``(NOISE_SIGMA / (mean Y + LOG_OFFSET))^2``).
        valid: (h, w) bool, where the whole comparison window has image data.
        pad: (3, h + 2 s, w + 2 s) float32 ``logy``, ``mean``, ``var`` padded by ``s = shift``
            pixels (edge replicated), for shifted comparisons without copies.
    """

    logy: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    feat: np.ndarray
    fine: np.ndarray
    noise: np.ndarray
    valid: np.ndarray
    pad: np.ndarray

    def shifted(self, k: int, dx: int, dy: int, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """Plane ``k`` of :attr:`pad` (0 logy, 1 mean, 2 var) moved: ``out[y, x] = plane[y + dy, x + dx]``.

        Args:
            box: ``(y0, y1, x0, x1)`` part of the image to return (default all of it).
        """
        s = (self.pad.shape[1] - self.logy.shape[0]) // 2
        y0, y1, x0, x1 = box if box is not None else (0, self.logy.shape[0], 0, self.logy.shape[1])
        return self.pad[k, s + dy + y0 : s + dy + y1, s + dx + x0 : s + dx + x1]


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    if sigma <= 0:
        return a
    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)


def prepare(image: np.ndarray, valid: np.ndarray, options: ConsistencyOptions, blur: float = 0.0) -> Prepared:
    """Log-luminance, its local statistics and chroma of one image.

    Args:
        image: (h, w, 3) RGB, uint8 or float32 0..255.
        valid: (h, w) bool, where the image has data.
        blur: extra Gaussian blur (analysis pixels) to bring it to a coarser partner's resolution.
    """
    import cv2

    img = np.asarray(image, dtype=np.float32)
    lin = np.log(img + LOG_OFFSET)
    y = 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]
    logy = _blur(np.log(y + LOG_OFFSET).astype(np.float32), max(blur, 0.0))
    s = options.window_sigma
    # Structure is compared on a high-pass of the log-luminance: slow ramps (a shadow's
    # penumbra, a light gradient) carry no structure, texture and object edges do.
    hp = logy - _blur(logy, options.highpass_sigma) if options.highpass_sigma > 0 else logy
    mean = _blur(hp, s)
    var = np.maximum(_blur(hp * hp, s) - mean * mean, 0.0)
    chroma = np.stack([lin[..., 0] - lin[..., 1], lin[..., 2] - lin[..., 1]], axis=-1).astype(np.float32)
    feat = np.concatenate([_blur(logy, s)[..., None], _blur(chroma, options.chroma_sigma + max(blur, 0.0))], axis=-1)
    fine = np.concatenate([logy[..., None], _blur(chroma, 0.7 + max(blur, 0.0))], axis=-1)
    r = int(np.ceil(2.5 * s)) + options.shift + int(np.ceil(blur))
    ok: np.ndarray = np.asarray(valid, dtype=np.uint8)
    if r > 0:
        ok = cv2.erode(ok, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1)), borderValue=0)
    p = max(options.shift, options.max_shift)
    pad = np.stack([cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_REPLICATE) for a in (hp, mean, var)])
    noise = (NOISE_SIGMA / (_blur(y, s) + LOG_OFFSET)) ** 2
    return Prepared(hp, mean, var, feat, fine, noise.astype(np.float32), ok.astype(bool), pad)


def local_offset(diff: np.ndarray, valid: np.ndarray, options: ConsistencyOptions) -> np.ndarray:
    """Robust, slowly varying offset between two images' channels (median of block medians).

    The photometric difference of two views of the same wall is a smooth field (exposure,
    vignetting, side light, colour cast of mixed lighting); an occluder adds a local bump.
    The field is the median over ``offset_blocks`` x ``offset_blocks`` blocks of each block's
    median, so a bump narrower than about half that window does not move it.

    Args:
        diff: (h, w, c) float32 difference of the two images' channels.
        valid: (h, w) bool, where the difference is defined.

    Returns:
        (h, w, c) float32 offset field (the global median where a window has no data).
    """
    import cv2

    h, w, c = diff.shape
    if not valid.any():
        return np.zeros_like(diff)
    b = 4 * max(1, round(max(h, w) / options.offset_grid / 4))
    gh, gw = -(-h // b), -(-w // b)
    # Every fourth pixel of each block in x and y is plenty for a median. Pixels without data
    # become +inf and -inf in equal numbers (a checkerboard), which leaves the median of the
    # rest (to about half a rank); blocks less than a quarter covered count as empty.
    st = 4
    d = np.zeros((gh * b, gw * b, c), np.float32)
    d[:h, :w] = diff
    ok = np.zeros((gh * b, gw * b), bool)
    ok[:h, :w] = valid
    sub = d[::st, ::st]
    oks = ok[::st, ::st]
    yy, xx = np.indices(oks.shape)
    fill = np.where((yy + xx) % 2 == 0, np.inf, -np.inf).astype(np.float32)
    sub = np.where(oks[..., None], sub, fill[..., None])
    hb = b // st
    blocks = np.ascontiguousarray(sub.reshape(gh, hb, gw, hb, c).transpose(4, 0, 2, 1, 3)).reshape(c, gh, gw, -1)
    count = oks.reshape(gh, hb, gw, hb).sum(axis=(1, 3))
    med = np.quantile(blocks, 0.5, axis=-1, method="lower")
    med[:, count < 0.25 * hb * hb] = np.nan
    k = options.offset_blocks // 2
    pad = np.pad(med, ((0, 0), (k, k), (k, k)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, (2 * k + 1, 2 * k + 1), axis=(1, 2))
    field = _nanmedian_last(win.reshape(c, gh, gw, -1)).transpose(1, 2, 0)
    glob = _nanmedian_last(med.reshape(c, -1))
    if not np.all(np.isfinite(glob)):
        glob = np.median(diff[valid], axis=0)
    field = np.where(np.isfinite(field), field, glob).astype(np.float32)
    # block centres -> pixels: resize maps the block grid's outer border onto the padded image's
    big = cv2.resize(field, (gw * b, gh * b), interpolation=cv2.INTER_LINEAR)
    return big[:h, :w].reshape(h, w, c)


def _nanmedian_last(x: np.ndarray) -> np.ndarray:
    """Lower median of the finite values along the last axis (NaN where there is none).

    ``np.sort`` puts NaN last, so the median of the ``n`` finite values is element
    ``(n - 1) // 2``; much faster than ``np.nanmedian`` on many short rows.
    """
    srt = np.sort(x, axis=-1)
    n = np.isfinite(x).sum(axis=-1)
    out = np.take_along_axis(srt, np.maximum(n - 1, 0)[..., None] // 2, axis=-1)[..., 0]
    return np.where(n > 0, out, np.nan)


@dataclass(frozen=True)
class PairScore:
    """How two images compare at each pixel (output of :func:`similarity`).

    Attributes:
        cs: (h, w) float32 contrast-structure similarity ``-1..1`` (best over the shifts).
        dlum: (h, w) float32 absolute log-luminance difference beyond the pair's smooth offset.
        dchroma: (h, w) float32 absolute log-chromaticity difference beyond the smooth offset
            (largest of the two chroma channels).
        valid: (h, w) bool, where both images have data.
        fine_match: (h, w) bool, the pixel itself (not its window) has the brightness and
            colour of the other image within ``fine_luminance`` / ``fine_chroma`` (used to
            place an occluder's boundary, see :func:`compare`).
    """

    cs: np.ndarray
    dlum: np.ndarray
    dchroma: np.ndarray
    valid: np.ndarray
    fine_match: np.ndarray

    def photometric(self, options: ConsistencyOptions) -> np.ndarray:
        """(h, w) float32 ``dlum / luminance + dchroma / chroma``: 1 is the disagreement threshold.

        Brightness and colour differences add up: a grey pole over beige plaster is both darker
        and less warm; a shadow is darker only.
        """
        return self.dlum / options.luminance + self.dchroma / options.chroma

    def agree(self, options: ConsistencyOptions) -> np.ndarray:
        """(h, w) bool: both images clearly show the same wall."""
        return (self.cs >= options.agree) & (self.photometric(options) <= 0.75) & self.valid

    def disagree(self, options: ConsistencyOptions) -> np.ndarray:
        """(h, w) bool: the images clearly differ (texture, or a large colour or brightness change)."""
        return ((self.cs < options.disagree) | (self.photometric(options) > 1.0)) & self.valid


#: Side of the tiles :func:`similarity` works in when it is asked about some pixels only.
TILE = 64


def similarity(
    a: Prepared,
    b: Prepared,
    options: ConsistencyOptions,
    where: np.ndarray | None = None,
    tolerance: np.ndarray | None = None,
) -> PairScore:
    """Compare two prepared images of the same geometry, per pixel (see the module docstring).

    Args:
        where: (h, w) bool or None; when given, only the :data:`TILE`-pixel tiles that contain
            a True pixel are compared (the rest is reported as not valid), which is much faster
            when few pixels are in question.
        tolerance: (h, w) float32 or None: how far, in pixels, the two images may be out of
            register at each pixel (from the geometry's held-out error); the window search then
            widens there, from ``options.shift`` up to ``options.max_shift``.
    """
    import cv2

    h, w = a.logy.shape
    valid = a.valid & b.valid
    if where is None:
        boxes = [(0, h, 0, w)]
    else:
        occupied = _occupied_tiles(where)
        boxes = [(y * TILE, min(h, (y + 1) * TILE), x * TILE, min(w, (x + 1) * TILE)) for y, x in occupied]
        covered = np.zeros((h, w), bool)
        for y0, y1, x0, x1 in boxes:
            covered[y0:y1, x0:x1] = True
        valid = valid & covered
    best = np.full((h, w), -1.0, np.float32)
    res = np.zeros((h, w, 3), np.float32)
    fine = np.zeros((h, w), bool)
    if not boxes or not valid.any():
        return PairScore(best, res[..., 0], res[..., 1], valid, fine)
    sig = options.window_sigma
    c = options.c_structure
    r = options.shift
    off = local_offset(a.feat - b.feat, valid if where is None else a.valid & b.valid, options)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 3, 2 * r + 3))
    m = int(np.ceil(3.0 * sig)) + r + 2
    shifts = [(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dx or dy]
    noise = a.noise + b.noise
    for y0, y1, x0, x1 in boxes:
        # the box with a margin, so blurs and shifts near its edge see real neighbours
        Y0, Y1, X0, X1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        inner = (slice(y0 - Y0, y1 - Y0), slice(x0 - X0, x1 - X0))
        cn = c + noise[Y0:Y1, X0:X1]
        best[y0:y1, x0:x1] = _cs(a, b, (Y0, Y1, X0, X1), [(0, 0)], sig, cn)[inner]
        # Tolerance to small misregistration and blur mismatch at colour edges: ``a`` only has
        # to fall inside the range ``b`` takes within ``shift + 1`` pixels; and to noise.
        tol = 0.5 * np.sqrt(noise[Y0:Y1, X0:X1])[..., None]
        fa = a.feat[Y0:Y1, X0:X1] - off[Y0:Y1, X0:X1]
        fb = b.feat[Y0:Y1, X0:X1]
        rr = np.maximum(np.maximum(fa - cv2.dilate(fb, k), cv2.erode(fb, k) - fa) - tol, 0.0)
        res[y0:y1, x0:x1] = rr[inner]
        fine[y0:y1, x0:x1] = _fine_match(a, b, off, (Y0, Y1, X0, X1), tol, options)[inner]
    # Shifted windows only where the unshifted ones do not already agree.
    need = (best < options.agree) & valid
    for ty, tx in _occupied_tiles(need):
        y0, y1, x0, x1 = ty * TILE, min(h, (ty + 1) * TILE), tx * TILE, min(w, (tx + 1) * TILE)
        rt = r
        if tolerance is not None:
            t_need = tolerance[y0:y1, x0:x1][need[y0:y1, x0:x1]]
            if t_need.size:
                rt = int(np.clip(np.floor(float(t_need.max())), r, max(r, options.max_shift)))
        tile_shifts = shifts if rt == r else [(dx, dy) for dy in range(-rt, rt + 1) for dx in range(-rt, rt + 1)]
        if not tile_shifts:
            continue
        mt = m + rt - r
        Y0, Y1, X0, X1 = max(0, y0 - mt), min(h, y1 + mt), max(0, x0 - mt), min(w, x1 + mt)
        inner = (slice(y0 - Y0, y1 - Y0), slice(x0 - X0, x1 - X0))
        tb = _cs(a, b, (Y0, Y1, X0, X1), tile_shifts, sig, c + noise[Y0:Y1, X0:X1])[inner]
        if tolerance is not None and rt > r:
            # farther shifts count only where the geometry's error allows them
            tb = np.where(tolerance[y0:y1, x0:x1] >= r + 1, tb, best[y0:y1, x0:x1])
        np.maximum(best[y0:y1, x0:x1], tb, out=best[y0:y1, x0:x1])
    return PairScore(best, res[..., 0], np.maximum(res[..., 1], res[..., 2]), valid, fine & valid)


def _fine_match(
    a: Prepared,
    b: Prepared,
    off: np.ndarray,
    box: tuple[int, int, int, int],
    tol: np.ndarray,
    options: ConsistencyOptions,
) -> np.ndarray:
    """(h, w) bool in ``box``: the pixel of ``a`` has the brightness and colour of ``b`` at one shift.

    All channels must match at the same shift of ``b`` (up to ``options.shift`` pixels), so an
    edge between two colours in ``b`` does not let any colour in between pass.
    """
    y0, y1, x0, x1 = box
    fa = a.fine[y0:y1, x0:x1] - off[y0:y1, x0:x1]
    sc = np.array([1.0 / options.fine_luminance, 1.0 / options.fine_chroma, 1.0 / options.fine_chroma], np.float32)
    best = np.full((y1 - y0, x1 - x0), np.inf, np.float32)
    r = options.shift
    h, w = a.fine.shape[:2]
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            ys = np.clip(np.arange(y0, y1) + dy, 0, h - 1)
            xs = np.clip(np.arange(x0, x1) + dx, 0, w - 1)
            fb = b.fine[ys][:, xs]
            d = np.maximum(np.abs(fa - fb) - tol, 0.0) * sc
            np.minimum(best, np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2]), out=best)
    return best <= 1.0


def _cs(
    a: Prepared,
    b: Prepared,
    box: tuple[int, int, int, int],
    shifts: list[tuple[int, int]],
    sig: float,
    c: float | np.ndarray,
) -> np.ndarray:
    """Best contrast-structure similarity over ``shifts`` of ``b``, in ``box = (y0, y1, x0, x1)``."""
    y0, y1, x0, x1 = box
    al, am, av = a.logy[y0:y1, x0:x1], a.mean[y0:y1, x0:x1], a.var[y0:y1, x0:x1]
    out = np.full((y1 - y0, x1 - x0), -1.0, np.float32)
    for dx, dy in shifts:
        cov = _blur(al * b.shifted(0, dx, dy, box), sig)
        cov -= am * b.shifted(1, dx, dy, box)
        cs = (2.0 * cov + c) / (av + b.shifted(2, dx, dy, box) + c)
        np.maximum(out, cs, out=out)
    return out


def _occupied_tiles(where: np.ndarray) -> list[tuple[int, int]]:
    """(row, column) of the :data:`TILE`-pixel tiles that contain a True pixel."""
    h, w = where.shape
    gh, gw = -(-h // TILE), -(-w // TILE)
    pad = np.zeros((gh * TILE, gw * TILE), bool)
    pad[:h, :w] = where
    occ = pad.reshape(gh, TILE, gw, TILE).any(axis=(1, 3))
    return [(int(y), int(x)) for y, x in zip(*np.nonzero(occ))]


@dataclass(frozen=True)
class Evidence:
    """What the other views say about each pixel of the target (output of :func:`compare`).

    Attributes:
        strong: (h, w) bool, occluded by a consensus: two or more sources that agree with each
            other (witnesses) all differ from the target (hysteresis: seeded where the target
            clearly disagrees with every witness, grown where it agrees with none).
        weak: (h, w) bool, the target differs from the only source that sees the pixel (an
            occluder in that source gives the same evidence: see :func:`finish`).
        known: (h, w) bool, some source judged the pixel; False where no other view sees the
            wall there, where the sources contradict each other and the target, and on clipped
            highlights of the target.
        support: (h, w) uint8, number of sources the verdict rests on (witnesses, or 1).
        unmatched: (h, w) bool or None, pixels whose own brightness and colour match none of the
            sources that see them (at pixel scale, within the registration tolerance).
    """

    strong: np.ndarray
    weak: np.ndarray
    known: np.ndarray
    support: np.ndarray
    unmatched: np.ndarray | None = None


@dataclass(frozen=True)
class Verdict:
    """Final per-pixel outcome in the target's analysis geometry (output of :func:`finish`).

    Attributes:
        occluded: (h, w) bool, the wall is hidden (after clean-up).
        known: (h, w) bool, False where unknown (never occluded there).
        support: (h, w) uint8, number of sources the verdict rests on (0 where unknown); an
            occluded pixel with support 1 rests on a single other view (weaker evidence).
    """

    occluded: np.ndarray
    known: np.ndarray
    support: np.ndarray


def compare(
    target: np.ndarray,
    target_valid: np.ndarray,
    sources: Sequence[Source],
    options: ConsistencyOptions = ConsistencyOptions(),
    target_error: np.ndarray | None = None,
) -> Evidence:
    """Compare the target with every source and the sources among themselves.

    Args:
        target: (h, w, 3) RGB image of the target view, 0..255.
        target_valid: (h, w) bool, where the target has image data (all True for a photo).
        sources: per other view ``(warped, valid, scale)`` or ``(warped, valid, scale, error)``:
            its (h, w, 3) RGB image warped into the target's geometry, (h, w) bool where it has
            data (the wall it sees), its resolution on the wall relative to the target's (source
            pixels per target pixel, linear; ``< 1`` when the source is coarser; values above 1
            count as 1: warp a finer source with an anti-aliasing filter), and optionally its
            registration error at each pixel, (h, w) float32 target pixels (or None).
        target_error: (h, w) float32 registration error of the target itself, pixels, or None.
            Two images may be out of register by the root sum of squares of their errors.

    Returns:
        the :class:`Evidence`.
    """
    import cv2

    h, w = target.shape[:2]
    n = len(sources)
    tgt = np.asarray(target)
    clipped = _clipped(tgt)
    # Each pair is compared at the coarser of its two resolutions: the sharper side is blurred.
    scales = [min(1.0, max(1e-3, float(src[2]))) for src in sources]
    images = [(tgt, np.asarray(target_valid, bool), 1.0)] + [
        (src[0], np.asarray(src[1], bool) & ~_clipped(src[0]), sc) for src, sc in zip(sources, scales)
    ]
    errors = [src[3] if len(src) > 3 else None for src in sources]

    def tol(*maps: np.ndarray | None) -> np.ndarray | None:
        given = [e for e in maps if e is not None]
        if not given:
            return None
        out = np.zeros((h, w), np.float32)
        for e in given:
            out += e * e
        return np.sqrt(out)  # independent errors of the two registrations

    cache: dict[tuple[int, float], Prepared] = {}

    def prep(k: int, partner_scale: float) -> Prepared:
        img, v, sc = images[k]
        key = (k, round(_match_blur(partner_scale / sc), 1))
        if key not in cache:
            cache[key] = prepare(img, v, options, blur=key[1])
        return cache[key]

    t_dis = np.zeros((n, h, w), bool)
    t_agree = np.zeros((n, h, w), bool)
    valid = np.zeros((n, h, w), bool)
    pixel_match = np.zeros((h, w), np.uint8)
    for i in range(n):
        sc = similarity(prep(0, scales[i]), prep(i + 1, 1.0), options, tolerance=tol(target_error, errors[i]))
        valid[i] = sc.valid & ~clipped
        t_dis[i] = sc.disagree(options) & valid[i]
        t_agree[i] = sc.agree(options) & valid[i]
        pixel_match += sc.fine_match & valid[i]
    # Where the target agrees with some source it shows the wall; only the other pixels need
    # the sources' opinion of each other (a small share of the photo, usually).
    n_valid = valid.sum(0)
    n_agree = t_agree.sum(0)
    doubt = (n_valid >= 1) & (n_agree == 0)
    witness = np.zeros((n, h, w), bool)
    if doubt.any():
        for i in range(n):
            for j in range(i + 1, n):
                both = valid[i] & valid[j] & doubt
                if not both.any():
                    continue
                pair = similarity(
                    prep(i + 1, scales[j]),
                    prep(j + 1, scales[i]),
                    options,
                    where=both,
                    tolerance=tol(errors[i], errors[j]),
                )
                ag = pair.agree(options) & both
                witness[i] |= ag
                witness[j] |= ag
    n_wit = witness.sum(0)
    multi = doubt & (n_wit >= 2)
    single = doubt & ~multi & (n_valid == 1)
    # Seeds: clear disagreement with every witness (or with the single source); growth: the
    # rest of the pixels in doubt that rest on witnesses or a single source.
    seed = (multi & ~(witness & ~t_dis).any(0)) | (single & t_dis.any(0))
    occ = hysteresis(seed, multi | single)
    # The comparison window spreads a disagreement over the wall beside an occluder: within
    # ``refine_band`` pixels inside the boundary, a pixel that itself has the brightness and
    # colour of the wall in two other views (or the only one) is wall. (The other way, an
    # occluder's rim that passes for wall beside a colourful edge, is handled by :func:`finish`
    # with ``unmatched``.)
    if options.refine_band > 0 and occ.any():
        kb = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.refine_band + 1,) * 2)
        inner = occ & ~cv2.erode(occ.astype(np.uint8), kb, borderValue=1).astype(bool)
        occ &= ~(inner & (pixel_match >= np.minimum(2, n_valid)))
    # Sources that do not confirm each other: visible where the target does not clearly differ
    # from one of them, else unknown.
    other = doubt & ~multi & ~single
    seen_other = other & (valid & ~t_dis).any(0)
    known = (n_agree > 0) | multi | single | seen_other
    support = np.where(multi, n_wit, np.where(n_agree > 0, n_agree, np.where(single | seen_other, 1, 0)))
    support = np.minimum(support, 255).astype(np.uint8)
    unmatched = (pixel_match == 0) & (n_valid >= 1)
    return Evidence(occ & multi, occ & single, known, support, unmatched)


def _clipped(image: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels with a clipped channel (and their neighbours): brightness and colour are lost there."""
    import cv2

    img = np.asarray(image)
    m = (img[..., 0] >= SATURATED) | (img[..., 1] >= SATURATED) | (img[..., 2] >= SATURATED)
    if m.any():
        m = cv2.dilate(m.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return m


def hysteresis(seed: np.ndarray, grow: np.ndarray) -> np.ndarray:
    """(h, w) bool: the 8-connected regions of ``grow | seed`` that contain a ``seed`` pixel."""
    import cv2

    region = (grow | seed).astype(np.uint8)
    n, lab = cv2.connectedComponents(region, connectivity=8)
    hit = np.zeros(n, bool)
    hit[np.unique(lab[seed])] = True
    hit[0] = False
    return hit[lab]


def finish(
    evidence: Evidence, explained: np.ndarray | None = None, options: ConsistencyOptions = ConsistencyOptions()
) -> Verdict:
    """The occluded map of a target from its evidence and what the other views' own occluders explain.

    A weak (single-source) disagreement is also what an occluder *in that source* produces.
    Regions of weak evidence that touch ``explained`` - the other views' strong occluders
    mapped into the target - are attributed to those views and become unknown; regions that
    touch the target's own strong occluders, or nothing, count as occluded (with support 1).
    The result is cleaned by :func:`clean`.

    Args:
        evidence: from :func:`compare`.
        explained: (h, w) bool or None, other views' strong occluders in the target's geometry.
    """
    import cv2

    strong, weak = evidence.strong, evidence.weak
    known = evidence.known.copy()
    if explained is not None and weak.any() and explained.any():
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.open_radius + 3,) * 2)
        near_own = cv2.dilate(strong.astype(np.uint8), k).astype(bool)
        near_other = cv2.dilate(np.asarray(explained, np.uint8), k).astype(bool)
        n, lab = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
        own = np.zeros(n, bool)
        own[np.unique(lab[weak & near_own])] = True
        other = np.zeros(n, bool)
        other[np.unique(lab[weak & near_other])] = True
        drop = other & ~own
        drop[0] = False
        dropped = drop[lab]
        weak = weak & ~dropped
        known &= ~dropped
    raw = strong | weak
    occ = clean(raw, known, options)
    if evidence.unmatched is not None and options.refine_band > 0 and occ.any():
        # An occluder's rim can pass for wall at window scale beside a colourful edge of the
        # wall: within ``refine_band`` pixels outside a (cleaned) occluded region, a pixel whose
        # own brightness and colour match no other view is occluded too.
        kb = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.refine_band + 1,) * 2)
        rim = cv2.dilate(occ.astype(np.uint8), kb).astype(bool) & ~occ & evidence.unmatched
        occ |= rim
        known = known | rim
    support = np.where(known, evidence.support, 0).astype(np.uint8)
    filled = occ & ~raw
    if filled.any():
        # pixels the clean-up filled in take the support of the occluded pixels around them
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.open_radius + 3,) * 2)
        around = cv2.dilate(np.where(raw, support, 0).astype(np.uint8), k)
        support[filled] = np.maximum(around[filled], 1)
    return Verdict(occ, known, support)


def consensus(
    target: np.ndarray,
    target_valid: np.ndarray,
    sources: Sequence[Source],
    options: ConsistencyOptions = ConsistencyOptions(),
    target_error: np.ndarray | None = None,
) -> Verdict:
    """:func:`compare` then :func:`finish` without other views' occluders (one view on its own)."""
    return finish(compare(target, target_valid, sources, options, target_error), None, options)


def _match_blur(scale: float) -> float:
    """Gaussian sigma that brings an image to a partner whose resolution is ``scale`` times its own.

    ``scale >= 1``: the partner is sharper, nothing to do. Otherwise the anti-aliasing
    blur of a ``scale`` downsampling, ``0.5 * sqrt(1 / scale^2 - 1)`` pixels.
    """
    if scale >= 0.95:
        return 0.0
    return 0.5 * float(np.sqrt(1.0 / scale**2 - 1.0))


def clean(occ: np.ndarray, known: np.ndarray, options: ConsistencyOptions) -> np.ndarray:
    """Morphological clean-up of a raw occluded map: opening, small regions dropped, holes filled, shrink."""
    import cv2

    m: np.ndarray = occ.astype(np.uint8)
    r = options.open_radius
    if r > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, k)
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, k)
    min_px = options.min_area * m.size
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    m = keep[lab].astype(np.uint8)
    if options.shrink:
        r = abs(options.shrink)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        m = cv2.erode(m, k) if options.shrink > 0 else cv2.dilate(m, k)
    return m.astype(bool) & known
