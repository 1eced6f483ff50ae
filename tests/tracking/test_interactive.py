"""The interactive tracking API (shared by ``multiview prompt`` and the workbench), homography side.

The SAM 2 side (candidates, preview on scratch states) runs in tests/tracking/sam2 and tests/ui.
"""

from __future__ import annotations

import numpy as np
import pytest

from multiview.errors import TrackingError
from multiview.tracking import get_tracker
from multiview.tracking.interactive import candidates, preview_mask


def test_preview_is_what_the_tracker_gives_on_the_prompted_view(tmp_path, aligned_sample):
    from multiview.project import Project

    seq, aligned = aligned_sample  # shared and read-only: a new project takes its registrations
    proj2 = Project.create(seq.photos_dir, tmp_path / "p")
    proj2.set_registrations(aligned.registrations)
    v = proj2.reference
    tracker = get_tracker("homography")
    proj2.add_object(1, "figure")
    assert preview_mask(proj2, v.id, 1, tracker) is None  # no prompt on that view yet
    proj2.add_prompt(v.id, 1, mask=seq.view_mask(v.id, 1))
    r = preview_mask(proj2, v.stem, 1, tracker)
    want = next(x for x in tracker.run(proj2, obj_ids=[1], full=True) if x.view_id == v.id)
    assert r is not None and r.view_id == v.id and r.prob.shape == (v.work_height, v.work_width)
    np.testing.assert_array_equal(r.prob, want.prob)
    with pytest.raises(TrackingError, match="need SAM 2"):
        candidates(proj2, v.id, (10.0, 10.0), tracker)
