"""A geometric model that follows the wall: homography + regularised thin-plate spline, chosen by held-out error.

A painting on a vault, an apse or a bulging wall is not one plane: one homography maps
part of a view well and the rest several pixels off. This module fits, to the
correspondences between a view and the reference, a homography plus a smooth residual
field (a thin-plate spline, TPS), measures both models on matches they were not fitted to
(k-fold cross-validation) and keeps the spline only where it is genuinely better.

Method:

* Correspondences are first cleaned without assuming a plane: a strongly regularised
  spline is fitted robustly (iterative trimming at 3 robust sigmas, floor ``min_residual``)
  and matches it does not explain are wrong matches (repeated ornaments, noise). What
  is left agrees with *some* smooth mapping; it is the ground truth proxy every model
  is measured on.
* Homography: ``cv2.findHomography`` with ``USAC_MAGSAC`` then a least-squares refit on its
  inliers, as registration fits it.
* Spline: the least-squares homography of the matches, then a thin-plate spline on its
  residuals with a reduced set of centres (one per occupied cell of a grid of at most
  8 x 8), minimising ``sum |f(x_i) - y_i|^2 + lambda N w^T K w`` (the bending energy;
  Wahba, "Spline models for observational data", 1990, ch. 2; Bookstein, PAMI 1989),
  ``lambda`` chosen among :data:`SMOOTHING` by the same cross-validation. kornia's
  ``get_tps_transform`` interpolates exactly (no ``lambda``), which follows every noisy
  match, so the regularised solve is written here; the result is stored in kornia's
  parameterisation (``warp_points_tps`` evaluates it).
* Both directions are fitted to the same matches, both on the reference plane (``forward``:
  homography's prediction -> true position; ``inverse``: true position -> homography's
  prediction); their round-trip error is measured and stored.

Convention:
    Points are ``(N, 2)`` float64 pixels ``(x, y)`` of the original photos, pixel centres at
    integers. Errors are in reference-plane pixels (original pixels of the reference photo).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..geometry import apply_h, invert, normalize_h
from ..project.model import Deformation, HeldOutError, Registration, ThinPlateSpline, _kernel

log = logging.getLogger(__name__)

#: Candidate regularisation weights (coordinates normalised to about [-1, 1]), chosen by cross-validation.
SMOOTHING: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3)
#: Regularisation of the robust spline that separates wrong matches from correct ones.
FILTER_SMOOTHING = 1e-4
#: Folds of the cross-validation.
FOLDS = 5
#: Fewest clean matches for a spline (fewer: the homography is kept and the reason noted).
MIN_MATCHES_TPS = 60
#: Most kernel centres per spline (one per occupied cell of a grid of at most 8 x 8).
MAX_CENTERS = 64
#: Cells of the error grid over a view (rows = cols).
GRID = 8


@dataclass(frozen=True)
class ModelChoice:
    """Outcome of :func:`choose_model`.

    Attributes:
        H_ref_from_view: (3, 3) the homography of the chosen model (the base of the spline, if any).
        deformation: the spline, or None when the homography alone is kept.
        heldout: the held-out error of the chosen model.
        note: why (e.g. too few matches for a spline), or empty.
        clean: (N,) bool, the input matches that agree with a smooth mapping.
        errors: (N,) float64 held-out error of the chosen model per input match (NaN for rejected ones).
    """

    H_ref_from_view: np.ndarray
    deformation: Deformation | None
    heldout: HeldOutError
    note: str
    clean: np.ndarray
    errors: np.ndarray


# --------------------------------------------------------------------------- thin-plate spline


def grid_centers(points: np.ndarray, max_centers: int = MAX_CENTERS, per_center: int = 12) -> np.ndarray:
    """Kernel centres: the mean of the points in each occupied cell of a regular grid over them.

    Args:
        points: (N, 2) float.
        max_centers: at most this many centres (grid of at most ``sqrt(max_centers)`` per side).
        per_center: aim for about this many points per centre.

    Returns:
        (K, 2) float64, ``K <= max_centers``.
    """
    p = np.asarray(points, np.float64).reshape(-1, 2)
    g = int(np.clip(np.floor(np.sqrt(len(p) / per_center)), 2, np.sqrt(max_centers)))
    lo, hi = p.min(0), p.max(0)
    span = np.maximum(hi - lo, 1e-9)
    cell = np.minimum((p - lo) / span * g, g - 1).astype(int)
    key = cell[:, 1] * g + cell[:, 0]
    out = []
    for k in np.unique(key):
        out.append(p[key == k].mean(0))
    return np.asarray(out, np.float64)


class SplineSystem:
    """The normal equations of a regularised thin-plate spline on fixed inputs and centres.

    Building the kernel matrices is the costly part; once built, fits for several targets and
    regularisation weights are cheap (:meth:`fit`).

    Args:
        src: (N, 2) float pixels, the spline's inputs.
        centers: (K, 2) kernel centres; default :func:`grid_centers` of ``src``.
        weights: (N,) non-negative sample weights; default all 1.
    """

    def __init__(self, src: np.ndarray, centers: np.ndarray | None = None, weights: np.ndarray | None = None):
        x = np.asarray(src, np.float64).reshape(-1, 2)
        c = grid_centers(x) if centers is None else np.asarray(centers, np.float64).reshape(-1, 2)
        om = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
        self.c, self.om = c, om
        self.m = c.mean(0)
        self.s = float(max(np.abs(x - self.m).max(), 1e-9))
        xn, cn = (x - self.m) / self.s, (c - self.m) / self.s
        A = _kernel(((xn[:, None] - cn[None]) ** 2).sum(-1))  # (N, K)
        P = np.c_[np.ones(len(xn)), xn]  # (N, 3)
        k = len(cn)
        self.k = k
        self.Aw, self.Pw = A * om[:, None], P * om[:, None]
        L = np.zeros((k + 6, k + 6))
        L[:k, :k] = A.T @ self.Aw
        L[:k, k : k + 3] = A.T @ self.Pw
        L[k : k + 3, :k] = P.T @ self.Aw
        L[k : k + 3, k : k + 3] = P.T @ self.Pw
        Pc = np.c_[np.ones(k), cn]
        L[:k, k + 3 :] = Pc
        L[k + 3 :, :k] = Pc.T
        self.L = L
        self.Kc = _kernel(((cn[:, None] - cn[None]) ** 2).sum(-1))

    def fit(self, dst: np.ndarray, smoothing: float) -> ThinPlateSpline:
        """The spline with ``f(src) ~ dst`` for regularisation weight ``smoothing`` (see :func:`fit_tps`)."""
        k, m, s, c = self.k, self.m, self.s, self.c
        yn = (np.asarray(dst, np.float64).reshape(-1, 2) - m) / s
        L = self.L.copy()
        L[:k, :k] += smoothing * self.om.sum() * self.Kc
        rhs = np.zeros((k + 6, 2))
        rhs[:k] = self.Aw.T @ yn
        rhs[k : k + 3] = self.Pw.T @ yn
        sol = _solve(L, rhs)
        w, a = sol[:k], sol[k : k + 3]
        # Back to pixels: U(r/s) = U(r)/s^2 - log(s) r^2/s^2, and sum_k w_k |x - c_k|^2 = sum_k w_k |c_k|^2
        # under the side conditions, so the kernel weights scale by 1/s and the constant absorbs the rest.
        kappa = (w * (c**2).sum(1)[:, None]).sum(0)
        aw = np.empty((3, 2))
        aw[1:] = a[1:]
        aw[0] = m + s * a[0] - m @ a[1:] - np.log(s) / s * kappa
        return ThinPlateSpline(c, w / s, aw)


def fit_tps(
    src: np.ndarray,
    dst: np.ndarray,
    *,
    smoothing: float,
    centers: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> ThinPlateSpline:
    """Regularised least-squares thin-plate spline ``f`` with ``f(src) ~ dst``.

    Solves ``min sum_i weights_i |f(src_i) - dst_i|^2 + smoothing * sum(weights) * w^T K w`` subject
    to ``P_c^T w = 0`` (the spline's kernel part has no affine component), in coordinates
    normalised to about [-1, 1], then expresses the result in pixels (exactly: a TPS stays a
    TPS under a similarity of its domain).

    Args:
        src, dst: (N, 2) float pixels, N >= 3.
        smoothing: ``lambda`` >= 0 (normalised units); 0 with ``centers = src`` interpolates.
        centers: (K, 2) kernel centres; default :func:`grid_centers` of ``src``.
        weights: (N,) non-negative sample weights; default all 1.

    Returns:
        The spline in pixels, kornia's parameterisation.
    """
    return SplineSystem(src, centers, weights).fit(dst, smoothing)


def _solve(L: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(L, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(L, rhs, rcond=None)[0]


# --------------------------------------------------------------------------- the two models


def fit_homography(pv: np.ndarray, pr: np.ndarray, thresh: float) -> np.ndarray | None:
    """Robust ``H_ref_from_view`` as registration fits it: MAGSAC (``thresh`` px) + least-squares refit.

    Returns None when no homography is found.
    """
    import cv2

    a, b = np.asarray(pv, np.float32), np.asarray(pr, np.float32)
    if len(a) < 8:
        return None
    H, mask = cv2.findHomography(a, b, cv2.USAC_MAGSAC, thresh, maxIters=2000, confidence=0.999)
    if H is None or mask is None:
        return None
    inl = mask.ravel().astype(bool)
    if inl.sum() >= 8:
        H2, _ = cv2.findHomography(a[inl], b[inl], 0)
        if H2 is not None:
            H = H2
    return normalize_h(H)


def fit_spline_model(
    pv: np.ndarray,
    pr: np.ndarray,
    smoothing: float,
    base: np.ndarray,
    *,
    both: bool = False,
) -> tuple[ThinPlateSpline, ThinPlateSpline | None]:
    """A spline correcting the homography ``base``: ``pr ~ f(base pv)`` (and ``base pv ~ g(pr)``).

    The base is the homography registration found: where the wall is its plane the spline has
    nothing to correct, so it changes nothing there.

    Returns:
        ``(forward, inverse)`` splines on the reference plane (the second only with ``both``).
    """
    q = apply_h(base, pv)
    fwd = fit_tps(q, pr, smoothing=smoothing)
    inv = fit_tps(pr, q, smoothing=smoothing) if both else None
    return fwd, inv


def spline_ref_from_view(H: np.ndarray, tps: ThinPlateSpline | None, pv: np.ndarray) -> np.ndarray:
    """Map view points to the reference plane: ``tps(H pv)`` (``H`` alone without a spline)."""
    q = apply_h(H, pv)
    return q if tps is None else tps.apply(q)


# --------------------------------------------------------------------------- cleaning and cross-validation


def clean_matches(pv: np.ndarray, pr: np.ndarray, base: np.ndarray, min_residual: float, iters: int = 5) -> np.ndarray:
    """(N,) bool: matches that agree with a smooth mapping (no plane assumed).

    A strongly regularised spline correcting ``base`` is fitted, matches farther from it than
    ``max(3 * 1.4826 * MAD, min_residual)`` (reference pixels) are dropped and the fit repeated
    (a dropped match comes back when a later fit explains it). The first fit uses the matches
    whose residual under ``base`` is below ``max(12 * min_residual, 3 * its 75th percentile)``.
    """
    pv = np.asarray(pv, np.float64)
    pr = np.asarray(pr, np.float64)
    n = len(pv)
    if n < 12:
        return np.ones(n, bool)
    q = apply_h(base, pv)
    e0 = np.linalg.norm(q - pr, axis=1)
    keep = e0 < max(12 * min_residual, 3 * float(np.percentile(e0, 75)))
    if keep.sum() < 12:
        return np.ones(n, bool)
    for _ in range(iters):
        tps = fit_tps(q[keep], pr[keep], smoothing=FILTER_SMOOTHING)
        e = np.linalg.norm(tps.apply(q) - pr, axis=1)
        sigma = 1.4826 * float(np.median(e[keep]))
        new = e < max(3.0 * sigma, min_residual)
        if new.sum() < 12:
            break
        if np.array_equal(new, keep):
            break
        keep = new
    return keep


def folds_of(n: int, k: int = FOLDS) -> np.ndarray:
    """(n,) fold index 0..k-1, deterministic (a fixed permutation), balanced."""
    return np.random.default_rng(0).permutation(n) % k


def cross_validate(
    pv: np.ndarray, pr: np.ndarray, thresh: float, smoothings: tuple[float, ...] = ()
) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """Held-out errors of the homography and of homography + spline, for every match.

    Each fold's matches are held out once; on the other folds the homography is fitted as
    registration fits it (:func:`fit_homography`, MAGSAC at ``thresh`` + least squares) and the
    spline on its residuals (one fit per smoothing weight, same centres).

    Args:
        pv, pr: (N, 2) clean matches, view and reference pixels.
        thresh: MAGSAC threshold, reference pixels.
        smoothings: spline regularisation weights to evaluate (none: the homography only).

    Returns:
        ``(e_h, e_s)``: (N,) float64 distances, reference pixels, of the homography, and smoothing ->
        (N,) of the spline (``inf`` where a fold could not be fitted).
    """
    n = len(pv)
    f = folds_of(n)
    e_h = np.full(n, np.inf)
    e_s = {lam: np.full(n, np.inf) for lam in smoothings}
    for k in range(FOLDS):
        te = f == k
        tr = ~te
        if not te.any() or tr.sum() < 8:
            continue
        H = fit_homography(pv[tr], pr[tr], thresh)
        if H is None:
            continue
        q_te = apply_h(H, pv[te])
        e_h[te] = np.linalg.norm(q_te - pr[te], axis=1)
        if smoothings and tr.sum() >= 12:
            system = SplineSystem(apply_h(H, pv[tr]))
            for lam in smoothings:
                e_s[lam][te] = np.linalg.norm(system.fit(pr[tr], lam).apply(q_te) - pr[te], axis=1)
    return e_h, e_s


def summarise(
    errors: np.ndarray,
    pv: np.ndarray,
    view_size: tuple[int, int],
    sees_ref: Callable[[np.ndarray], np.ndarray] | None = None,
    method: str = "",
    models: dict[str, tuple[float, float]] | None = None,
    grid: int = GRID,
) -> HeldOutError:
    """Summary of per-match held-out errors: median, p90, a ``grid x grid`` map over the view, coverage.

    Args:
        errors: (N,) reference pixels; pv: (N, 2) view pixels of the matches.
        sees_ref: ``sees_ref(points) -> (M,) bool``, whether view points land inside the reference
            photo (for the coverage); default every cell counts.
    """
    w, h = view_size
    e = np.asarray(errors, np.float64)
    ok = np.isfinite(e)
    e, p = e[ok], np.asarray(pv, np.float64)[ok]
    col = np.clip((p[:, 0] + 0.5) / w * grid, 0, grid - 1).astype(int)
    row = np.clip((p[:, 1] + 0.5) / h * grid, 0, grid - 1).astype(int)
    centres = np.array(
        [[(c + 0.5) * w / grid - 0.5, (r + 0.5) * h / grid - 0.5] for r in range(grid) for c in range(grid)]
    )
    inside = sees_ref(centres) if sees_ref is not None else np.ones(len(centres), bool)
    g90: list[tuple[float | None, ...]] = []
    gn: list[tuple[int, ...]] = []
    worst: tuple[float, float, float] | None = None
    covered = 0
    for r in range(grid):
        vals: list[float | None] = []
        cnts: list[int] = []
        for c in range(grid):
            sel = (row == r) & (col == c)
            cnt = int(sel.sum())
            cnts.append(cnt)
            if cnt < 3:
                vals.append(None)
                continue
            v = round(float(np.percentile(e[sel], 90)), 3)
            vals.append(v)
            if worst is None or v > worst[2]:
                x, y = centres[r * grid + c]
                worst = (round(float(x), 1), round(float(y), 1), v)
            covered += int(inside[r * grid + c])
        g90.append(tuple(vals))
        gn.append(tuple(cnts))
    n_in = int(inside.sum())
    return HeldOutError(
        median=round(float(np.median(e)), 3) if len(e) else float("inf"),
        p90=round(float(np.percentile(e, 90)), 3) if len(e) else float("inf"),
        n=len(e),
        coverage=round(min(1.0, covered / n_in), 3) if n_in else 0.0,
        grid_p90=tuple(g90),
        grid_n=tuple(gn),
        worst=worst,
        method=method,
        models=dict(models or {}),
    )


#: The homography is kept without trying a spline when its held-out p90 is within this (matching pixels).
TOLERANCE_PX = 1.0
#: A spline must bring the held-out p90 to at most this fraction of the homography's to be chosen.
GAIN = 0.75


def _stats(e: np.ndarray) -> tuple[float, float]:
    """(median, p90) of finite errors; ``inf`` when more than a fifth failed."""
    f = e[np.isfinite(e)]
    if not len(f) or len(f) < 0.8 * len(e):
        return float("inf"), float("inf")
    return round(float(np.median(f)), 3), round(float(np.percentile(f, 90)), 3)


def choose_model(
    pv: np.ndarray,
    pr: np.ndarray,
    H_registered: np.ndarray,
    view_size: tuple[int, int],
    *,
    px: float = 1.0,
    allow_spline: bool = True,
    sees_ref: Callable[[np.ndarray], np.ndarray] | None = None,
) -> ModelChoice:
    """Measure the homography on held-out matches and, where it does not explain them, fit a spline.

    Args:
        pv, pr: (N, 2) putative correspondences between the view and the reference (original
            pixels), gathered over the whole overlap (wrong ones included: they are cleaned here).
        H_registered: (3, 3) the homography registration found: kept when it wins, the base of
            the spline otherwise.
        view_size: ``(w, h)`` of the view.
        px: reference-plane pixels per pixel of the image features were matched on (thresholds
            are in matching pixels and scaled by this).
        allow_spline: False: measure the homography only.
        sees_ref: see :func:`summarise`.

    Returns:
        The :class:`ModelChoice`. A spline is tried when the homography's held-out p90 is above
        :data:`TOLERANCE_PX` and chosen when its own is at most :data:`GAIN` times the homography's;
        with fewer than :data:`MIN_MATCHES_TPS` clean matches the homography is kept and ``note``
        says so.
    """
    pv = np.asarray(pv, np.float64).reshape(-1, 2)
    pr = np.asarray(pr, np.float64).reshape(-1, 2)
    H_registered = normalize_h(H_registered)
    clean = clean_matches(pv, pr, H_registered, min_residual=2.0 * px)
    cv_, cr = pv[clean], pr[clean]
    thr = 1.0 * px
    e_h, _ = cross_validate(cv_, cr, thr)
    models = {"homography": _stats(e_h)}
    p90_h = models["homography"][1]
    errors = np.full(len(pv), np.nan)
    note = ""
    method = f"{FOLDS}-fold cross-validation"
    wants_spline = allow_spline and p90_h > TOLERANCE_PX * px
    if wants_spline and len(cv_) < MIN_MATCHES_TPS:
        note = f"homography kept: too few matches for a deformable model ({len(cv_)} < {MIN_MATCHES_TPS})"
    elif wants_spline:
        _, e_s = cross_validate(cv_, cr, thr, SMOOTHING)
        lam = min(SMOOTHING, key=lambda k: _stats(e_s[k])[1])
        models["tps"] = _stats(e_s[lam])
        if models["tps"][1] <= GAIN * p90_h:
            fwd, inv = fit_spline_model(cv_, cr, lam, H_registered, both=True)
            assert inv is not None
            q = apply_h(H_registered, cv_)
            inv_err = round(float(np.percentile(np.linalg.norm(inv.apply(fwd.apply(q)) - q, axis=1), 90)), 3)
            dfm = Deformation("tps", fwd, inv, lam, inv_err)
            errors[clean] = e_s[lam]
            ho = summarise(e_s[lam], cv_, view_size, sees_ref, method, models)
            return ModelChoice(H_registered, dfm, ho, note, clean, errors)
    errors[clean] = e_h
    ho = summarise(e_h, cv_, view_size, sees_ref, method, models)
    return ModelChoice(H_registered, None, ho, note, clean, errors)


# --------------------------------------------------------------------------- dense maps


def sample_map(
    fn: Callable[[np.ndarray], np.ndarray],
    H_src_from_dst: np.ndarray,
    dst_size: tuple[int, int],
    *,
    step: int = 8,
    smooth: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``cv2.remap`` maps of a smooth mapping ``fn`` from destination to source pixels.

    The projective part ``H_src_from_dst`` is evaluated exactly at every pixel; the smooth
    correction ``fn(p) - H_src_from_dst p`` is evaluated every ``step`` pixels and interpolated
    bilinearly (it varies slowly: a spline on a wall's shape), which keeps the cost of a
    spline independent of its number of centres.

    Args:
        fn: ``fn(points (N, 2)) -> (N, 2)`` destination pixels -> source pixels (NaN: undefined).
        H_src_from_dst: (3, 3) its projective part.
        dst_size: ``(W, H)``.
        step: spacing of the correction's samples, pixels; ``smooth=False`` evaluates ``fn`` everywhere.

    Returns:
        ``(map_x, map_y)``: (H, W) float32 source coordinates of every destination pixel centre.
    """
    import cv2

    W, Hh = int(dst_size[0]), int(dst_size[1])
    xs = np.arange(W, dtype=np.float64)
    ys = np.arange(Hh, dtype=np.float64)[:, None]
    Hm = np.asarray(H_src_from_dst, np.float64)
    den = Hm[2, 0] * xs + Hm[2, 1] * ys + Hm[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (Hm[0, 0] * xs + Hm[0, 1] * ys + Hm[0, 2]) / den
        my = (Hm[1, 0] * xs + Hm[1, 1] * ys + Hm[1, 2]) / den
    mx[den <= 0] = np.nan
    my[den <= 0] = np.nan
    if not smooth or step <= 1:
        g = np.stack(np.meshgrid(xs, ys[:, 0]), -1).reshape(-1, 2)
        q = fn(g).reshape(Hh, W, 2)
        return q[..., 0].astype(np.float32), q[..., 1].astype(np.float32)
    gx = np.arange(0, W - 1 + step, step, dtype=np.float64)
    gy = np.arange(0, Hh - 1 + step, step, dtype=np.float64)
    g = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
    corr = (fn(g) - apply_h(Hm, g)).reshape(len(gy), len(gx), 2).astype(np.float32)
    corr = np.nan_to_num(corr, nan=0.0)
    ux = (np.arange(W, dtype=np.float32) / step)[None, :].repeat(Hh, 0)
    uy = (np.arange(Hh, dtype=np.float32) / step)[:, None].repeat(W, 1)
    cx = cv2.remap(corr[..., 0], ux, uy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cy = cv2.remap(corr[..., 1], ux, uy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return (mx + cx).astype(np.float32), (my + cy).astype(np.float32)


# --------------------------------------------------------------------------- registrations


def ref_from_view(reg: Registration, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) original view pixels of a registered view to reference-plane pixels (its full model).

    Raises:
        ValueError: the view is not registered.
    """
    if reg.H_ref_from_view is None:
        raise ValueError(f"view '{reg.view_id}' is not registered")
    q = apply_h(reg.H_ref_from_view, points)
    return q if reg.deformation is None else reg.deformation.forward(q)


def view_from_ref(reg: Registration, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) reference-plane pixels to original pixels of a registered view (its full model).

    Raises:
        ValueError: the view is not registered.
    """
    if reg.H_ref_from_view is None:
        raise ValueError(f"view '{reg.view_id}' is not registered")
    q = np.asarray(points, np.float64).reshape(-1, 2)
    if reg.deformation is not None:
        q = reg.deformation.inverse(q)
    return apply_h(invert(reg.H_ref_from_view), q)


def propagate(own: HeldOutError, parent: HeldOutError, parent_id: str) -> HeldOutError:
    """Error of a view measured against its tree parent, plus the parent's own p90 (an upper bound).

    The view's matches were mapped to the reference through the parent's model, whose error adds
    to the link's: every figure (median, p90, cells) is increased by the parent's p90.
    """
    add = parent.p90

    def up(v: float | None) -> float | None:
        return None if v is None else round(v + add, 3)

    return HeldOutError(
        median=round(own.median + add, 3),
        p90=round(own.p90 + add, 3),
        n=own.n,
        coverage=own.coverage,
        grid_p90=tuple(tuple(up(v) for v in r) for r in own.grid_p90),
        grid_n=own.grid_n,
        worst=None if own.worst is None else (own.worst[0], own.worst[1], round(own.worst[2] + add, 3)),
        method=f"{own.method} against {parent_id}, plus its error (p90 {parent.p90:.2f} px)",
        models={k: (round(v[0] + add, 3), round(v[1] + add, 3)) for k, v in own.models.items()},
    )
