"""COCO instance segmentation: read back with pycocotools, masks equal the exported masks."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools.coco import COCO

from multiview.export import export, original_mask


# pycocotools 2.0.11's decode warns under numpy 2 (its own code); the values are right.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_round_trip_with_pycocotools(built, tmp_path) -> None:
    proj = built.project
    export(proj, tmp_path / "out", ["coco"])
    coco = COCO(str(tmp_path / "out" / "coco.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["figure", "lacuna"]
    imgs = coco.loadImgs(coco.getImgIds())
    assert [i["file_name"] for i in imgs] == [v.id for v in proj.views]
    assert all((i["width"], i["height"]) == (320, 240) for i in imgs)
    n = 0
    for img, v in zip(imgs, proj.views):
        anns = {a["category_id"]: a for a in coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))}
        # The lost object has an empty mask on that view: no annotation.
        assert sorted(anns) == ([1] if v.id == built.lost_view else [1, 2])
        for oid, a in anns.items():
            m, _ = original_mask(proj.read_result(oid, v.id), v)
            np.testing.assert_array_equal(coco.annToMask(a).astype(bool), m)
            ys, xs = np.nonzero(m)
            assert a["area"] == np.count_nonzero(m) and a["iscrowd"] == 0 and a["score"] == 0.9
            assert a["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            assert isinstance(a["segmentation"]["counts"], str)
            n += 1
    assert n == 11
