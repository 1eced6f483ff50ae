"""Refinement of a homography estimate: re-matching on the pre-warped photo, then ECC.

A view seen under a strong viewpoint change matches its reference poorly: SIFT is
only similarity-invariant. Once a first (chained) estimate exists, the view is
warped into the reference geometry, where it looks almost like the reference;
features detected there match densely and precisely (guided by position), and
the correction found there is composed with the estimate. A photometric
refinement (ECC on masked, contrast-equalised grey levels) may follow; every
refinement is kept only if it improves the fit.

Convention:
    ``H_ref_from_view`` maps original view pixels to original reference pixels.
    ``F`` geometries are the downscaled copies features are detected on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..geometry import apply_h, compose, coverage, footprint, invert, polygon_area
from ..raster import scale_between
from .features import Features, detect, to_grey
from .matching import estimate_homography, guided_match, refit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refined:
    """A refined estimate.

    Attributes:
        H_ref_from_view: (3, 3) float64, original pixels.
        inliers: correspondences supporting it.
        reproj_error: median inlier error, reference original pixels.
        steps: what was applied, e.g. ``("rewarp", "ecc")``.
        pts_view, pts_ref: (K, 2) inlier correspondences in original pixels.
        putative: ``(pts_view, pts_ref)`` (M, 2) float64 original pixels: every match of the first,
            wide guided search (wrong ones included), over the whole overlap; for the held-out error.
    """

    H_ref_from_view: np.ndarray
    inliers: int
    reproj_error: float
    steps: tuple[str, ...]
    pts_view: np.ndarray
    pts_ref: np.ndarray
    putative: tuple[np.ndarray, np.ndarray] | None = None


def warp_scale(H_dst_from_src: np.ndarray, src_size: tuple[int, int]) -> float:
    """Linear scale factor of a warp over the source image: sqrt(footprint area / source area)."""
    fp = footprint(H_dst_from_src, src_size)
    if not np.all(np.isfinite(fp)):
        return float("inf")
    return float(np.sqrt(polygon_area(fp) / (src_size[0] * src_size[1])))


def _fit_error(H_ref_from_view: np.ndarray, pv: np.ndarray, pr: np.ndarray) -> float:
    if len(pv) == 0:
        return float("inf")
    return float(np.median(np.linalg.norm(apply_h(H_ref_from_view, pv) - pr, axis=1)))


def rewarp_refine(
    view_img: np.ndarray,
    view_size: tuple[int, int],
    ref_feats: Features,
    ref_F_size: tuple[int, int],
    H_ref_from_view: np.ndarray,
    *,
    radius: float = 25.0,
    min_inliers: int = 15,
) -> Refined | None:
    """Warp the view onto the reference, re-detect, match by position + descriptor, re-estimate.

    Args:
        view_img: (h, w, 3) uint8 RGB copy of the view at any resolution.
        view_size: ``(w, h)`` original size of the view.
        ref_feats: reference features (original reference pixels).
        ref_F_size: ``(w, h)`` of the reference image the reference features were detected on.
        H_ref_from_view: (3, 3) current estimate, original pixels.
        radius: search radius for guided matching, pixels of the ``F`` reference image.

    Returns:
        The refined estimate, or None when too few matches support a correction.
    """
    import cv2

    ref_size = ref_feats.size
    S_rF_from_r = scale_between(ref_size, ref_F_size)
    # How much the view shrinks when warped onto the reference image: pre-shrink to avoid aliasing.
    H_rF_from_v = compose(S_rF_from_r, H_ref_from_view)
    fp = footprint(H_rF_from_v, view_size)
    vis = np.clip(fp, [-0.5, -0.5], [ref_F_size[0] - 0.5, ref_F_size[1] - 0.5])
    if polygon_area(vis) < 0.005 * ref_F_size[0] * ref_F_size[1]:
        return None
    lin = np.sqrt(polygon_area(fp) / (view_size[0] * view_size[1]))
    h, w = view_img.shape[:2]
    s_img = min(1.0, lin * view_size[0] / w * 1.25)  # work at ~the resolution it lands at
    img = view_img
    if s_img < 0.9:
        img = cv2.resize(view_img, (max(8, round(w * s_img)), max(8, round(h * s_img))), interpolation=cv2.INTER_AREA)
    S_v_from_img = scale_between((img.shape[1], img.shape[0]), view_size)
    H_rF_from_img = compose(H_rF_from_v, S_v_from_img)
    grey = to_grey(img)
    warped = cv2.warpPerspective(
        grey, H_rF_from_img, ref_F_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    valid = coverage(H_rF_from_img, (img.shape[1], img.shape[0]), ref_F_size)
    valid = cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    if valid.sum() < 1000:
        return None
    # Re-equalise in the reference frame so contrast matches the reference's equalised detection.
    xy, _, _, desc = detect(warped, mask=valid)
    if len(xy) < min_inliers:
        return None
    ref_xy_F = apply_h(S_rF_from_r, ref_feats.xy)
    best: Refined | None = None
    H_corr = np.eye(3)  # H_rF_from_warped
    putative = None
    for rad, thr in ((radius, 2.0), (4.0, 1.0)):
        ia, ib = guided_match(xy, desc, ref_xy_F, ref_feats.desc, H_corr, rad)
        if putative is None:
            putative = (apply_h(invert(H_rF_from_v), xy[ia]), ref_feats.xy[ib].astype(np.float64))
        pm = estimate_homography(xy[ia], ref_xy_F[ib], thresh=thr, min_inliers=min_inliers)
        if pm.H_b_from_a is None:
            break
        H_new, inl = refit(xy[ia], ref_xy_F[ib], pm.H_b_from_a, thr)
        H_corr = H_new
        pw, pr = xy[ia][inl], ref_xy_F[ib][inl]
        S_r_from_rF = invert(S_rF_from_r)
        H_full = compose(S_r_from_rF, H_corr, H_rF_from_v)
        # Correspondences back in original pixels (view points through the inverse pre-warp).
        pv = apply_h(invert(H_rF_from_v), pw)
        pr_o = apply_h(S_r_from_rF, pr)
        best = Refined(
            H_full,
            int(inl.sum()),
            _fit_error(H_full, pv, pr_o),
            ("rewarp",),
            pv.astype(np.float32),
            pr_o.astype(np.float32),
            putative,
        )
    return best


def ecc_refine(
    view_img: np.ndarray,
    view_size: tuple[int, int],
    ref_img: np.ndarray,
    ref_size: tuple[int, int],
    H_ref_from_view: np.ndarray,
    *,
    iters: int = 60,
) -> tuple[np.ndarray, float, float] | None:
    """Photometric refinement (ECC, homography motion) of ``H_ref_from_view`` on the overlap.

    Args:
        view_img: (h, w, 3) uint8 RGB view copy; ref_img: (H, W, 3) uint8 RGB reference copy.
        view_size, ref_size: original ``(w, h)`` sizes.

    Returns:
        ``(H_ref_from_view, ncc_before, ncc_after)`` or None when ECC fails to converge.
    """
    import cv2

    rg = to_grey(ref_img)
    R = (rg.shape[1], rg.shape[0])
    S_rF_from_r = scale_between(ref_size, R)
    S_v_from_img = scale_between((view_img.shape[1], view_img.shape[0]), view_size)
    H_rF_from_img = compose(S_rF_from_r, H_ref_from_view, S_v_from_img)
    vg = to_grey(view_img)
    warped = cv2.warpPerspective(vg, H_rF_from_img, R, flags=cv2.INTER_LINEAR)
    valid = coverage(H_rF_from_img, (vg.shape[1], vg.shape[0]), R)
    valid = cv2.erode(valid.astype(np.uint8), np.ones((15, 15), np.uint8))
    if valid.sum() < 2000:
        return None
    t = rg.astype(np.float32)
    wimg = warped.astype(np.float32)
    before = _ncc(t, wimg, valid > 0)
    W0 = np.eye(3, dtype=np.float32)
    try:
        _, W = cv2.findTransformECC(
            t, wimg, W0, cv2.MOTION_HOMOGRAPHY, (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iters, 1e-6), valid, 5
        )
    except cv2.error:
        return None
    # W maps template (reference F) pixels to warped-view pixels: H_warped_from_rF.
    H_rF_from_warped = invert(np.asarray(W, dtype=np.float64))
    H_new = compose(invert(S_rF_from_r), H_rF_from_warped, S_rF_from_r, H_ref_from_view)
    H_rF_from_img2 = compose(S_rF_from_r, H_new, S_v_from_img)
    warped2 = cv2.warpPerspective(vg, H_rF_from_img2, R, flags=cv2.INTER_LINEAR).astype(np.float32)
    after = _ncc(t, warped2, valid > 0)
    return H_new, before, after


def _ncc(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    x, y = a[m], b[m]
    x = x - x.mean()
    y = y - y.mean()
    d = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / d) if d > 0 else 0.0


def rewarp_matches(
    view_img: np.ndarray,
    view_size: tuple[int, int],
    ref_feats: Features,
    ref_F_size: tuple[int, int],
    H_ref_from_view: np.ndarray,
    view_from_ref: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    radius: float = 25.0,
    ratio: float = 0.9,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Putative matches over the whole overlap, guided by a mapping (homography or deformable).

    Like :func:`rewarp_refine`'s first step, without fitting anything: the view is warped
    onto the reference feature image through the mapping, features are re-detected there and
    matched to the reference features within ``radius`` pixels (descriptor ratio test among
    the candidates). Wrong matches are left in; :func:`multiview.alignment.deform.clean_matches`
    removes them without assuming a plane.

    Args:
        view_img: (h, w, 3) uint8 RGB copy of the view at any resolution.
        view_size: ``(w, h)`` original size of the view.
        ref_feats: reference features (original reference pixels).
        ref_F_size: ``(w, h)`` of the image the reference features were detected on.
        H_ref_from_view: (3, 3) the homography (of the mapping, or its base).
        view_from_ref: ``(N, 2)`` reference original pixels -> view original pixels, when the
            mapping is not the homography alone.
        radius: search radius, pixels of the reference feature image.

    Returns:
        ``(pts_view, pts_ref)`` (K, 2) float64 original pixels, or None when the view does not
        overlap the reference enough.
    """
    import cv2

    from .deform import sample_map

    ref_size = ref_feats.size
    S_rF_from_r = scale_between(ref_size, ref_F_size)
    S_r_from_rF = invert(S_rF_from_r)
    H_rF_from_v = compose(S_rF_from_r, H_ref_from_view)
    fp = footprint(H_rF_from_v, view_size)
    if not np.all(np.isfinite(fp)):
        return None
    vis = np.clip(fp, [-0.5, -0.5], [ref_F_size[0] - 0.5, ref_F_size[1] - 0.5])
    if polygon_area(vis) < 0.005 * ref_F_size[0] * ref_F_size[1]:
        return None
    lin = np.sqrt(polygon_area(fp) / (view_size[0] * view_size[1]))
    h, w = view_img.shape[:2]
    s_img = min(1.0, lin * view_size[0] / w * 1.25)
    img = view_img
    if s_img < 0.9:
        img = cv2.resize(view_img, (max(8, round(w * s_img)), max(8, round(h * s_img))), interpolation=cv2.INTER_AREA)
    img_size = (img.shape[1], img.shape[0])
    S_img_from_v = scale_between(view_size, img_size)
    grey = to_grey(img)
    if view_from_ref is None:
        H_rF_from_img = compose(H_rF_from_v, invert(S_img_from_v))
        warped = cv2.warpPerspective(grey, H_rF_from_img, ref_F_size, flags=cv2.INTER_LINEAR, borderValue=0)
        valid = coverage(H_rF_from_img, img_size, ref_F_size)

        def to_view(pw: np.ndarray) -> np.ndarray:
            return apply_h(invert(H_rF_from_v), pw)
    else:

        def img_from_rF(p: np.ndarray) -> np.ndarray:
            return apply_h(S_img_from_v, view_from_ref(apply_h(S_r_from_rF, p)))

        H_img_from_rF = compose(S_img_from_v, invert(H_rF_from_v))
        mx, my = sample_map(img_from_rF, H_img_from_rF, ref_F_size)
        warped = cv2.remap(grey, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        valid = (mx >= -0.5) & (mx <= img_size[0] - 0.5) & (my >= -0.5) & (my <= img_size[1] - 0.5)

        def to_view(pw: np.ndarray) -> np.ndarray:
            return view_from_ref(apply_h(S_r_from_rF, pw))

    valid = cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    if valid.sum() < 1000:
        return None
    xy, _, _, desc = detect(warped, mask=valid)
    if len(xy) < 8:
        return None
    ref_xy_F = apply_h(S_rF_from_r, ref_feats.xy)
    ia, ib = guided_match(xy, desc, ref_xy_F, ref_feats.desc, np.eye(3), radius, ratio)
    if len(ia) < 8:
        return None
    return to_view(xy[ia].astype(np.float64)), ref_feats.xy[ib].astype(np.float64)
