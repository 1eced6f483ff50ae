"""Export entry point: options, manifest, refusal to overwrite, nothing left behind on failure."""

from __future__ import annotations

import json

import pytest

from multiview import ExportError, ProjectExistsError, StorageError, ValidationError
from multiview.export import EXPORTERS, ExportOptions, base, export, get_writer


def test_every_format_is_registered_and_importable() -> None:
    assert list(EXPORTERS) == [
        *("png", "labels", "h5", "coco", "metashape", "colmap", "realitycapture"),
        *("ortho", "gpkg", "geojson", "dxf", "svg", "summary"),
    ]
    for fmt in EXPORTERS:
        assert callable(get_writer(fmt))
    with pytest.raises(ValidationError, match="unknown export format 'tiff'"):
        get_writer("tiff")


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="keep 'occluder'"):
        ExportOptions(keep="occluder")
    with pytest.raises(ValidationError, match="canvas size"):
        ExportOptions(canvas_max_side=4)


def test_manifest_and_refusals(built, tmp_path) -> None:
    out = tmp_path / "out"
    counts = export(built.project, out, ["png", "labels"])
    assert counts == {"png": 12, "labels": 7}  # 6 views x 2 objects; 6 label images + objects.json
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["files"] == counts and manifest["keep"] == "object" and manifest["objects"] == [1, 2]
    with pytest.raises(ProjectExistsError, match=r"already exists.*replace") as e:
        export(built.project, out, ["png"])
    assert e.value.hint is not None and (e.value.hint.option, e.value.hint.field) == ("--overwrite", "overwrite")
    with pytest.raises(ValidationError, match="object 9 does not exist"):
        export(built.project, tmp_path / "o2", ["png"], obj_ids=[9])
    assert export(built.project, out, ["coco"], overwrite=True) == {"coco": 1}
    assert sorted(p.name for p in out.iterdir()) == ["coco.json", "export.json"]


def test_failing_writer_leaves_the_old_output(built, tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    export(built.project, out, ["png"])
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))

    def boom(project, folder, ids, options):
        (folder / "partial.txt").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(base, "get_writer", lambda fmt: boom)
    with pytest.raises(StorageError, match="disk full"):
        export(built.project, out, ["png"], overwrite=True)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_nothing_to_export(tmp_path, builder) -> None:
    b = builder.build_project(tmp_path, 3)
    b.project.clear_results()
    with pytest.raises(ExportError, match="no tracked masks"):
        export(b.project, tmp_path / "out", ["h5"])
    assert not (tmp_path / "out").exists()
