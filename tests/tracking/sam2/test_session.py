"""The session against sam2's own loop, and its behaviour: backward reach, corrections, objects, cache."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from sam2_helpers import IMAGE_SIZE, MODEL, blob_frames

from multiview.tracking.sam2.cache import FeatureCache
from multiview.tracking.sam2.frames import ArrayFrames
from multiview.tracking.sam2.reference import build_reference, run_reference, write_jpeg_folder
from multiview.tracking.sam2.session import Sam2Session


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = np.logical_or(a, b).sum()
    return 1.0 if u == 0 else float(np.logical_and(a, b).sum() / u)


def decoded(folder: Path, n: int) -> list[np.ndarray]:
    return [cv2.cvtColor(cv2.imread(str(folder / f"{i}.jpg")), cv2.COLOR_BGR2RGB) for i in range(n)]


@pytest.mark.slow
def test_engine_matches_reference_predictor(tmp_path, predictor, sam2_checkpoint):
    """Same weights, same frames (decoded from the reference's own JPEGs), same click.

    What this proves: the engine's lazy frames, external feature cache, per-view
    output sizes and job-based forward/backward propagation compute what sam2's
    documented loop computes: per-frame IoU >= 0.99 *and* the mask logits agree
    within 1e-3, on frames where the mask is neither empty nor full (checked), so
    random weights cannot make the comparison vacuous.
    """
    n, mid, click = 5, 2, (80.0, 60.0)
    folder = write_jpeg_folder(blob_frames(n), tmp_path / "jpg")
    ref = run_reference(build_reference(MODEL, sam2_checkpoint, image_size=IMAGE_SIZE), folder, mid, [click], [1])
    sess = Sam2Session(predictor, ArrayFrames(decoded(folder, n)))
    sess.add_points(1, mid, [click], [1])
    got = {m.frame: m for m in sess.propagate()}
    assert sorted(got) == list(range(n)) == sorted(ref.logits)
    for f in range(n):
        ref_mask = ref.logits[f] > 0
        assert 0.02 < ref_mask.mean() < 0.98, f"frame {f}: reference mask is degenerate"
        assert got[f].prob.shape == ref_mask.shape
        assert iou(got[f].prob > 0.5, ref_mask) >= 0.99, f"frame {f}"
        ref_prob = 1 / (1 + np.exp(-ref.logits[f].astype(np.float64)))
        assert np.abs(got[f].prob - ref_prob).max() < 1e-3, f"frame {f}"


def test_cache_on_off_identical_and_never_reencodes(tmp_path, predictor):
    frames = ArrayFrames(blob_frames(4))
    plain = Sam2Session(predictor, frames, cache=FeatureCache(None, memory_mb=0))
    plain.add_points(1, 1, [(70, 60)], [1])
    a = {m.frame: m.prob for m in plain.propagate()}
    assert plain.features.encoded > 4  # without a cache, sam2 re-encodes as it goes

    cache = FeatureCache(tmp_path / "feat", memory_mb=64)
    cached = Sam2Session(predictor, frames, cache=cache)
    cached.add_points(1, 1, [(70, 60)], [1])
    b = {m.frame: m.prob for m in cached.propagate()}
    assert cached.features.encoded == 4
    for f in a:
        np.testing.assert_array_equal(a[f], b[f])

    # a new process: fresh memory, same disk cache -> no encoding at all, same output
    fresh = Sam2Session(predictor, frames, cache=FeatureCache(tmp_path / "feat", memory_mb=64))
    fresh.add_points(1, 1, [(70, 60)], [1])
    c = {m.frame: m.prob for m in fresh.propagate()}
    assert fresh.features.encoded == 0
    for f in a:
        np.testing.assert_array_equal(a[f], c[f])


def test_click_on_middle_view_reaches_first_and_last(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(5)))
    sess.add_points(1, 2, [(80, 60)], [1])
    order = [m.frame for m in sess.propagate()]
    assert order == [2, 3, 4, 1, 0]
    assert sess.mask(1, 0) is not None and sess.mask(1, 4) is not None


def test_views_keep_their_own_size(predictor):
    frames = [
        blob_frames(1, (160, 120))[0],
        blob_frames(1, (96, 128), seed=1)[0],
        blob_frames(1, (200, 100), seed=2)[0],
    ]
    sess = Sam2Session(predictor, ArrayFrames(frames))
    sess.add_points(1, 0, [(80, 60)], [1])
    got = {m.frame: m for m in sess.propagate()}
    for i, img in enumerate(frames):
        assert got[i].prob.shape == img.shape[:2]
        assert got[i].prob.dtype == np.float32 and 0.0 <= got[i].prob.min() and got[i].prob.max() <= 1.0
        assert 0.0 <= got[i].present_score <= 1.0 and got[i].score is not None


def test_correction_sticks_and_repropagates_only_its_stretch(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(6)))
    sess.add_points(1, 1, [(70, 60)], [1])
    list(sess.propagate())
    before = {f: sess.logits(1, f) for f in range(6)}
    # correction on tracked view 4: a negative click in the mask
    corrected = sess.add_points(1, 4, [(100, 60)], [0])
    assert 4 in sess.prompted_frames(1)
    jobs = sess.plan(1, [4])
    assert [(j.start, j.stop, j.reverse) for j in jobs] == [(4, 5, False), (4, 2, True)]
    got = {}
    for job in jobs:
        for m in sess.run_job(job):
            got[m.frame] = m
    assert sorted(got) == [2, 3, 4, 5]  # views 0 and 1 (anchored by the first click) are not re-run
    np.testing.assert_array_equal(sess.logits(1, 1), before[1])
    np.testing.assert_array_equal(sess.logits(1, 0), before[0])
    np.testing.assert_array_equal(got[4].prob, corrected.prob)
    # a later full re-propagation from the first click passes view 4 and keeps the correction
    for m in sess.propagate([1], full=True):
        if m.frame == 4:
            np.testing.assert_array_equal(m.prob, corrected.prob)
            assert m.prompted


def test_several_objects_and_object_added_after_tracking(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(4)))
    sess.add_points(1, 0, [(60, 60)], [1])
    sess.add_points(2, 3, [(20, 20)], [1])
    got = {(m.obj_id, m.frame) for m in sess.propagate()}
    assert got == {(o, f) for o in (1, 2) for f in range(4)}
    obj1 = {f: sess.logits(1, f) for f in range(4)}
    sess.add_points(
        3,
        2,
        [(140, 100)],
        [1],
    )
    new = [(m.obj_id, m.frame) for m in sess.propagate([3], {3: [2]})]
    assert sorted(new) == [(3, f) for f in range(4)]
    for f in range(4):  # the other objects are untouched
        np.testing.assert_array_equal(sess.logits(1, f), obj1[f])


def test_box_and_mask_prompts(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(3)))
    m = sess.add_points(1, 0, box=(40, 30, 110, 90))
    assert m.prob.shape == (120, 160)
    mask = np.zeros((120, 160), bool)
    mask[40:80, 50:100] = True
    got = sess.add_mask(2, 1, mask)
    # a mask prompt is taken as the answer on its own view
    assert iou(got.prob > 0.5, mask) > 0.9 and got.score == 1.0
    assert {(x.obj_id, x.frame) for x in sess.propagate()} == {(o, f) for o in (1, 2) for f in range(3)}
