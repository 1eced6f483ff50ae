"""Tests of the bundled synthetic fresco sample (devtools.sample, sequences/make_sample.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from devtools.sample import (
    SampleExistsError,
    SampleSequence,
    SampleValueError,
    load_sample,
    make_sample,
)
from multiview.errors import MultiviewError

REPO = Path(__file__).resolve().parent.parent
NAMES = [f"IMG_{n:04d}.jpg" for n in range(101, 107)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleSequence:
    return make_sample(tmp_path_factory.mktemp("sample") / "fresco")


def _files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _valid_area(seq: SampleSequence, name: str) -> np.ndarray:
    """Panel area of the view, away from the panel edge, not hidden by the occluder."""
    cover = seq.panel_coverage(name).astype(np.uint8)
    occ = cv2.dilate(seq.occluder_mask(name).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    return (cv2.erode(cover, np.ones((9, 9), np.uint8)) > 0) & ~occ


def _ncc(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> float:
    x = a[valid] - a[valid].mean()
    y = b[valid] - b[valid].mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def _project(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    q = np.column_stack([pts, np.ones(len(pts))]) @ H.T
    return q[:, :2] / q[:, 2:3]


# ----------------------------------------------------------------------------- layout


def test_layout_and_json(sample: SampleSequence) -> None:
    out = sample.photos_dir.parent
    assert sample.photos_dir == out / "photos"
    assert sorted(f.name for f in sample.photos_dir.iterdir()) == NAMES  # photos only
    assert sample.view_names == NAMES  # file-name order = wall order
    gt = out / "ground_truth"
    assert sample.ground_truth_dir == gt
    assert (gt / "panel.png").is_file()
    meta = json.loads((gt / "homographies.json").read_text())
    assert meta["convention"] == "H_view_from_panel maps panel pixel (x, y, 1) to view pixel"
    assert meta["panel_size"] == [1200, 900]
    assert sorted(meta["views"]) == NAMES
    assert meta["objects"] == [{"id": 1, "name": "figure"}, {"id": 2, "name": "rosette"}, {"id": 3, "name": "lacuna"}]
    for name in NAMES:
        H = np.asarray(meta["views"][name])
        assert H.shape == (3, 3)
        np.testing.assert_array_equal(H, sample.H_view_from_panel[name])
    for obj in sample.objects:
        assert (gt / "panel_masks" / f"{obj.id}.png").is_file()
        mask_names = sorted(f.name for f in (gt / "masks" / str(obj.id)).iterdir())
        assert mask_names == [n.replace(".jpg", ".png") for n in NAMES]
    assert not [f for f in out.rglob(".tmp-*")]  # atomic writes leave no temp files
    assert all(f.stat().st_mode & 0o777 == 0o644 for f in out.rglob("*") if f.is_file())
    panel = sample.read_panel()
    assert panel.shape == (900, 1200, 3) and panel.dtype == np.uint8


def test_mixed_sizes_and_partial_view(sample: SampleSequence) -> None:
    sizes = []
    n_partial = n_full = 0
    w, h = sample.panel_size
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    for name in sample.view_names:
        img = cv2.imread(str(sample.photo_path(name)))
        assert img is not None
        assert (img.shape[1], img.shape[0]) == sample.view_sizes[name]
        sizes.append(sample.view_sizes[name])
        uv = sample.project(name, corners)
        vw, vh = sample.view_sizes[name]
        inside = (uv[:, 0] >= 0) & (uv[:, 0] <= vw - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= vh - 1)
        n_full += bool(inside.all())
        n_partial += bool(not inside.all())
        assert sample.panel_coverage(name).mean() > 0.2  # every view sees a good part of the panel
    middle = sample.view_names[len(sample.view_names) // 2]  # default reference of `multiview init`
    assert not sample.occluder_mask(middle).any()
    assert all(sample.view_mask(middle, o.id).sum() > 2000 for o in sample.objects)
    assert len(set(sizes)) >= 3
    assert any(vh > vw for vw, vh in sizes)  # a portrait photo
    assert n_partial >= 1 and n_full >= 4


def test_size_budget(sample: SampleSequence) -> None:
    total = sum(len(b) for b in _files(sample.photos_dir.parent).values())
    assert total < 2_000_000


# ----------------------------------------------------------------------------- determinism


def test_deterministic(sample: SampleSequence, tmp_path: Path) -> None:
    again = make_sample(tmp_path / "again", seed=0)
    assert _files(sample.photos_dir.parent) == _files(tmp_path / "again")
    for name in NAMES:
        np.testing.assert_array_equal(again.H_view_from_panel[name], sample.H_view_from_panel[name])


def test_seed_changes_sample_and_panel_ignores_n_views(sample: SampleSequence, tmp_path: Path) -> None:
    few = make_sample(tmp_path / "few", seed=0, n_views=3)
    assert few.view_names == NAMES[:3]
    ref = sample.photos_dir.parent / "ground_truth" / "panel.png"
    assert (tmp_path / "few" / "ground_truth" / "panel.png").read_bytes() == ref.read_bytes()
    other = make_sample(tmp_path / "other", seed=1, n_views=3)
    assert (tmp_path / "other" / "ground_truth" / "panel.png").read_bytes() != ref.read_bytes()
    assert not np.allclose(other.H_view_from_panel[NAMES[0]], sample.H_view_from_panel[NAMES[0]])


# ----------------------------------------------------------------------------- geometry


def test_homographies_match_photos(sample: SampleSequence) -> None:
    """The panel warped by the ground-truth H lines up with the photo, to a fraction of a pixel."""
    panel = _gray(sample.read_panel())
    for name in sample.view_names:
        photo = _gray(sample.read_photo(name))
        H = sample.H_view_from_panel[name]
        size = sample.view_sizes[name]
        valid = _valid_area(sample, name)
        warped = cv2.warpPerspective(panel, H, size, flags=cv2.INTER_LINEAR)
        ncc = _ncc(warped, photo, valid)
        assert ncc > 0.85, (name, ncc)
        shift = np.array([[1, 0, 6], [0, 1, 0], [0, 0, 1]], float)  # 6 px off must be clearly worse
        worse = _ncc(cv2.warpPerspective(panel, shift @ H, size, flags=cv2.INTER_LINEAR), photo, valid)
        assert worse < ncc - 0.05, (name, ncc, worse)
        a = np.where(valid, warped - warped[valid].mean(), 0).astype(np.float32)
        b = np.where(valid, photo - photo[valid].mean(), 0).astype(np.float32)
        (dx, dy), _ = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(size, cv2.CV_32F))
        assert abs(dx) < 0.2 and abs(dy) < 0.2, (name, dx, dy)


def test_homographies_come_from_a_camera_moving_along_the_wall(sample: SampleSequence) -> None:
    meta = json.loads((sample.ground_truth_dir / "homographies.json").read_text())
    w, h = sample.panel_size
    m = meta["panel_metres_per_pixel"]
    S = np.array([[m, 0, -m * (w - 1) / 2], [0, m, -m * (h - 1) / 2], [0, 0, 1]])
    yaws, xs = [], []
    for name in sample.view_names:
        cam = meta["cameras"][name]
        K, R, C = (np.asarray(cam[k]) for k in ("K", "R_cam_from_wall", "centre_wall_m"))
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) > 0
        assert C[2] < 0  # in front of the wall (the wall is z = 0, z points into it)
        H = K @ np.column_stack([R[:, 0], R[:, 1], -R @ C]) @ S
        np.testing.assert_allclose(H / H[2, 2], sample.H_view_from_panel[name], rtol=1e-9, atol=1e-9)
        yaws.append(cam["yaw_deg"])
        xs.append(C[0])
    assert yaws == sorted(yaws) and xs == sorted(xs)  # left to right along the wall in file-name order
    assert yaws[0] < -30 and yaws[-1] > 30


def test_projected_landmarks_fall_in_masks(sample: SampleSequence) -> None:
    rosette_centre, head = np.array([[890.0, 280.0]]), np.array([[430.0, 256.0]])
    for name in sample.view_names:
        for obj_id, pt in ((2, rosette_centre), (1, head)):
            x, y = np.round(sample.project(name, pt)[0]).astype(int)
            vw, vh = sample.view_sizes[name]
            if 0 <= x < vw and 0 <= y < vh:
                assert sample.view_mask(name, obj_id)[y, x], (name, obj_id)


def test_view_masks(sample: SampleSequence) -> None:
    gt = sample.ground_truth_dir
    ids = [o.id for o in sample.objects]
    assert ids == [1, 2, 3]
    total = np.zeros((900, 1200), int)
    for obj_id in ids:
        pm = sample.panel_masks[obj_id]
        assert pm.shape == (900, 1200) and pm.dtype == bool and pm.sum() > 5000
        total += pm
    assert total.max() == 1  # disjoint
    for name in sample.view_names:
        vw, vh = sample.view_sizes[name]
        # independent nearest-neighbour warp: view pixel centre -> panel pixel
        yy, xx = np.mgrid[0:vh, 0:vw]
        src = _project(np.linalg.inv(sample.H_view_from_panel[name]), np.column_stack([xx.ravel(), yy.ravel()]))
        sx, sy = np.round(src[:, 0]).astype(int), np.round(src[:, 1]).astype(int)
        inside = (sx >= 0) & (sx < 1200) & (sy >= 0) & (sy < 900)
        for obj_id in ids:
            m = sample.view_mask(name, obj_id)
            assert m.shape == (vh, vw) and m.dtype == bool
            png = cv2.imread(str(gt / "masks" / str(obj_id) / name.replace(".jpg", ".png")), cv2.IMREAD_UNCHANGED)
            assert png.dtype == np.uint8 and set(np.unique(png)) <= {0, 255}
            np.testing.assert_array_equal(png == 255, m)
            ref = np.zeros(vh * vw, bool)
            ref[inside] = sample.panel_masks[obj_id][sy[inside], sx[inside]]
            ref = ref.reshape(vh, vw)
            if ref.sum() == 0:
                assert m.sum() == 0
                continue
            edge = cv2.morphologyEx(ref.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
            assert not np.any((m != ref) & ~edge), (name, obj_id)  # differences only on the outline
            assert (m != ref).sum() < 0.1 * ref.sum()
        assert sample.view_mask(name, 1).sum() > 1000  # the figure is seen in every view


def test_occluders(sample: SampleSequence) -> None:
    occluded = sorted(sample.occluder_masks)
    assert len(occluded) == 2
    meta = json.loads((sample.ground_truth_dir / "homographies.json").read_text())
    assert sorted(meta["occluders"]) == occluded
    panel = _gray(sample.read_panel())
    for name in occluded:
        occ = sample.occluder_mask(name)
        cover = sample.panel_coverage(name)
        hidden = occ & cover
        assert hidden.sum() > 2000  # hides part of the panel
        png = cv2.imread(str(sample.ground_truth_dir / meta["occluders"][name]), cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(png == 255, occ)
        # the photo does not show the panel there
        photo = _gray(sample.read_photo(name))
        warped = cv2.warpPerspective(panel, sample.H_view_from_panel[name], sample.view_sizes[name])
        core = cv2.erode(hidden.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert np.abs(photo[core] - warped[core]).mean() > 20
    for name in set(sample.view_names) - set(occluded):
        assert not sample.occluder_mask(name).any()


@pytest.mark.skipif(not hasattr(cv2, "SIFT_create"), reason="OpenCV without SIFT")
def test_features_recover_ground_truth(sample: SampleSequence) -> None:
    """A plain SIFT + RANSAC pipeline finds the ground-truth homography (the texture is matchable)."""
    sift = cv2.SIFT_create(1500)
    panel = cv2.cvtColor(sample.read_panel(), cv2.COLOR_RGB2GRAY)
    kp0, d0 = sift.detectAndCompute(panel, None)
    grid = np.stack(np.meshgrid(np.linspace(100, 1100, 6), np.linspace(100, 800, 5)), -1).reshape(-1, 2)
    for name in (sample.view_names[0], sample.view_names[-1]):  # the most oblique views
        img = cv2.cvtColor(sample.read_photo(name), cv2.COLOR_RGB2GRAY)
        kp1, d1 = sift.detectAndCompute(img, None)
        good = [m for m, n in cv2.BFMatcher().knnMatch(d0, d1, k=2) if m.distance < 0.8 * n.distance]
        src = np.float32([kp0[m.queryIdx].pt for m in good])
        dst = np.float32([kp1[m.trainIdx].pt for m in good])
        H, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
        assert inliers.sum() > 50
        err = np.linalg.norm(_project(H, grid) - sample.project(name, grid), axis=1)
        assert err.max() < 2.0, (name, err.max())


# ----------------------------------------------------------------------------- API


def test_load_round_trip(sample: SampleSequence) -> None:
    loaded = load_sample(sample.photos_dir.parent)
    assert loaded.photos_dir == sample.photos_dir
    assert loaded.ground_truth_dir == sample.ground_truth_dir
    assert loaded.panel_size == sample.panel_size
    assert loaded.objects == sample.objects
    assert loaded.view_names == sample.view_names
    assert loaded.view_sizes == sample.view_sizes
    for name in sample.view_names:
        np.testing.assert_array_equal(loaded.H_view_from_panel[name], sample.H_view_from_panel[name])
        assert loaded.H_view_from_panel[name].dtype == np.float64
        np.testing.assert_array_equal(loaded.occluder_mask(name), sample.occluder_mask(name))
    assert loaded.panel_masks.keys() == sample.panel_masks.keys()
    for obj_id, m in sample.panel_masks.items():
        np.testing.assert_array_equal(loaded.panel_masks[obj_id], m)


def test_bad_arguments(sample: SampleSequence, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_sample(tmp_path / "a", n_views=1)
    with pytest.raises(SampleValueError):
        make_sample(tmp_path / "a", seed=-1)
    with pytest.raises(ValueError, match="unknown object id"):
        sample.view_mask(NAMES[0], 7)
    with pytest.raises(ValueError, match="unknown photo"):
        sample.view_mask("nope.jpg", 1)
    with pytest.raises(ValueError, match="not a sample folder"):
        load_sample(tmp_path)
    assert not (tmp_path / "a").exists()


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty") as info:
        make_sample(out, n_views=2)
    assert isinstance(info.value, SampleExistsError) and isinstance(info.value, MultiviewError)
    assert [f.name for f in out.iterdir()] == ["notes.txt"]

    make_sample(out, n_views=3, overwrite=True)
    before = (out / "photos" / "IMG_0101.jpg").read_bytes()
    with pytest.raises(FileExistsError):
        make_sample(out, n_views=2, seed=5)
    assert (out / "photos" / "IMG_0101.jpg").read_bytes() == before
    seq = make_sample(out, n_views=2, seed=5, overwrite=True)
    assert sorted(f.name for f in (out / "photos").iterdir()) == NAMES[:2]  # stale IMG_0103 removed
    assert not (out / "ground_truth" / "masks" / "1" / "IMG_0103.png").exists()
    assert (out / "notes.txt").read_text() == "mine"  # files we did not write are kept
    assert load_sample(out).view_names == seq.view_names == NAMES[:2]


def test_script(tmp_path: Path) -> None:
    out = tmp_path / "s"
    cmd = [sys.executable, str(REPO / "sequences" / "make_sample.py"), str(out), "--views", "2", "--seed", "3"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.strip().splitlines()) == 1 and "2 photos" in run.stdout
    assert load_sample(out).view_names == NAMES[:2]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 1 and "--overwrite" in run.stderr
    run = subprocess.run([*cmd, "--overwrite"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
