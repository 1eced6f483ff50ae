"""bf16 autocast runs the whole engine and stays close to fp32 (random weights: a smoke check of the plumbing)."""

from __future__ import annotations

import numpy as np
import pytest
from sam2_helpers import blob_frames

from multiview.errors import ValidationError
from multiview.tracking.sam2.frames import ArrayFrames
from multiview.tracking.sam2.session import Sam2Session


def test_bf16_runs_and_keys_its_own_cache_entries(predictor):
    frames = ArrayFrames(blob_frames(3))
    s32 = Sam2Session(predictor, frames, precision="fp32")
    s16 = Sam2Session(predictor, frames, precision="bf16", cache=s32.cache)
    for s in (s32, s16):
        s.add_points(1, 1, [(80, 60)], [1])
    a = {m.frame: m for m in s32.propagate()}
    b = {m.frame: m for m in s16.propagate()}
    assert s16.features.encoded == 3  # fp32 features are not reused for bf16
    for f in a:
        assert b[f].prob.dtype == np.float32 and b[f].prob.shape == a[f].prob.shape
        assert np.isfinite(b[f].prob).all() and b[f].score is not None


def test_unknown_precision_is_refused(predictor):
    with pytest.raises(ValidationError, match="precision 'fp8'"):
        Sam2Session(predictor, ArrayFrames(blob_frames(2)), precision="fp8")
