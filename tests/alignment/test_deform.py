"""The deformable model: thin-plate splines, cleaning, held-out error and the choice of model.

Ground truth here is a known mapping (a homography, or a homography bent by a smooth field
like a vault's); every assertion compares with it, never with a stored number.
"""

from __future__ import annotations

import numpy as np
import pytest

from multiview.alignment.deform import (
    GAIN,
    MIN_MATCHES_TPS,
    choose_model,
    clean_matches,
    cross_validate,
    fit_tps,
    propagate,
    summarise,
)
from multiview.errors import ValidationError
from multiview.geometry import apply_h
from multiview.project.model import Deformation, HeldOutError, ThinPlateSpline

H_TRUE = np.array([[0.9, 0.08, 30.0], [-0.05, 1.05, 12.0], [2e-4, 1e-4, 1.0]])
SIZE = (800, 600)


def bent(p: np.ndarray, amp: float = 14.0) -> np.ndarray:
    """A homography followed by a smooth bend, like a wall curving away (reference pixels)."""
    q = apply_h(H_TRUE, p)
    x = (q[:, 0] - 400.0) / 400.0
    return np.c_[q[:, 0] + amp * x**3, q[:, 1] + amp * 0.8 * (x**2 - 0.3)]


def matches(fn, n: int, noise: float, outliers: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pv = rng.uniform([0, 0], SIZE, (n, 2))
    pr = fn(pv) + rng.normal(0, noise, (n, 2))
    bad = rng.random(n) < outliers
    pr[bad] += rng.uniform(-25, 25, (int(bad.sum()), 2))
    return pv, pr, bad


def test_spline_is_kornias_thin_plate_spline() -> None:
    torch = pytest.importorskip("torch")
    from kornia.geometry.transform import warp_points_tps

    rng = np.random.default_rng(3)
    src = rng.uniform(0, 500, (200, 2))
    tps = fit_tps(src, src + rng.normal(0, 4, src.shape), smoothing=1e-5)
    q = rng.uniform(-50, 550, (40, 2))
    ours = tps.apply(q)
    theirs = warp_points_tps(
        torch.from_numpy(q)[None],
        torch.from_numpy(tps.centers)[None],
        torch.from_numpy(tps.kernel_weights)[None],
        torch.from_numpy(tps.affine_weights)[None],
    )[0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_spline_interpolates_without_smoothing_and_smooths_noise() -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 800, (30, 2))
    dst = bent(src)
    exact = fit_tps(src, dst, smoothing=0.0, centers=src)
    assert np.abs(exact.apply(src) - dst).max() < 1e-6
    pv, pr, _ = matches(bent, 600, noise=0.5, outliers=0.0)
    smooth = fit_tps(apply_h(H_TRUE, pv), pr, smoothing=1e-5)
    test = rng.uniform([0, 0], SIZE, (500, 2))
    err = np.linalg.norm(smooth.apply(apply_h(H_TRUE, test)) - bent(test), axis=1)
    assert np.median(err) < 0.3 and np.percentile(err, 90) < 0.6  # below the 0.5 px noise of the data


def test_clean_matches_removes_wrong_matches_not_the_bend() -> None:
    pv, pr, bad = matches(bent, 1500, noise=0.4, outliers=0.3)
    keep = clean_matches(pv, pr, H_TRUE, min_residual=2.0)
    assert keep[~bad].mean() > 0.95  # the bend is not mistaken for wrong matches
    e = np.linalg.norm(pr - bent(pv), axis=1)
    assert (keep & bad & (e > 4)).sum() < 0.02 * bad.sum()  # wrong matches that are visibly wrong go


def test_cross_validation_measures_the_homography_where_it_fails() -> None:
    pv, pr, _ = matches(bent, 1000, noise=0.3, outliers=0.0)
    e_h, e_s = cross_validate(pv, pr, thresh=1.0, smoothings=(1e-5,))
    # The homography misses the bend by several pixels on held-out matches; the spline does not.
    assert np.percentile(e_h, 90) > 3.0
    assert np.percentile(e_s[1e-5], 90) < 1.0


def test_planar_wall_keeps_the_homography() -> None:
    pv, pr, _ = matches(lambda p: apply_h(H_TRUE, p), 1200, noise=0.3, outliers=0.2)
    ch = choose_model(pv, pr, H_TRUE, SIZE)
    assert ch.deformation is None
    assert ch.heldout.p90 < 1.0 and ch.heldout.n > 800
    assert ch.heldout.coverage > 0.9
    np.testing.assert_allclose(ch.H_ref_from_view, H_TRUE)


def test_bent_wall_gets_a_spline_that_follows_it_both_ways() -> None:
    pv, pr, _ = matches(bent, 1500, noise=0.3, outliers=0.2)
    ch = choose_model(pv, pr, H_TRUE, SIZE)
    d = ch.deformation
    assert d is not None and d.kind == "tps"
    assert ch.heldout.models["tps"][1] <= GAIN * ch.heldout.models["homography"][1]
    test = np.random.default_rng(9).uniform([20, 20], np.array(SIZE) - 20, (400, 2))
    truth = bent(test)
    fwd = d.forward(apply_h(ch.H_ref_from_view, test))
    err = np.linalg.norm(fwd - truth, axis=1)
    assert np.percentile(err, 90) < 0.8
    # The honest figure bounds the real error from above: it also holds the matches' own noise
    # (0.3 px per axis: p90 of its length about 0.64 px), and not much more.
    assert np.percentile(err, 90) < ch.heldout.p90 < np.hypot(np.percentile(err, 90), 0.64) + 0.15
    # The inverse takes the wall's points back to the view.
    back = apply_h(np.linalg.inv(ch.H_ref_from_view), d.inverse(truth))
    assert np.percentile(np.linalg.norm(back - test, axis=1), 90) < 0.8
    assert d.inverse_error is not None and d.inverse_error < 0.5


def test_too_few_matches_falls_back_to_the_homography_and_says_so() -> None:
    pv, pr, _ = matches(bent, MIN_MATCHES_TPS - 15, noise=0.3, outliers=0.0)
    ch = choose_model(pv, pr, H_TRUE, SIZE)
    assert ch.deformation is None
    assert "too few matches" in ch.note


def test_spline_only_when_allowed() -> None:
    pv, pr, _ = matches(bent, 800, noise=0.3, outliers=0.0)
    ch = choose_model(pv, pr, H_TRUE, SIZE, allow_spline=False)
    assert ch.deformation is None and "tps" not in ch.heldout.models
    assert ch.heldout.p90 > 3.0  # the homography's honest error is still reported


def test_summary_grid_locates_the_worst_cell() -> None:
    rng = np.random.default_rng(2)
    pv = rng.uniform([0, 0], SIZE, (4000, 2))
    err = np.full(len(pv), 0.3)
    corner = (pv[:, 0] > 700) & (pv[:, 1] > 525)  # bottom-right cell of an 8 x 8 grid
    err[corner] = 5.0
    ho = summarise(err, pv, SIZE)
    assert ho.worst is not None and ho.worst[0] > 700 and ho.worst[1] > 525 and ho.worst[2] == pytest.approx(5.0)
    assert ho.grid_p90[7][7] == pytest.approx(5.0) and ho.grid_p90[0][0] == pytest.approx(0.3)
    local = ho.local_p90(SIZE, (720, 540, 790, 590))
    assert local is not None and local[0] == pytest.approx(5.0)
    assert ho.local_p90(SIZE, (10, 10, 90, 60))[0] == pytest.approx(0.3)  # type: ignore[index]


def test_chained_error_adds_the_parents() -> None:
    own = HeldOutError(
        0.4, 1.0, 100, 0.8, ((1.0, None),), ((50, 0),), (10.0, 10.0, 1.0), "5-fold", {"homography": (0.4, 1.0)}
    )
    parent = HeldOutError(0.2, 0.5, 80, 0.9)
    out = propagate(own, parent, "IMG_2.jpg")
    assert out.median == pytest.approx(0.9) and out.p90 == pytest.approx(1.5)
    assert out.grid_p90[0][0] == pytest.approx(1.5) and out.grid_p90[0][1] is None
    assert "IMG_2.jpg" in out.method


def test_json_round_trip_and_protocol() -> None:
    pv, pr, _ = matches(bent, 800, noise=0.3, outliers=0.0)
    ch = choose_model(pv, pr, H_TRUE, SIZE)
    d = ch.deformation
    assert d is not None
    d2 = Deformation.from_json(d.to_json())
    q = np.random.default_rng(0).uniform(0, 800, (50, 2))
    np.testing.assert_allclose(d2.forward(q), d.forward(q), atol=1e-6)
    np.testing.assert_allclose(d2.inverse(q), d.inverse(q), atol=1e-6)
    assert d2.key() == d.key()
    h2 = HeldOutError.from_json(ch.heldout.to_json())
    assert h2.p90 == ch.heldout.p90 and h2.grid_p90 == ch.heldout.grid_p90 and h2.worst == ch.heldout.worst
    with pytest.raises(ValidationError, match="thin-plate spline"):
        ThinPlateSpline(np.zeros((3, 2)), np.zeros((2, 2)), np.zeros((3, 2)))
