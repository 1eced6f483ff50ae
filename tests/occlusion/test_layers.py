"""Occlusion layers of an aligned project against the sample's ground truth.

The sample has two photos with something in front of the wall (IMG_0102: a scaffolding pole
with a cross tube; IMG_0106: a dark beam) and four without; its object masks are not cut by
the occluders, so the truth of a visible mask is ``object AND NOT occluder``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest

from multiview.errors import ProjectError
from multiview.export import ExportOptions, export
from multiview.occlusion import compute_occlusion, stored_layers
from multiview.project import OcclusionLayer, Project

OCCLUDED = ("IMG_0102.jpg", "IMG_0106.jpg")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


@pytest.fixture(scope="module")
def tracked(aligned_sample, tmp_path_factory):
    """A copy of the aligned sample with objects 1-3 drawn on IMG_0104 and carried by homographies."""
    from multiview.tracking import get_tracker, run_tracking

    seq, proj = aligned_sample
    root = tmp_path_factory.mktemp("occ") / "project"
    shutil.copytree(proj.root, root)
    p = Project.open(root)
    for oid in (1, 2, 3):
        p.add_prompt("IMG_0104", oid, mask=seq.view_mask("IMG_0104.jpg", oid))
    run_tracking(p, get_tracker("homography"))
    return seq, p


def test_align_stores_a_fresh_layer_per_view(aligned_sample):
    seq, proj = aligned_sample
    layers = stored_layers(proj)
    assert layers.state == "fresh" and layers.note() is None
    assert set(layers.views) == set(seq.view_names)
    for name in seq.view_names:
        layer = layers.get(name)
        assert layer is not None and layer.known.mean() > 0.5
        assert len(layers.views[name].sources) >= 2  # at least two other views where available
        if name in OCCLUDED:
            assert layers.views[name].occluded_share > 0.03, name
        else:
            assert not (layer.occluded >= 128).any(), f"{name} has no occluder but pixels were called occluded"


@pytest.mark.parametrize("name", OCCLUDED)
def test_detection_against_the_occluder_truth(aligned_sample, name):
    seq, proj = aligned_sample
    occ, known = stored_layers(proj).get(name).at_size(seq.view_sizes[name])
    truth = seq.occluder_mask(name)
    tp = np.count_nonzero(occ & truth)
    precision = tp / max(1, np.count_nonzero(occ))
    recall_seen = tp / max(1, np.count_nonzero(truth & known))  # where other views see the wall
    assert precision > 0.85 and recall_seen > 0.85, (name, precision, recall_seen)
    # never occluded where no other view sees the wall
    assert not (occ & ~known).any()


def test_visible_masks_against_the_truth(tracked, tmp_path):
    seq, p = tracked
    export(p, tmp_path / "vis", ["png"], options=ExportOptions(visible=True))
    export(p, tmp_path / "amo", ["png"])
    manifest = json.loads((tmp_path / "vis" / "export.json").read_text())
    assert manifest["masks"] == {"png": "visible"} and manifest["occlusion"] == "up to date"
    for name in seq.view_names:
        stem = name.rsplit(".", 1)[0]
        occluder = seq.occluder_mask(name)
        for oid in (1, 2, 3):
            vis = cv2.imread(str(tmp_path / "vis" / str(oid) / f"{stem}.png"), cv2.IMREAD_GRAYSCALE) > 0
            amo = cv2.imread(str(tmp_path / "amo" / str(oid) / f"{stem}.png"), cv2.IMREAD_GRAYSCALE) > 0
            truth = seq.view_mask(name, oid)
            if name in OCCLUDED:
                want = truth & ~occluder
                assert _iou(vis, want) >= 0.90, (name, oid, _iou(vis, want))
                if (truth & occluder).sum() > 0.02 * truth.sum():
                    assert _iou(vis, want) > _iou(amo, want) + 0.01, (name, oid)  # the occluder really is removed
            else:
                assert np.array_equal(vis, amo), f"{name} object {oid}: a view without occluder changed"


def test_photogrammetry_masks_leave_occluders_out_by_default(tracked, tmp_path):
    seq, p = tracked
    export(p, tmp_path / "d", ["colmap"], options=ExportOptions(keep="background"))
    export(p, tmp_path / "a", ["colmap"], options=ExportOptions(keep="background", visible=False))
    for name in seq.view_names:
        d = cv2.imread(str(tmp_path / "d" / "colmap" / f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 0
        a = cv2.imread(str(tmp_path / "a" / "colmap" / f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 0
        occluder = seq.occluder_mask(name)
        if name in OCCLUDED:
            # the wall behind the objects is used, the scaffolding is not
            assert d[occluder].mean() < 0.25 < a[occluder].mean(), name
        else:
            assert np.array_equal(d, a), name


def test_status_rows_carry_the_occluded_share(tracked):
    from multiview.review import review

    seq, p = tracked
    report = review(p)
    for r in report.rows:
        truth = seq.view_mask(r.view_id, r.obj_id)
        hidden = np.count_nonzero(truth & seq.occluder_mask(r.view_id)) / max(1, np.count_nonzero(truth))
        assert r.occluded_share is not None
        assert abs(r.occluded_share - hidden) < 0.05, (r.view_id, r.obj_id, r.occluded_share, hidden)


def test_a_new_geometry_makes_the_layers_stale(aligned_sample, tmp_path):
    _, proj = aligned_sample
    root = tmp_path / "p"
    shutil.copytree(proj.root, root)
    p = Project.open(root)
    regs = p.registrations
    shift = np.array([[1, 0, 3.0], [0, 1, 0], [0, 0, 1]])
    regs["IMG_0101.jpg"] = replace(regs["IMG_0101.jpg"], H_ref_from_view=shift @ regs["IMG_0101.jpg"].H_ref_from_view)
    p.set_registrations(regs)
    layers = stored_layers(p)
    assert layers.state == "stale" and layers.get("IMG_0102.jpg") is None
    assert "multiview align" in layers.note()
    compute_occlusion(p)
    assert stored_layers(p).state == "fresh"


def test_an_unaligned_project_has_no_layers_and_exports_full_masks(tmp_path, caplog):
    import review_builder

    p = review_builder.build_project(tmp_path, 3, size=(160, 120)).project
    p.set_registrations({})
    assert stored_layers(p).state == "unaligned"
    with caplog.at_level("WARNING"):
        export(p, tmp_path / "out", ["png"], options=ExportOptions(visible=True))
    assert "not aligned" in caplog.text


def test_export_computes_missing_layers(tmp_path):
    """A project aligned before occlusion layers existed gets them when an export needs them."""
    import review_builder

    p = review_builder.build_project(tmp_path, 4, size=(160, 120)).project
    assert stored_layers(p).state == "missing"
    export(p, tmp_path / "out", ["metashape"])
    layers = stored_layers(p)
    assert layers.state == "fresh"
    assert all(o.occluded_share == 0 for o in layers.views.values())  # nothing stands in front of that panel


def test_layer_file_round_trip_and_damage(aligned_sample, tmp_path):
    _, proj = aligned_sample
    root = tmp_path / "p"
    shutil.copytree(proj.root, root)
    p = Project.open(root)
    layer = p.read_occlusion("IMG_0102")
    assert layer.occluded.dtype == np.uint8 and layer.known.dtype == bool and layer.support.dtype == np.uint8
    assert layer.meta["format"] == "multiview-occlusion" and layer.meta["version"] == 1
    with pytest.raises(Exception, match="must hold"):
        p.write_occlusion(OcclusionLayer("IMG_0102.jpg", layer.occluded, layer.known[:-1], layer.support))
    p.occlusion_path("IMG_0102.jpg").write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="damaged"):
        p.read_occlusion("IMG_0102")
