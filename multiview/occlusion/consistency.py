"""Photometric consistency of one view with other views warped into it: where is the wall hidden?

A pixel of the *target* view shows the wall when its neighbourhood looks like the same
wall patch seen by the other (*source*) views, once they are warped into the target
through the stored geometry. Something in front of the wall (scaffolding, a beam, a
person, a lamp) replaces the wall's texture and colour in the target only, so the
target disagrees there with a *consensus* of sources that agree among themselves.

Comparisons are made so that what a restorer's photos legitimately change between
views does not count as disagreement:

* **Exposure, gain, gamma, vignetting, side light, soft shadows** act on the image
  (nearly) multiplicatively and vary slowly across it. Images are compared as
  log-luminance ``log(Y + LOG_OFFSET)``, where a local gain is an additive offset, and
  the comparison is the *contrast-structure* term of SSIM (Wang, Bovik, Sheikh and
  Simoncelli, "Image quality assessment: from error visibility to structural
  similarity", IEEE TIP 13(4), 2004, eq. 9-10, with ``C = C2``) over Gaussian windows:
  ``cs = (2 cov(a, b) + C) / (var(a) + var(b) + C)``. It ignores the local mean
  (the offset), equals zero-mean NCC where both windows are textured, and is close to
  1 where both are flat (plain plaster) - a flat window against a textured one, or two
  different textures, gives a low value.
* **Colour temperature** is a per-channel gain: the log-chromaticities
  ``log(R/G)``, ``log(B/G)`` of a pair differ by an offset, estimated per pair as the
  median difference over the overlap and removed before the chroma test.
* **Small registration error** (a pixel or two): the source's window may shift by up
  to ``shift`` pixels; the best of those positions counts (as census / NCC matchers
  with a small search range do), so painted edges do not flag.
* **Different resolution on the wall** (a close-up against a distant view): the
  sharper image is blurred to the other's resolution before comparing.

Decision per target pixel ``p`` (see :func:`consensus`): the sources whose warped
image covers ``p`` are compared among themselves first; a source that agrees with at
least one other source at ``p`` is a *witness* of the wall there. With two or more
witnesses, ``p`` is occluded when the target agrees with none of them, visible when it
agrees with one. With a single source, its verdict is used but recorded as weaker
(``support == 1``): an occluder in that source also marks the target. With no source,
``p`` is unknown (never called occluded). Sources that disagree with each other and
with the target leave ``p`` unknown. Pixels with a clipped channel (a specular highlight,
over-exposure) are unknown in the target and unused in a source: the paint's colour and
texture are lost there, but nothing stands in front of the wall.

Limits (by construction): a soft shadow keeps the wall's texture and is not flagged; the
sharp edge of a hard cast shadow can be (a thin line, mostly removed by the opening
below); an occluder with the same texture and colour as the wall it hides cannot be
seen; the interior of a flat, wall-coloured occluder in front of flat plaster
is not flagged (nothing differs there).

Convention:
    Every array is in the *target's analysis geometry*: ``(h, w)`` rows and columns,
    pixel ``(x, y)`` is ``a[y, x]``. Images are RGB ``uint8`` or ``float32`` in
    ``0..255``; validity masks are ``bool``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Added to luminance before the log, so dark, noisy pixels do not dominate (0..255 scale).
LOG_OFFSET = 12.0
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
    shift: int = 1
    c_structure: float = 2e-3
    agree: float = 0.6
    disagree: float = 0.35
    luminance: float = 0.8
    chroma: float = 0.12
    offset_grid: int = 32
    offset_blocks: int = 7
    chroma_sigma: float = 2.0
    fine_luminance: float = 0.12
    fine_chroma: float = 0.06
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
        valid: (h, w) bool, where the whole comparison window has image data.
        pad: (3, h + 2 s, w + 2 s) float32 ``logy``, ``mean``, ``var`` padded by ``s = shift``
            pixels (edge replicated), for shifted comparisons without copies.
    """

    logy: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    feat: np.ndarray
    fine: np.ndarray
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
    p = options.shift
    pad = np.stack([cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_REPLICATE) for a in (hp, mean, var)])
    return Prepared(hp, mean, var, feat, fine, ok.astype(bool), pad)


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


