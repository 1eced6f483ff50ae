"""Occluders through the command line: align finds them, status shows them, export uses them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from multiview.cli import main
from multiview.export.h5 import read_h5

SAMPLE = Path(__file__).resolve().parents[2] / "sequences" / "fresco"


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r


def test_align_status_export(tmp_path):
    proj = tmp_path / "proj"
    run("init", SAMPLE / "photos", proj)
    r = run("align", proj)
    line = next(s for s in r.output.splitlines() if s.startswith("occluders:"))
    assert "IMG_0102.jpg" in line and "IMG_0106.jpg" in line and "IMG_0103.jpg" not in line
    run("prompt", proj, "--view", "IMG_0104", "--obj", "1", "--mask", SAMPLE / "ground_truth/masks/1/IMG_0104.png")
    run("prompt", proj, "--view", "IMG_0104", "--obj", "2", "--mask", SAMPLE / "ground_truth/masks/2/IMG_0104.png")
    run("track", proj)

    r = run("status", proj)
    header = r.output.splitlines()[0].split()
    assert "occl" in header
    rows = {(v["view"], v["obj_id"]): v for v in json.loads(run("status", proj, "--json").output)["rows"]}
    data = json.loads(run("status", proj, "--json").output)
    assert data["occlusion"]["state"] == "fresh"
    assert rows[("IMG_0106.jpg", 2)]["occluded_share"] > 0.15  # the beam crosses the rosette
    assert rows[("IMG_0103.jpg", 2)]["occluded_share"] == 0

    out = tmp_path / "out"
    run("export", proj, out, "--format", "h5", "--format", "metashape", "--format", "png", "--visible")
    amodal = tmp_path / "amodal"
    run("export", proj, amodal, "--format", "metashape", "--amodal")
    stack = read_h5(out / "masks.h5")
    v = stack.view("IMG_0106.jpg")
    assert v.occluded.any() and v.occlusion_known.any()
    assert np.array_equal(v.visible, v.masks & ~v.occluded[None])
    assert v.visible[1].sum() < 0.85 * v.masks[1].sum()
    png = cv2.imread(str(out / "2" / "IMG_0106.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert np.array_equal(png, v.visible[1])
    d = cv2.imread(str(out / "metashape" / "IMG_0106_mask.png"), cv2.IMREAD_GRAYSCALE) > 0
    a = cv2.imread(str(amodal / "metashape" / "IMG_0106_mask.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert d.sum() < a.sum() and not (d & ~a).any()
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["masks"] == {"h5": "amodal and visible", "metashape": "visible", "png": "visible"}

    # a new geometry without occluders: the old layers go, and status says why there is no share
    run("align", proj, "--reference", "IMG_0103", "--no-occluders")
    r = run("status", proj)
    assert "occl: occlusion layers not computed: run `multiview align`" in r.output
    assert not (proj / "occlusion").exists()
