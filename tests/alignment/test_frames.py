"""Pseudo-video frames: aligned mode on the sample (canvas, validity, round trip of soft masks)."""

from __future__ import annotations

import numpy as np
import pytest

from multiview import geometry as g
from multiview.alignment import pseudo_video
from multiview.errors import AlignmentError
from multiview.project import Project, Registration


@pytest.fixture(scope="module")
def aligned(aligned_sample):
    return aligned_sample


def test_aligned_needs_registrations(tmp_path):
    from devtools.sample import make_sample

    seq = make_sample(tmp_path / "s", seed=0, n_views=2)
    proj = Project.create(seq.photos_dir, tmp_path / "p")
    with pytest.raises(AlignmentError, match="register the views") as e:
        pseudo_video(proj, "aligned")
    assert e.value.hint is not None and e.value.hint.action == "align"


def test_aligned_frames_share_the_canvas(aligned):
    _seq, proj = aligned
    video = pseudo_video(proj, "aligned")
    W, H = video.canvas_size
    assert max(W, H) <= proj.state.work_max_side
    ref_i = video.index_of(proj.reference.id)
    for i in range(len(video)):
        f = video[i]
        assert f.image.shape == (H, W, 3) and f.valid.shape == (H, W) and f.registered
        assert video.frame_size(i) == (W, H)
        assert 0.01 < f.valid.mean() < 1.0
        # Border fill is the photo's mean colour, never black.
        outside = f.image[~f.valid]
        assert outside.size and outside.min() > 20
    # The canvas covers the union of footprints, clipped to the bound around the reference.
    rw, rh = proj.reference.size
    lo = g.apply_h(video.H_canvas_from_ref, [[-0.5 - rw, -0.5 - rh]])[0]
    hi = g.apply_h(video.H_canvas_from_ref, [[2 * rw - 0.5, 2 * rh - 0.5]])[0]
    allq = np.concatenate([g.apply_h(video.H_frame_from_orig(i), g.corners(v.size)) for i, v in enumerate(video.views)])
    q = np.clip(allq, lo, hi)
    assert q.min(0) == pytest.approx([-0.5, -0.5], abs=1.0)
    assert q.max(0) == pytest.approx([W - 0.5, H - 0.5], abs=1.5)
    # The reference maps to the canvas by a pure scale + shift.
    Hr = video.H_frame_from_orig(ref_i)
    assert abs(Hr[0, 1]) < 1e-12 and abs(Hr[2, 0]) < 1e-12 and Hr[0, 0] == pytest.approx(Hr[1, 1])


def test_frame_content_is_registered(aligned):
    """Two aligned frames show the same wall at the same canvas pixels (high correlation on the overlap)."""
    _seq, proj = aligned
    video = pseudo_video(proj, "aligned")
    f0, f1 = video[0], video[1]
    both = f0.valid & f1.valid
    a = f0.image[both].mean(1)
    b = f1.image[both].mean(1)
    assert both.sum() > 10_000
    assert np.corrcoef(a, b)[0, 1] > 0.8


def test_mask_round_trip_and_unknown_outside_canvas(aligned):
    seq, proj = aligned
    video = pseudo_video(proj, "aligned")
    soft = []
    for i, v in enumerate(video.views):
        m = seq.view_mask(v.id, 1)
        fm = video.mask_to_frame(i, m)
        assert fm.dtype == np.float32 and fm.shape == video.frame_size(i)[::-1]
        assert 0 < fm.max() <= 1.0
        soft.append(((fm > 0.05) & (fm < 0.95)).any())
        u8, _valid = video.to_view(i, fm)
        assert u8.shape == (v.work_height, v.work_width) and u8.dtype == np.uint8
        assert g.mask_iou(u8 >= 128, m) > 0.97
        # Points follow the same map.
        p = video.points_to_frame(i, [[10.0, 20.0]])
        np.testing.assert_allclose(p, g.apply_h(video.H_frame_from_orig(i), [[10.0, 20.0]]))
    assert any(soft)  # bilinear interpolation, not nearest neighbour
    # A canvas too small to hold a photo: the parts outside it come back as unknown.
    import multiview.alignment.frames as frames

    old = frames.CANVAS_EXTENT
    try:
        frames.CANVAS_EXTENT = 0.0
        small = pseudo_video(proj, "aligned")
        outs = [small.to_view(i, np.zeros(small.frame_size(i)[::-1], np.float32))[1] for i in range(len(small))]
        assert any(v is not None and 0 < v.mean() < 1 for v in outs)
    finally:
        frames.CANVAS_EXTENT = old


def test_unregistered_view_is_shown_unwarped(aligned, tmp_path):
    _seq, proj = aligned
    regs = proj.registrations
    vid = proj.views[0].id
    regs[vid] = Registration(vid, "unregistered", None, 0, None, None, "", "test")
    proj2 = Project(proj.root, proj.state)
    proj2._state = type(proj.state)(**{**proj.state.__dict__, "registrations": regs})
    video = pseudo_video(proj2, "aligned")
    f = video[0]
    assert not f.registered and not video.is_registered(0)
    H = video.H_frame_from_orig(0)
    assert H[0, 1] == 0 and H[2, 0] == 0  # scale + shift only
    assert 0.2 < f.valid.mean() <= 1.0


def test_unaligned_mode_is_unchanged(aligned):
    _seq, proj = aligned
    video = pseudo_video(proj, "unaligned")
    v = video.views[0]
    f = video[0]
    assert f.image.shape == (v.work_height, v.work_width, 3) and f.valid.all()
    u8, valid = video.to_view(0, np.ones((v.work_height, v.work_width), np.float32))
    assert valid is None and u8.min() == 255
