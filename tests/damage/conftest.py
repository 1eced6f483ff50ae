"""Fixtures of the damage-map tests: the aligned sample with its ground-truth masks stored as results."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from multiview.project import MaskResult, Project
from multiview.raster import resize_prob


@pytest.fixture(scope="module")
def sample_map(aligned_sample, tmp_path_factory):
    """``(seq, project)``: a copy of the aligned sample whose results are the true view masks.

    Objects: 1 figure (category figure), 2 rosette (figure), 3 lacuna (loss). The project
    was registered by ``align`` (not from the ground truth), so the tests measure the whole chain.
    """
    seq, proj = aligned_sample
    root = tmp_path_factory.mktemp("sample_map") / "project"
    shutil.copytree(proj.root, root)
    p = Project.open(root)
    for o in seq.objects:
        p.add_object(o.id, o.name, category="loss" if o.name == "lacuna" else "figure")
        for v in p.views:
            m = seq.view_mask(v.id, o.id).astype(np.uint8) * 255
            p.write_result(MaskResult(o.id, v.id, resize_prob(m, v.work_size), tracker="truth"))
    return seq, p


@pytest.fixture
def builder():
    """The project builder module (tests/review_builder.py)."""
    import review_builder

    return review_builder
