"""HDF5 mask stack: round trip, schema attributes, one mask plane per gzip chunk, canvas stack."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import multiview
from multiview import ProjectError, ProjectExistsError
from multiview.export import ExportOptions, export, original_mask
from multiview.export.h5 import SCHEMA_VERSION, write_h5
from multiview.plane import PlaneCanvas, Scale, mapping, warp_result_to_ref
from multiview.review import review


def test_round_trip(built, tmp_path) -> None:
    proj = built.project
    export(proj, tmp_path / "out", ["h5"], options=ExportOptions(scale=Scale(2.0)))
    stack = multiview.read_h5(tmp_path / "out" / "masks.h5")
    assert stack.schema_version == SCHEMA_VERSION and stack.tool_version == multiview.__version__
    assert stack.object_ids == (1, 2) and stack.object_names == ("figure", "lacuna")
    assert stack.object_colors == tuple(o.color for o in proj.objects)
    assert stack.reference == proj.reference.id and stack.scale_px_per_cm == 2.0
    assert [v.name for v in stack.views] == [v.id for v in proj.views]
    assert [p["id"] for p in stack.prompts] == [p.id for p in proj.prompts]
    assert stack.model == [{"model": "test", "tracker": "homography"}]
    rep = review(proj, scale=Scale(2.0))
    regs = proj.registrations
    for i, (hv, v) in enumerate(zip(stack.views, proj.views)):
        assert (hv.index, hv.width, hv.height, hv.sha256) == (i, v.width, v.height, v.sha256)
        assert hv.masks.shape == (2, v.height, v.width) and hv.masks.dtype == bool
        assert hv.registered == regs[v.id].ok
        if regs[v.id].ok:
            np.testing.assert_allclose(hv.H_ref_from_view, regs[v.id].H_ref_from_view)
        else:
            assert hv.H_ref_from_view is None and np.isnan(hv.area_ref_px).all()
        for k, oid in enumerate((1, 2)):
            r = proj.read_result(oid, v.id)
            m, _ = original_mask(r, v)
            np.testing.assert_array_equal(hv.masks[k], m)
            assert hv.known[k].all() and hv.has_result[k]
            assert hv.score[k] == pytest.approx(0.9) and hv.area_px[k] == np.count_nonzero(m)
            row = rep.row(v.id, oid)
            if row.area_ref_px is not None:
                assert hv.area_ref_px[k] == pytest.approx(row.area_ref_px)
                assert hv.area_cm2[k] == pytest.approx(row.area_ref_px / 4.0)


def test_canvas_stack_is_the_reference_plane(built, tmp_path) -> None:
    proj = built.project
    path = write_h5(proj, tmp_path / "m.h5", options=ExportOptions(canvas_max_side=128))
    stack = multiview.read_h5(path)
    assert stack.canvas_masks.shape == (6, 2, 96, 128)
    assert np.allclose(stack.H_canvas_from_ref[0, 0], 128 / 320)
    for i, v in enumerate(proj.views):
        for k, oid in enumerate((1, 2)):
            if not proj.registrations[v.id].ok:
                assert not stack.canvas_masks[i, k].any() and not stack.canvas_known[i, k].any()
                continue
            canvas = PlaneCanvas((128, 96), stack.H_canvas_from_ref)
            prob, known = warp_result_to_ref(mapping(proj, v.id), proj.read_result(oid, v.id), canvas)
            np.testing.assert_array_equal(stack.canvas_masks[i, k], prob >= 0.5)
            np.testing.assert_array_equal(stack.canvas_known[i, k], known)
    # Registered views agree in the reference plane (up to resampling): the point of the canvas.
    ref_i = [v.id for v in proj.views].index(proj.reference.id)
    a = stack.canvas_masks[ref_i, 0]
    for i in (0, 2, 4):
        b = stack.canvas_masks[i, 0]
        assert np.count_nonzero(a & b) / np.count_nonzero(a | b) > 0.9


def test_layout_chunks_and_compression(built, tmp_path) -> None:
    import os

    from multiview.atomic import FILE_MODE

    path = write_h5(built.project, tmp_path / "m.h5")
    assert os.stat(path).st_mode & 0o777 == FILE_MODE  # like any file the user creates, not owner-only
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "multiview-masks" and f.attrs["schema_version"] == SCHEMA_VERSION
        assert json.loads(f.attrs["view_names"])[0] == "IMG_1.jpg"
        assert f.attrs["image_sizes"].tolist()[0] == [320, 240]
        d = f["views/0000/masks"]
        assert d.dtype == np.uint8 and d.shape == (2, 240, 320)
        assert d.chunks == (1, 240, 320) and d.compression == "gzip"
        c = f["canvas/masks"]
        assert c.chunks == (1, 1, 192, 256) and c.shape == (6, 2, 192, 256)
        assert set(np.unique(d[()])) <= {0, 1}


def test_unaligned_project_has_no_canvas_and_refusals(tmp_path, builder) -> None:
    b = builder.build_project(tmp_path, 3)
    b.project.set_registrations({})
    path = write_h5(b.project, tmp_path / "m.h5", obj_ids=[2])
    stack = multiview.read_h5(path)
    assert stack.canvas_masks is None and stack.object_ids == (2,)
    assert all(v.H_ref_from_view is None for v in stack.views)
    with pytest.raises(ProjectExistsError):
        write_h5(b.project, path)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(ProjectError, match="schema version 99"):
        multiview.read_h5(path)
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(ProjectError, match="not a readable HDF5"):
        multiview.read_h5(tmp_path / "x.h5")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
