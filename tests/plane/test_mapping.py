"""The per-view mapping onto the reference plane: homography path, dense path, project access."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from multiview.errors import AlignmentError
from multiview.geometry import apply_h, compose, corners, invert, warp_prob
from multiview.plane import PlaneCanvas, ViewMapping, mapping, mappings, warp_between
from multiview.raster import scale_between

H_A = np.array([[0.9, 0.05, 30.0], [-0.03, 1.1, -12.0], [2e-4, -1e-4, 1.0]])
H_B = np.array([[1.2, -0.02, -40.0], [0.04, 0.95, 25.0], [-1e-4, 2e-4, 1.0]])
#: A similarity on the plane, used as a "residual": the dense path must then match the homography G @ H.
G = np.array([[1.01, 0.02, 3.0], [-0.02, 1.01, -2.0], [0.0, 0.0, 1.0]])


class SimilarityResidual:
    """A residual that happens to be linear, so the exact answer is known (the dense path does not know)."""

    def forward(self, points: np.ndarray) -> np.ndarray:
        return apply_h(G, points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        return apply_h(invert(G), points)

    def key(self) -> bytes:
        return G.tobytes()


def _map(H: np.ndarray, residual=None, size=(400, 300), work=(200, 150)) -> ViewMapping:
    return ViewMapping("v.jpg", size, work, (420, 320), H, residual)


def _blob(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (w // 2, h // 2), (w // 4, h // 5), 20, 0, 360, 255, -1)
    return cv2.GaussianBlur(m, (0, 0), 1.5)


def test_homography_path_is_the_composed_warp_perspective():
    """Two homographies: one warpPerspective of S_dst @ inv(H_dst) @ H_src @ S_src, bit for bit."""
    a, b = _map(H_A), _map(H_B, size=(500, 380), work=(250, 190))
    prob = _blob(a.work_size)
    got, valid = warp_between(a, b, prob)
    H = compose(scale_between(b.size, b.work_size), invert(H_B), H_A, scale_between(a.work_size, a.size))
    want, want_valid = warp_prob(prob, H, b.work_size)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(valid, want_valid)
    assert a.is_homography and b.is_homography


def test_points_go_both_ways_in_every_geometry():
    a = _map(H_A)
    canvas = PlaneCanvas((210, 160), scale_between((420, 320), (210, 160)))
    p = np.array([[0.0, 0.0], [123.4, 56.7], [399.0, 299.0]])
    np.testing.assert_allclose(a.to_ref(p), apply_h(H_A, p))
    np.testing.assert_allclose(a.from_ref(a.to_ref(p)), p, atol=1e-9)
    # The working copy's pixel-grid border is the photo's.
    np.testing.assert_allclose(a.to_ref(corners(a.work_size), "work"), a.to_ref(corners(a.size)), atol=1e-9)
    q = a.to_ref(p, "orig", canvas)
    np.testing.assert_allclose(a.from_ref(q, "orig", canvas), p, atol=1e-9)
    np.testing.assert_allclose(a.from_ref(q, (800, 600), canvas), apply_h(scale_between(a.size, (800, 600)), p))


@pytest.mark.parametrize("geometry", ["orig", "work"])
def test_dense_path_matches_the_equivalent_homography(geometry):
    """A mapping with a residual goes through cv2.remap; with a linear residual it equals warpPerspective of G @ H."""
    dense = _map(H_A, SimilarityResidual())
    exact = _map(compose(G, H_A))
    assert not dense.is_homography
    canvas = PlaneCanvas((210, 160), scale_between((420, 320), (210, 160)))
    prob = _blob(dense.geometry_size(geometry))

    got, valid = dense.warp_to_ref(prob, canvas, geometry=geometry)
    want, want_valid = exact.warp_to_ref(prob, canvas, geometry=geometry)
    assert (valid != want_valid).mean() < 0.002  # only pixel centres on the border can differ
    both = valid & want_valid
    assert np.abs(got[both] - want[both]).max() < 0.02

    back, bvalid = dense.warp_from_ref(want, canvas, geometry=geometry)
    wback, wbvalid = exact.warp_from_ref(want, canvas, geometry=geometry)
    assert (bvalid != wbvalid).mean() < 0.002
    assert np.abs(back[bvalid & wbvalid] - wback[bvalid & wbvalid]).max() < 0.02

    np.testing.assert_allclose(dense.to_ref(corners(dense.size)), exact.to_ref(corners(dense.size)), atol=1e-9)
    m = prob >= 128
    assert dense.area_on_ref(m, geometry) == pytest.approx(exact.area_on_ref(m, geometry), rel=1e-3)
    outline = dense.outline_on_ref()
    assert outline.shape == (64, 2)
    assert (
        cv2.pointPolygonTest(exact.outline_on_ref().astype(np.float32), tuple(float(v) for v in outline.mean(0)), False)
        > 0
    )


def test_dense_path_between_views_and_images():
    a, b = _map(H_A, SimilarityResidual()), _map(H_B, size=(500, 380), work=(250, 190))
    a_exact = _map(compose(G, H_A))
    prob = _blob(a.work_size)
    got, valid = warp_between(a, b, prob)
    want, want_valid = warp_between(a_exact, b, prob)
    both = valid & want_valid
    assert both.mean() > 0.2 and np.abs(got[both] - want[both]).max() < 0.02

    canvas = PlaneCanvas((420, 320), np.eye(3))
    img = np.dstack([_blob(a.work_size)] * 3)
    out, ok = a.warp_image_to_ref(img, canvas, fill=(7, 7, 7))
    ref, ref_ok = a_exact.warp_image_to_ref(img, canvas, fill=(7, 7, 7))
    assert out.shape == ref.shape == (320, 420, 3)
    assert (ok != ref_ok).mean() < 0.002 and (out[~ok] == 7).mean() > 0.95  # fill outside (bilinear at the edge)
    assert np.abs(out[ok & ref_ok].astype(int) - ref[ok & ref_ok]).max() <= 3


def test_project_mappings(tmp_path, builder):
    b = builder.build_project(tmp_path, 5, unregistered=(4,))
    proj = b.project
    maps = mappings(proj)
    unreg = proj.views[4].id
    assert set(maps) == {v.id for v in proj.views} - {unreg}
    with pytest.raises(AlignmentError, match="register the views"):
        mapping(proj, unreg)
    v = proj.views[1]
    m = mapping(proj, v.stem)
    assert m.view_id == v.id and m.size == v.size and m.work_size == v.work_size
    assert m.ref_size == proj.reference.size
    np.testing.assert_array_equal(m.H_ref_from_view, proj.registrations[v.id].H_ref_from_view)
    # The map agrees with the ground truth of the builder: panel = reference plane.
    p = np.array([[50.0, 40.0], [100.0, 80.0]])
    H_true = invert(b.H_view_from_panel[v.id])
    np.testing.assert_allclose(m.to_ref(p), apply_h(compose(b.H_view_from_panel[proj.reference.id], H_true), p))


def _spline_residual():
    """A real thin-plate spline residual (the kind `multiview align` stores for a curved wall)."""
    from multiview.alignment.deform import fit_spline_model
    from multiview.project import Deformation

    rng = np.random.default_rng(4)
    pv = rng.uniform([0, 0], [400, 300], (600, 2))
    q = apply_h(H_A, pv)
    x = (q[:, 0] - 200.0) / 200.0
    pr = np.c_[q[:, 0] + 9.0 * x**3, q[:, 1] + 6.0 * (x**2 - 0.3)]  # a bend, like a wall curving away
    fwd, inv = fit_spline_model(pv, pr, 1e-5, H_A, both=True)
    return Deformation("tps", fwd, inv, 1e-5, 0.0)


def _exact_remap(dst_size, fn, raster):
    """Reference: the map evaluated at every pixel (no coarse sampling)."""
    from multiview.plane.mapping import _dense_map

    mx, my, valid = _dense_map(dst_size, fn, (raster.shape[1], raster.shape[0]))
    out = cv2.remap(raster.astype(np.float32) / 255.0, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, valid


def test_spline_residual_dense_path_is_exact_to_a_fraction_of_a_pixel():
    from multiview.plane.mapping import _dense_map

    m = _map(H_A, _spline_residual())
    canvas = PlaneCanvas((420, 320), np.eye(3))
    fn = lambda p: m.from_ref(p, "work", canvas)  # noqa: E731
    H = invert(compose(canvas.H_canvas_from_ref, m.H_ref_from("work")))
    mx, my, _ = _dense_map(canvas.size, fn, m.work_size, H)
    ex, ey, ok = _dense_map(canvas.size, fn, m.work_size)
    assert ok.mean() > 0.3
    assert np.abs(mx - ex)[ok].max() < 0.02 and np.abs(my - ey)[ok].max() < 0.02
    # Soft masks go to the plane and back with the spline, and the areas follow it.
    prob = _blob(m.work_size)
    got, valid = m.warp_to_ref(prob, canvas)
    want, want_valid = _exact_remap(canvas.size, fn, prob)
    both = valid & want_valid
    assert np.abs(got[both] - want[both]).max() < 0.02
    back, _ = m.warp_from_ref((got * 255).astype(np.uint8), canvas)
    assert np.abs(back - prob / 255.0)[m.work_size[1] // 4 : -m.work_size[1] // 4, 40:-40].mean() < 0.01
    mask = prob >= 128
    exact_area = np.count_nonzero(got >= 0.5)  # the warped raster's pixel count, reference-plane pixels
    assert m.area_on_ref(mask) == pytest.approx(exact_area, rel=0.01)
    assert m.key() != _map(H_A).key()  # results made with another model are stale
