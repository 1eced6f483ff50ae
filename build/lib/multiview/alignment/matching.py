"""Matching two feature sets and robust homography estimation (OpenCV SIFT + MAGSAC).

Convention:
    ``H_b_from_a`` maps pixels of image ``a`` to pixels of image ``b``; the points
    given to and returned by these functions are ``(N, 2)`` float arrays in the
    pixels of their own image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import apply_h, normalize_h
from .features import Features

#: Lowe's ratio for unguided matching.
RATIO = 0.8
#: Fewest inliers accepted for a homography.
MIN_INLIERS = 15


@dataclass(frozen=True)
class PairMatch:
    """Outcome of matching image ``a`` to image ``b``.

    Attributes:
        H_b_from_a: (3, 3) float64, or None when no plausible homography was found.
        inliers: number of inlier correspondences.
        matches: number of putative (ratio-test) matches.
        reproj_error: median inlier reprojection error in ``b`` pixels, or None.
        pts_a, pts_b: (K, 2) float32 inlier correspondences.
        reason: why ``H_b_from_a`` is None (None otherwise).
    """

    H_b_from_a: np.ndarray | None
    inliers: int
    matches: int
    reproj_error: float | None
    pts_a: np.ndarray
    pts_b: np.ndarray
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.H_b_from_a is not None


def ratio_match(
    desc_a: np.ndarray, desc_b: np.ndarray, ratio: float = RATIO, *, mutual: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour matches passing Lowe's ratio test (optionally mutual).

    Args:
        desc_a: (Na, D) float32; desc_b: (Nb, D) float32.

    Returns:
        ``(idx_a, idx_b)`` int arrays of equal length.
    """
    import cv2

    if len(desc_a) < 2 or len(desc_b) < 2:
        return np.zeros(0, int), np.zeros(0, int)
    bf = cv2.BFMatcher(cv2.NORM_L2)
    knn = bf.knnMatch(desc_a, desc_b, k=2)
    ia, ib = [], []
    for pair in knn:
        if len(pair) == 2 and pair[0].distance < ratio * pair[1].distance:
            ia.append(pair[0].queryIdx)
            ib.append(pair[0].trainIdx)
    ia_arr, ib_arr = np.asarray(ia, int), np.asarray(ib, int)
    if mutual and len(ia_arr):
        back = bf.match(desc_b[ib_arr], desc_a)
        best_a = np.array([m.trainIdx for m in back], int)
        keep = best_a == ia_arr
        # Ensure each b keypoint is used once (mutual best among the candidates).
        ia_arr, ib_arr = ia_arr[keep], ib_arr[keep]
    return ia_arr, ib_arr


