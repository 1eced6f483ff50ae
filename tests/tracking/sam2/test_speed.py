"""The speed levers: conditioning-frame cap, early stop of corrections, presets and their settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sam2_helpers import always_unchanged, blob_frames

from multiview.errors import ValidationError
from multiview.tracking.sam2.frames import ArrayFrames
from multiview.tracking.sam2.session import Sam2Session
from multiview.tracking.sam2.speed import (
    PRESETS,
    EarlyStop,
    SpeedSettings,
    frame_change,
    speed_preset,
)

#: a rule that takes every re-computed frame as unchanged: stops after K frames whatever happens
ALWAYS = always_unchanged()
#: the unsafe rule the issue warns about: masks only
MASKS_ONLY = EarlyStop(frames=2, mask_iou=0.99, memory_rel=float("inf"), pointer_rel=float("inf"))


def correct(sess: Sam2Session, frame: int, point=(100.0, 60.0), label=0, early_stop=None) -> list[int]:
    """A correction click on a tracked frame and the re-propagation of its stretch; the frames computed."""
    sess.add_points(1, frame, [point], [label])
    done = []
    for job in sess.plan(1, [frame]):
        done += [m.frame for m in sess.run_job(job, early_stop=early_stop)]
    return done


def test_cap_bounds_the_conditioning_frames_each_frame_attends(predictor):
    """Counted, not timed: with the cap, frame 1 attends 2 prompted frames however many corrections come."""
    frames = ArrayFrames(blob_frames(7))
    attended = {}
    for cap in (-1, 2):
        sess = Sam2Session(predictor, frames, speed=SpeedSettings("custom", max_cond_frames=cap))
        sess.add_points(1, 0, [(50.0, 60.0)], [1])
        list(sess.propagate())
        seen = []
        for c in (5, 4, 3, 2):  # each correction re-runs frame 1 (backward stretch down to frame 1)
            correct(sess, c, (70.0, 60.0), 1)
            seen.append(sess.cond_frames_attended[(1, 1)])
        attended[cap] = seen
    # Meta's setting: every correction is attended by every frame: cost grows with each one
    assert attended[-1] == [(0, 5), (0, 4, 5), (0, 3, 4, 5), (0, 2, 3, 4, 5)]
    # capped: the nearest prompted view before and after, whatever the number of corrections
    assert attended[2] == [(0, 5), (0, 4), (0, 3), (0, 2)]


def test_cap_below_two_is_refused():
    with pytest.raises(ValidationError, match="at least 2"):
        SpeedSettings("custom", max_cond_frames=1)
    with pytest.raises(ValidationError, match="at least 2 consecutive"):
        EarlyStop(frames=1)
    with pytest.raises(ValidationError, match="unknown"):
        speed_preset("turbo")


def test_early_stop_keeps_skipped_frames_results_and_memory(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(8)))
    sess.add_points(1, 1, [(70.0, 60.0)], [1])
    list(sess.propagate())
    before = dict(sess._outputs(1)["non_cond_frame_outputs"])
    done = correct(sess, 3, early_stop=ALWAYS)
    # forward 3..7: frames 4 and 5 computed (K = 2), 6 and 7 skipped; backward: frame 2
    assert done == [3, 4, 5, 2]
    [stop] = sess.early_stops
    assert (stop.last, stop.skipped) == (5, (6, 7))
    after = sess._outputs(1)["non_cond_frame_outputs"]
    for f in (6, 7):  # the very same outputs: mask, memory features, object pointer
        assert after[f] is before[f]
    for f in (4, 5, 2):
        assert after[f] is not before[f]
    assert [f for f, _ in stop.changes] == [4, 5]


def test_a_far_frame_that_changes_is_not_skipped(predictor, monkeypatch):
    """Masks alone are not enough: frames whose mask did not move but whose memory did must not stop the run.

    After the correction on frame 3, frames 4 and 5 are made to keep their previous mask
    while what they write to the memory (mask memory features, object pointer) moves (the case the issue measured:
    changes that do not decay with distance). The memory-aware rule runs on and frame 6
    does change; the masks-only rule would have stopped after frame 5 and kept frame 6's
    stale result.
    """
    frames = ArrayFrames(blob_frames(8))
    results = {}
    for name, rule in (("memory", EarlyStop()), ("masks only", MASKS_ONLY)):
        sess = Sam2Session(predictor, frames)
        sess.add_points(1, 1, [(70.0, 60.0)], [1])
        list(sess.propagate())
        old = dict(sess._outputs(1)["non_cond_frame_outputs"])
        real = predictor._run_single_frame_inference

        def same_mask_other_memory(*args, real=real, old=old, **kw):
            out, extra = real(*args, **kw)
            f = kw["frame_idx"]
            if f in (4, 5):
                out["pred_masks"] = old[f]["pred_masks"].clone()
                out["maskmem_features"] = -old[f]["maskmem_features"]
                out["obj_ptr"] = -old[f]["obj_ptr"]
            return out, extra

        monkeypatch.setattr(predictor, "_run_single_frame_inference", same_mask_other_memory)
        done = correct(sess, 3, early_stop=rule)
        monkeypatch.undo()
        results[name] = (done, frame_change(old[6], sess._outputs(1)["non_cond_frame_outputs"][6]))
    done, change6 = results["memory"]
    assert 6 in done and 7 in done  # not skipped
    assert not EarlyStop().unchanged(change6)  # and frame 6 did change
    done_masks, change_masks = results["masks only"]
    assert 6 not in done_masks and change_masks.mask_iou == 1.0  # masks only: stale frame 6 kept


def test_frame_change_measures_mask_memory_and_pointer():
    g = torch.Generator().manual_seed(0)
    a = {
        "pred_masks": torch.randn(1, 1, 8, 8, generator=g),
        "maskmem_features": torch.randn(1, 4, 2, 2, generator=g),
        "obj_ptr": torch.randn(1, 16, generator=g),
    }
    same = frame_change(a, {k: v.clone() for k, v in a.items()})
    assert same == type(same)(1.0, 0.0, 0.0)
    b = dict(a, obj_ptr=a["obj_ptr"] * 1.1)
    c = frame_change(a, b)
    assert c.mask_iou == 1.0 and c.memory_rel == 0.0 and c.pointer_rel == pytest.approx(0.1, rel=1e-5)
    assert not EarlyStop(pointer_rel=0.05).unchanged(c) and EarlyStop(pointer_rel=0.2).unchanged(c)


def test_presets():
    assert PRESETS["exact"] == SpeedSettings()  # Meta's settings in fp32, the default
    exact = PRESETS["exact"]
    assert (exact.precision, exact.max_cond_frames, exact.early_stop, exact.preview_size) == ("fp32", -1, None, None)
    assert exact.kernel("cpu") == "sdpa"
    for name in ("balanced", "fast"):
        p = PRESETS[name]
        assert p.precision == "bf16" and p.kernel("cpu") == "blocked" and p.kernel("cuda") == "sdpa"
        assert p.max_cond_frames >= 2 and p.early_stop is not None and p.early_stop.frames >= 2
        assert SpeedSettings.from_json(p.to_json()) == p
    assert PRESETS["balanced"].with_options(max_cond_frames=3).name == "custom"
    assert PRESETS["balanced"].with_options(max_cond_frames=4).name == "balanced"


def test_full_runs_never_stop_early(predictor):
    sess = Sam2Session(predictor, ArrayFrames(blob_frames(5)))
    sess.add_points(1, 0, [(60.0, 60.0)], [1])
    list(sess.propagate())
    again = [m.frame for m in sess.propagate([1], full=True, early_stop=ALWAYS)]
    assert again == [0, 1, 2, 3, 4] and not sess.early_stops
    np.testing.assert_array_equal(sess.mask(1, 4).prob, sess.mask(1, 4).prob)