def similarity(a: Prepared, b: Prepared, options: ConsistencyOptions, where: np.ndarray | None = None) -> PairScore:
    """Compare two prepared images of the same geometry, per pixel (see the module docstring).

    Args:
        where: (h, w) bool or None; when given, only the :data:`TILE`-pixel tiles that contain
            a True pixel are compared (the rest is reported as not valid), which is much faster
            when few pixels are in question.
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
    k1 = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    m = int(np.ceil(3.0 * sig)) + r + 2
    shifts = [(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dx or dy]
    for y0, y1, x0, x1 in boxes:
        # the box with a margin, so blurs and shifts near its edge see real neighbours
        Y0, Y1, X0, X1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        inner = (slice(y0 - Y0, y1 - Y0), slice(x0 - X0, x1 - X0))
        best[y0:y1, x0:x1] = _cs(a, b, (Y0, Y1, X0, X1), [(0, 0)], sig, c)[inner]
        # Tolerance to small misregistration and blur mismatch at colour edges: ``a`` only has
        # to fall inside the range ``b`` takes within ``shift + 1`` pixels.
        fa = a.feat[Y0:Y1, X0:X1] - off[Y0:Y1, X0:X1]
        fb = b.feat[Y0:Y1, X0:X1]
        rr = np.maximum(np.maximum(fa - cv2.dilate(fb, k), cv2.erode(fb, k) - fa), 0.0)
        res[y0:y1, x0:x1] = rr[inner]
        fa = a.fine[Y0:Y1, X0:X1] - off[Y0:Y1, X0:X1]
        fb = b.fine[Y0:Y1, X0:X1]
        rf = np.maximum(np.maximum(fa - cv2.dilate(fb, k1), cv2.erode(fb, k1) - fa), 0.0)[inner]
        fine[y0:y1, x0:x1] = (rf[..., 0] <= options.fine_luminance) & (
            np.maximum(rf[..., 1], rf[..., 2]) <= options.fine_chroma
        )
    # Shifted windows only where the unshifted ones do not already agree.
    if shifts:
        for ty, tx in _occupied_tiles((best < options.agree) & valid):
            y0, y1, x0, x1 = ty * TILE, min(h, (ty + 1) * TILE), tx * TILE, min(w, (tx + 1) * TILE)
            Y0, Y1, X0, X1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
            inner = (slice(y0 - Y0, y1 - Y0), slice(x0 - X0, x1 - X0))
            tb = _cs(a, b, (Y0, Y1, X0, X1), shifts, sig, c)[inner]
            np.maximum(best[y0:y1, x0:x1], tb, out=best[y0:y1, x0:x1])
    return PairScore(best, res[..., 0], np.maximum(res[..., 1], res[..., 2]), valid, fine & valid)


def _cs(
    a: Prepared, b: Prepared, box: tuple[int, int, int, int], shifts: list[tuple[int, int]], sig: float, c: float
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
    """

    strong: np.ndarray
    weak: np.ndarray
    known: np.ndarray
    support: np.ndarray


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
    sources: Sequence[tuple[np.ndarray, np.ndarray, float]],
    options: ConsistencyOptions = ConsistencyOptions(),
) -> Evidence:
    """Compare the target with every source and the sources among themselves.

    Args:
        target: (h, w, 3) RGB image of the target view, 0..255.
        target_valid: (h, w) bool, where the target has image data (all True for a photo).
        sources: per other view ``(warped, valid, scale)``: its (h, w, 3) RGB image warped into
            the target's geometry, (h, w) bool where it has data (the wall it sees), and its
            resolution on the wall relative to the target's (source pixels per target pixel,
            linear; ``< 1`` when the source is coarser; values above 1 count as 1: warp a finer
            source with an anti-aliasing filter).

    Returns:
        the :class:`Evidence`.
    """
    import cv2

    h, w = target.shape[:2]
    n = len(sources)
    tgt = np.asarray(target)
    clipped = _clipped(tgt)
    # Each pair is compared at the coarser of its two resolutions: the sharper side is blurred.
    scales = [min(1.0, max(1e-3, float(sc))) for _, _, sc in sources]
    images = [(tgt, np.asarray(target_valid, bool), 1.0)] + [
        (img, np.asarray(v, bool) & ~_clipped(img), sc) for (img, v, _), sc in zip(sources, scales)
    ]
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
    pixel_match = np.zeros((h, w), bool)
    for i in range(n):
        sc = similarity(prep(0, scales[i]), prep(i + 1, 1.0), options)
        valid[i] = sc.valid & ~clipped
        t_dis[i] = sc.disagree(options) & valid[i]
        t_agree[i] = sc.agree(options) & valid[i]
        pixel_match |= sc.fine_match & valid[i]
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
                pair = similarity(prep(i + 1, scales[j]), prep(j + 1, scales[i]), options, where=both)
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
    # The comparison window spreads a disagreement over the wall beside an occluder: near the
    # boundary, a pixel that itself looks like the wall in some other view is wall.
    if options.refine_band > 0 and occ.any():
        kb = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.refine_band + 1,) * 2)
        band = occ & ~cv2.erode(occ.astype(np.uint8), kb, borderValue=1).astype(bool)
        occ &= ~(band & pixel_match)
    # Sources that do not confirm each other: visible where the target does not clearly differ
    # from one of them, else unknown.
    other = doubt & ~multi & ~single
    seen_other = other & (valid & ~t_dis).any(0)
    known = (n_agree > 0) | multi | single | seen_other
    support = np.where(multi, n_wit, np.where(n_agree > 0, n_agree, np.where(single | seen_other, 1, 0)))
    support = np.minimum(support, 255).astype(np.uint8)
    return Evidence(occ & multi, occ & single, known, support)


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
    sources: Sequence[tuple[np.ndarray, np.ndarray, float]],
    options: ConsistencyOptions = ConsistencyOptions(),
) -> Verdict:
    """:func:`compare` then :func:`finish` without other views' occluders (one view on its own)."""
    return finish(compare(target, target_valid, sources, options), None, options)


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
    if options.shrink > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * options.shrink + 1, 2 * options.shrink + 1))
        m = cv2.erode(m, k)
    return m.astype(bool) & known