def guided_match(
    xy_a: np.ndarray,
    desc_a: np.ndarray,
    xy_b: np.ndarray,
    desc_b: np.ndarray,
    H_b_from_a: np.ndarray,
    radius: float,
    ratio: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """Matches constrained by a predicted homography: only keypoints of ``b`` within
    ``radius`` pixels of the predicted position compete, then a ratio test among them.

    Candidates are found with a uniform grid (cells of ``radius`` pixels), so the cost
    grows with the number of nearby keypoints, not with ``Na * Nb``.

    Args:
        xy_a: (Na, 2); desc_a: (Na, D); xy_b: (Nb, 2); desc_b: (Nb, D).
        H_b_from_a: (3, 3) prediction.
        radius: search radius in ``b`` pixels.
        ratio: best / second-best descriptor distance among the candidates (a single
            candidate passes).

    Returns:
        ``(idx_a, idx_b)`` int arrays, each ``b`` keypoint used at most once.
    """
    empty = (np.zeros(0, int), np.zeros(0, int))
    if len(xy_a) == 0 or len(xy_b) == 0:
        return empty
    pred = apply_h(H_b_from_a, xy_a)
    qa = np.flatnonzero(np.all(np.isfinite(pred), axis=1))
    if len(qa) == 0:
        return empty
    pred = pred[qa]
    xb = np.asarray(xy_b, np.float64)
    cell = float(max(radius, 1.0))
    cb = np.floor(xb / cell).astype(np.int64)
    cq = np.floor(pred / cell).astype(np.int64)
    lo = np.minimum(cb.min(0), cq.min(0)) - 1
    cb -= lo
    cq -= lo
    ncol = int(max(cb[:, 0].max(), cq[:, 0].max())) + 2
    kb = cb[:, 1] * ncol + cb[:, 0]
    order_b = np.argsort(kb, kind="stable")
    kb_sorted = kb[order_b]
    da_all = np.asarray(desc_a, np.float32)
    db_all = np.asarray(desc_b, np.float32)
    r2 = radius * radius
    qi_l, bi_l, d_l = [], [], []
    for s in range(0, len(qa), 1024):
        cqs = cq[s : s + 1024]
        qidx = np.arange(s, s + len(cqs))
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                key = (cqs[:, 1] + dy) * ncol + cqs[:, 0] + dx
                a0 = np.searchsorted(kb_sorted, key, "left")
                a1 = np.searchsorted(kb_sorted, key, "right")
                cnt = a1 - a0
                if cnt.sum() == 0:
                    continue
                q_rep = np.repeat(qidx, cnt)
                offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
                b_rep = order_b[np.repeat(a0, cnt) + offs]
                dxy = pred[q_rep] - xb[b_rep]
                near = (dxy * dxy).sum(1) <= r2
                q_rep, b_rep = q_rep[near], b_rep[near]
                if len(q_rep) == 0:
                    continue
                diff = da_all[qa[q_rep]] - db_all[b_rep]
                qi_l.append(q_rep)
                bi_l.append(b_rep)
                d_l.append(np.sqrt(np.einsum("ij,ij->i", diff, diff)))
    if not qi_l:
        return empty
    qi, bi, d = np.concatenate(qi_l), np.concatenate(bi_l), np.concatenate(d_l)
    o = np.lexsort((d, qi))
    qi, bi, d = qi[o], bi[o], d[o]
    first = np.r_[True, qi[1:] != qi[:-1]]
    pos = np.flatnonzero(first)
    has_second = np.r_[pos[1:] - pos[:-1] > 1, len(qi) - pos[-1] > 1]
    best = d[pos]
    second = np.where(has_second, d[np.minimum(pos + 1, len(d) - 1)], np.inf)
    ok = best < ratio * second
    ia, ib, dist = qa[qi[pos][ok]], bi[pos][ok], best[ok]
    # One match per b keypoint: keep the closest descriptor.
    o = np.lexsort((dist, ib))
    ia, ib = ia[o], ib[o]
    keep = np.r_[True, ib[1:] != ib[:-1]] if len(ib) else np.zeros(0, bool)
    return ia[keep], ib[keep]


def plausible(H: np.ndarray, size_a: tuple[int, int], size_b: tuple[int, int]) -> str | None:
    """Reject degenerate homographies; returns the reason or None when plausible.

    A homography of a photo of a plane keeps orientation (no mirror), does not
    send the photo's corners behind the camera, and changes area by less than 100x.
    """
    from ..geometry import corners, polygon_area

    H = normalize_h(H)
    c = corners(size_a)
    ph = np.c_[c, np.ones(4)] @ H.T
    if np.any(ph[:, 2] <= 0):
        return "the photo would fold over the horizon"
    det = np.linalg.det(H[:2, :2])
    if det <= 0:
        return "the mapping mirrors the photo"
    q = ph[:, :2] / ph[:, 2:3]
    area = polygon_area(q)
    a0 = size_a[0] * size_a[1]
    if not (a0 / 100 < area < a0 * 100):
        return f"implausible scale change ({area / a0:.3g}x area)"
    # Convexity of the mapped outline (a projective map of a plane keeps it convex).
    v = np.roll(q, -1, axis=0) - q
    cross = v[:, 0] * np.roll(v, -1, axis=0)[:, 1] - v[:, 1] * np.roll(v, -1, axis=0)[:, 0]
    if not (np.all(cross > 0) or np.all(cross < 0)):
        return "the mapped photo outline is not convex"
    return None


def estimate_homography(
    pts_a: np.ndarray,
    pts_b: np.ndarray,
    *,
    thresh: float = 3.0,
    size_a: tuple[int, int] | None = None,
    size_b: tuple[int, int] | None = None,
    min_inliers: int = MIN_INLIERS,
    max_iters: int = 10000,
) -> PairMatch:
    """Robust ``H_b_from_a`` from putative correspondences with ``cv2.USAC_MAGSAC``.

    Args:
        pts_a, pts_b: (N, 2) float putative correspondences.
        thresh: MAGSAC threshold (maximum sigma), ``b`` pixels.
        size_a, size_b: ``(w, h)`` of the images, for the plausibility check.
    """
    import cv2

    pa = np.asarray(pts_a, np.float32).reshape(-1, 2)
    pb = np.asarray(pts_b, np.float32).reshape(-1, 2)
    empty = np.zeros((0, 2), np.float32)
    n = len(pa)
    if n < max(min_inliers, 4):
        return PairMatch(None, 0, n, None, empty, empty, f"only {n} putative matches (need {min_inliers})")
    H, mask = cv2.findHomography(pa, pb, cv2.USAC_MAGSAC, thresh, maxIters=max_iters, confidence=0.9999)
    if H is None or mask is None:
        return PairMatch(None, 0, n, None, empty, empty, f"no consistent homography among {n} matches")
    inl = mask.ravel().astype(bool)
    k = int(inl.sum())
    if k < min_inliers:
        return PairMatch(None, k, n, None, empty, empty, f"only {k} inliers of {n} matches (need {min_inliers})")
    H = normalize_h(H)
    if size_a is not None and size_b is not None:
        why = plausible(H, size_a, size_b)
        if why is not None:
            return PairMatch(None, k, n, None, empty, empty, why)
    err = np.linalg.norm(apply_h(H, pa[inl]) - pb[inl], axis=1)
    return PairMatch(H, k, n, float(np.median(err)), pa[inl], pb[inl])


def refit(pts_a: np.ndarray, pts_b: np.ndarray, H0: np.ndarray, thresh: float) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares (Levenberg-Marquardt) refit of ``H_b_from_a`` on the points within ``thresh`` of ``H0``.

    Returns:
        ``(H, inlier_mask)``; ``H0`` itself when too few points agree.
    """
    import cv2

    pa = np.asarray(pts_a, np.float32).reshape(-1, 2)
    pb = np.asarray(pts_b, np.float32).reshape(-1, 2)
    err = np.linalg.norm(apply_h(H0, pa) - pb, axis=1)
    inl = err < thresh
    if inl.sum() < 8:
        return H0, inl
    H, _ = cv2.findHomography(pa[inl], pb[inl], 0)
    if H is None:
        return H0, inl
    return normalize_h(H), inl


#: Keypoints per view used for unguided pair matching (the strongest).
PAIR_FEATURES = 4000


def match_features(
    fa: Features,
    fb: Features,
    *,
    ratio: float = RATIO,
    thresh: float = 3.0,
    min_inliers: int = MIN_INLIERS,
    max_features: int = PAIR_FEATURES,
) -> PairMatch:
    """Unguided matching of two views: ratio test + mutual check + MAGSAC. Returns ``H_b_from_a``.

    Only the ``max_features`` strongest keypoints of each view take part (refinement
    later uses all of them, guided by position).
    """
    fa, fb = fa.strongest(max_features), fb.strongest(max_features)
    ia, ib = ratio_match(fa.desc, fb.desc, ratio)
    # Scale the threshold with the photo size: 3 px on a ~1000 px photo.
    t = thresh * max(1.0, max(fb.size) / 1200)
    return estimate_homography(fa.xy[ia], fb.xy[ib], thresh=t, size_a=fa.size, size_b=fb.size, min_inliers=min_inliers)
