"""Indexed-colour label PNGs: object ids as pixel values, DAVIS palette, documented overlap rule."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from multiview.export import export, original_mask
from multiview.export.labels import OVERLAP_RULE, davis_palette, label_image


def test_davis_palette() -> None:
    pal = davis_palette()
    assert pal.shape == (256, 3)
    assert [tuple(c) for c in pal[:4]] == [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0)]
    assert len({tuple(c) for c in pal}) == 256


def test_overlap_rule_smaller_object_on_top() -> None:
    big = np.zeros((10, 10), bool)
    big[1:9, 1:9] = True
    small = np.zeros((10, 10), bool)
    small[3:5, 3:5] = True
    lab = label_image({7: small, 2: big}, (10, 10))
    assert lab[4, 4] == 7 and lab[1, 1] == 2 and lab[0, 0] == 0
    # Equal areas: the higher id wins.
    a = np.zeros((4, 4), bool)
    a[:2] = True
    b = np.zeros((4, 4), bool)
    b[1:3] = True
    lab = label_image({3: a, 5: b}, (4, 4))
    assert lab[1, 0] == 5 and lab[0, 0] == 3 and lab[2, 0] == 5


def test_round_trip(built, tmp_path) -> None:
    proj = built.project
    out = tmp_path / "out"
    export(proj, out, ["labels"])
    meta = json.loads((out / "labels" / "objects.json").read_text())
    assert meta["overlap_rule"] == OVERLAP_RULE and [o["id"] for o in meta["objects"]] == [1, 2]
    for v in proj.views:
        img = Image.open(out / "labels" / f"{v.stem}.png")
        assert img.mode == "P" and img.size == v.size
        assert img.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
        lab = np.array(img)
        expect = np.zeros((v.height, v.width), np.uint8)
        for oid in (1, 2):
            m, _ = original_mask(proj.read_result(oid, v.id), v)
            expect[m] = oid  # the objects do not overlap in this scene
        np.testing.assert_array_equal(lab, expect)
        assert (2 in lab) == (v.id != built.lost_view)
