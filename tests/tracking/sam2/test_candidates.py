"""Candidates of a first click: three masks, three scores, and the choice sticks through tracking."""

from __future__ import annotations

import numpy as np
from sam2_helpers import blob_frames

from multiview.draw import click_preview
from multiview.tracking.sam2.candidates import click_candidates
from multiview.tracking.sam2.frames import ArrayFrames
from multiview.tracking.sam2.session import Sam2Session


def test_three_candidates_with_scores_and_the_default_is_the_best(predictor):
    frames = ArrayFrames(blob_frames(3))
    sess = Sam2Session(predictor, frames)
    cands = click_candidates(sess, 1, (80, 60))
    assert [c.index for c in cands] == [0, 1, 2]
    assert all(c.prob.shape == (120, 160) and 0 <= c.score <= 1 for c in cands)
    assert sum(c.best for c in cands) == 1
    best = next(c for c in cands if c.best)
    assert best.score == max(c.score for c in cands)
    # the three masks differ (the decoder's three outputs)
    assert len({(c.prob > 0.5).tobytes() for c in cands}) == 3
    # without a choice the tracker keeps the best one, with the same score
    m = sess.add_points(1, 1, [(80, 60)], [1])
    np.testing.assert_allclose(m.prob, best.prob, atol=1e-6)
    assert abs(m.score - best.score) < 1e-6
    # candidates reuse the session's features: nothing re-encoded
    assert sess.features.encoded == 1


def test_chosen_candidate_is_kept_and_tracked(predictor):
    frames = ArrayFrames(blob_frames(3))
    sess = Sam2Session(predictor, frames)
    cands = click_candidates(sess, 0, (60, 60))
    k = next(c.index for c in cands if not c.best)
    m = sess.add_points(1, 0, [(60, 60)], [1], candidate=k)
    np.testing.assert_allclose(m.prob, cands[k].prob, atol=1e-6)
    assert abs(m.score - cands[k].score) < 1e-6
    other = Sam2Session(predictor, frames)
    other.add_points(1, 0, [(60, 60)], [1])
    a = {x.frame: x.prob for x in sess.propagate()}
    b = {x.frame: x.prob for x in other.propagate()}
    assert not np.array_equal(a[2], b[2])  # the choice travels with the memory


def test_overlay_draws_on_a_copy():
    img = blob_frames(1)[0]
    prob = np.zeros(img.shape[:2], np.float32)
    prob[30:60, 40:90] = 1
    out = click_preview(img, prob, (255, 0, 0), (50, 40))
    assert out.shape == img.shape and out.dtype == np.uint8 and not np.array_equal(out, img)
