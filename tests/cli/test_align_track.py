"""``multiview align`` + ``track --tracker homography`` end to end on real photos (graf) and the sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from multiview import geometry as g
from multiview.cli import main
from multiview.project import Project


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r


def _gt(folder: Path, n: int) -> np.ndarray:
    fs = cv2.FileStorage(str(folder / f"H1to{n}p.xml"), cv2.FILE_STORAGE_READ)
    H = fs.getFirstTopLevelNode().mat()
    fs.release()
    return np.asarray(H, np.float64)


def test_graf_mask_prompt_track_export(datasets_dir, tmp_path):
    src = datasets_dir / "graf"
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in range(1, 7):
        shutil.copy(src / f"img{n}.png", photos / f"img{n}.png")
    proj = tmp_path / "proj"
    run("init", photos, proj, "--reference", "img1")
    r = run("align", proj)
    assert "6 of 6 views registered to img1.png" in r.output
    assert "UNREGISTERED" not in r.output and "chained via" in r.output
    # A mask on img1: a polygon around the painted figures in the middle of the wall.
    mask = np.zeros((640, 800), np.uint8)
    cv2.fillPoly(mask, [np.int32([[250, 180], [560, 150], [600, 430], [300, 480], [220, 330]])], 255)
    mpath = tmp_path / "mask.png"
    cv2.imwrite(str(mpath), mask)
    run("prompt", proj, "--view", "img1", "--obj", "1", "--mask", mpath)
    r = run("track", proj, "--tracker", "homography")
    assert "stored 6 mask(s)" in r.output
    out = tmp_path / "out"
    run("export", proj, out)
    for n in range(2, 7):
        got = cv2.imread(str(out / "1" / f"img{n}.png"), cv2.IMREAD_GRAYSCALE) > 0
        H = _gt(src, n)
        want = cv2.warpPerspective(mask, H, (800, 640), flags=cv2.INTER_LINEAR) >= 128
        known = g.coverage(H, (800, 640), (800, 640))
        assert g.mask_iou(got, want, known) > 0.97, n
    # The registration is stored with its quality figures.
    regs = Project.open(proj).registrations
    assert all(regs[f"img{n}.png"].inliers > 100 for n in range(2, 7))


def test_sample_demo_path_with_auto_order(tmp_path):
    """The `make demo` path (with --order auto): init, align, mask prompt, track, export."""
    from devtools.sample import make_sample

    seq = make_sample(tmp_path / "sample", seed=0, n_views=6)
    proj = tmp_path / "proj"
    r = run("init", seq.photos_dir, proj, "--order", "auto")
    assert "order: auto" in r.output
    r = run("align", proj)
    assert "order (auto):" in r.output and "6 of 6 views registered" in r.output
    # The error columns are held-out figures, and a plane keeps its homography.
    assert "p90" in r.output and "held-out" in r.output and "bent by a thin-plate spline" not in r.output
    regs = Project.open(proj).registrations
    assert all(x.model == "homography" and (x.heldout is not None or x.status == "reference") for x in regs.values())
    view = "IMG_0103.jpg"
    run(
        "prompt",
        proj,
        "--view",
        view,
        "--obj",
        "1",
        "--name",
        "figure",
        "--mask",
        seq.ground_truth_dir / "masks" / "1" / "IMG_0103.png",
    )
    run("track", proj, "--tracker", "homography")
    run("export", proj, tmp_path / "masks")
    for name in seq.view_names:
        got = cv2.imread(str(tmp_path / "masks" / "1" / name.replace(".jpg", ".png")), cv2.IMREAD_GRAYSCALE) > 0
        assert g.mask_iou(got, seq.view_mask(name, 1)) > 0.97, name
