"""The weight-free homography tracker on the sample: accuracy, prompt rules, unknown pixels."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from multiview import geometry as g
from multiview.errors import TrackingError
from multiview.project import Project, Registration
from multiview.tracking import available_trackers, get_tracker, run_tracking
from multiview.tracking.homography import HomographyTracker, governing_views


@pytest.fixture(scope="module")
def sample_aligned(aligned_sample):
    return aligned_sample


def _fresh(sample_aligned, tmp_path) -> Project:
    """A copy of the aligned project (prompts and results are per test)."""
    import shutil

    _, proj = sample_aligned
    shutil.copytree(proj.root, tmp_path / "p")
    return Project.open(tmp_path / "p")


def _work_gt(seq, view, obj_id: int) -> np.ndarray:
    from multiview.raster import resize_prob

    m = seq.view_mask(view.id, obj_id).astype(np.float32)
    return resize_prob(m, view.work_size) >= 0.5


def test_registered_under_its_name():
    assert "homography" in available_trackers()
    assert isinstance(get_tracker("homography"), HomographyTracker)
    with pytest.raises(TrackingError):
        get_tracker("homography", bogus=1)


def test_governing_views_rules():
    order = ["a", "b", "c", "d", "e"]
    # Nearest prompted view in order.
    assert governing_views(order, {"a": 1, "e": 2}) == {"a": "a", "b": "a", "c": "e", "d": "e", "e": "e"}
    # Tie (c is as far from a as from e): the newer prompt wins.
    assert governing_views(order, {"a": 5, "e": 2})["c"] == "a"
    assert governing_views(order, {"a": 1, "c": 3})["b"] == "c"


def test_mask_prompt_maps_to_every_view(sample_aligned, tmp_path):
    seq, _ = sample_aligned
    proj = _fresh(sample_aligned, tmp_path)
    src = proj.views[2]
    proj.add_prompt(src.id, 1, mask=seq.view_mask(src.id, 1))
    n = run_tracking(proj, get_tracker("homography"))
    assert n == len(proj.views)
    for v in proj.views:
        r = proj.read_result(1, v.id)
        assert r.tracker == "homography" and r.meta["prompt_mask"] == "mask"
        assert r.source_view == (None if v.id == src.id else src.id)
        known = np.ones_like(r.mask) if r.valid is None else r.valid
        assert g.mask_iou(r.mask, _work_gt(seq, v, 1), known) > 0.97, v.id


def test_unknown_outside_source_photo_and_incremental_runs(sample_aligned, tmp_path):
    seq, _ = sample_aligned
    proj = _fresh(sample_aligned, tmp_path)
    # IMG_0105 is a close-up: mapped to the wide views, most of their pixels are unknown.
    close = max(
        proj.views, key=lambda v: proj.registrations[v.id].H_ref_from_view[0, 0] if v.id != proj.reference.id else 0
    )
    mask = seq.view_mask(close.id, 1)
    if not mask.any():
        pytest.fail("sample object 1 must be visible in the close-up")
    proj.add_prompt(close.id, 1, mask=mask)
    results = list(HomographyTracker().run(proj))
    partial = [r for r in results if r.valid is not None]
    assert partial, "some view must see parts of the wall the source photo does not"
    for r in partial:
        assert 0 < r.valid.mean() < 1
        assert not r.mask[~r.valid].any()  # unknown is not foreground
    for r in results:
        proj.write_result(r)
    # Nothing changed: an incremental run recomputes nothing; --full recomputes everything.
    assert list(HomographyTracker().run(proj)) == []
    assert len(list(HomographyTracker().run(proj, full=True))) == len(proj.views)


def test_correction_prompt_takes_over_its_side(sample_aligned, tmp_path):
    seq, _ = sample_aligned
    proj = _fresh(sample_aligned, tmp_path)
    ids = [v.id for v in proj.views]
    proj.add_prompt(ids[0], 1, mask=seq.view_mask(ids[0], 1))
    run_tracking(proj, get_tracker("homography"))
    assert all(proj.read_result(1, v).source_view in (None, ids[0]) for v in ids)
    # A correction on the last view: it governs itself and the views nearer to it.
    p = proj.add_prompt(ids[-1], 1, mask=seq.view_mask(ids[-1], 1))
    n = run_tracking(proj, get_tracker("homography"))
    assert n == 3  # views 3, 4, 5 of 0..5 (view 3 is a tie: the newer prompt wins)
    for k, v in enumerate(ids):
        r = proj.read_result(1, v)
        want = ids[0] if k < 3 else ids[-1]
        assert (r.source_view or v) == want and r.meta["prompt_id"] == (1 if k < 3 else p.id)


def test_box_prompt_uses_grabcut_and_says_so(sample_aligned, tmp_path, caplog):
    seq, _ = sample_aligned
    proj = _fresh(sample_aligned, tmp_path)
    v = proj.reference
    m = seq.view_mask(v.id, 2)  # the rosette: a compact, contrasted object
    ys, xs = np.nonzero(m)
    box = (xs.min() - 6.0, ys.min() - 6.0, xs.max() + 7.0, ys.max() + 7.0)
    proj.add_prompt(v.id, 2, box=box, points=[(float(xs.mean()), float(ys.mean()))], labels=[1])
    with caplog.at_level(logging.WARNING, logger="multiview"):
        run_tracking(proj, get_tracker("homography"))
    assert any("GrabCut" in rec.message and "no model" in rec.message for rec in caplog.records)
    r = proj.read_result(2, v.id)
    assert r.meta["prompt_mask"] == "grabcut"
    assert g.mask_iou(r.mask, _work_gt(seq, v, 2)) > 0.6


def test_unregistered_view_gets_no_mask(sample_aligned, tmp_path, caplog):
    seq, _ = sample_aligned
    proj = _fresh(sample_aligned, tmp_path)
    regs = proj.registrations
    lost = proj.views[-1].id
    regs[lost] = Registration(lost, "unregistered", None, 0, None, None, "", "test: no overlap")
    proj.set_registrations(regs)
    src = proj.views[0].id
    proj.add_prompt(src, 1, mask=seq.view_mask(src, 1))
    with caplog.at_level(logging.WARNING, logger="multiview"):
        n = run_tracking(proj, get_tracker("homography"))
    assert n == len(proj.views) - 1 and not proj.has_result(1, lost)
    assert any(lost in rec.getMessage() for rec in caplog.records)


def test_needs_alignment(tmp_path):
    from devtools.sample import make_sample

    seq = make_sample(tmp_path / "s", seed=0, n_views=2)
    proj = Project.create(seq.photos_dir, tmp_path / "p")
    proj.add_prompt(proj.views[0].id, 1, mask=seq.view_mask(proj.views[0].id, 1))
    with pytest.raises(TrackingError, match="register the views"):
        list(HomographyTracker().run(proj))
