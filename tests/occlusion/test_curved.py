"""Occluders on the curved sample (the painting on an apse, a pole and a beam in front of it).

The geometry there is a homography plus a thin-plate spline per view; the layers go through the
same plane mappings, so they follow the wall. Truth: ray-cast occluder and object masks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from multiview.alignment.pipeline import align_project
from multiview.occlusion import stored_layers
from multiview.project import Project

APSE = Path(__file__).resolve().parents[2] / "sequences" / "apse"
OCCLUDED = ("IMG_0202.jpg", "IMG_0206.jpg")


@pytest.fixture(scope="module")
def apse(tmp_path_factory):
    """The shipped curved sample aligned (homography + spline), objects carried from their true reference masks."""
    from devtools.sample import load_curved_sample
    from multiview.tracking import get_tracker, run_tracking

    seq = load_curved_sample(APSE)
    proj = Project.create(seq.photos_dir, tmp_path_factory.mktemp("apse") / "project")
    align_project(proj)
    ref = proj.reference.id
    for obj in seq.objects:
        proj.add_prompt(ref, obj.id, mask=seq.view_mask(ref, obj.id))
    run_tracking(proj, get_tracker("homography"))
    return seq, proj


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def test_occluders_on_the_curved_wall(apse):
    seq, proj = apse
    layers = stored_layers(proj)
    assert layers.state == "fresh"
    for name in seq.view_names:
        v = proj.view(name)
        occ, known = layers.get(name).at_size(v.size)
        truth = seq.occluder_mask(name)
        for obj in seq.objects:
            amodal = proj.read_result(obj.id, name).at_size(v.size)[0]
            visible = amodal & ~occ
            if name in OCCLUDED:
                want = seq.view_mask(name, obj.id) & ~truth
                # the rosette of IMG_0202 is two slivers beside the pole: +-1 px along its edges
                # weighs; 0.89 measured (the planar sample's target is 0.90)
                assert _iou(visible, want) > 0.85, (name, obj.id, _iou(visible, want))
            else:
                assert np.array_equal(visible, amodal), f"{name} object {obj.id} changed without an occluder"
        if name in OCCLUDED:
            tp = np.count_nonzero(occ & truth)
            precision = tp / max(1, np.count_nonzero(occ))
            recall_seen = tp / max(1, np.count_nonzero(truth & known))
            assert precision > 0.85 and recall_seen > 0.9, (name, precision, recall_seen)
