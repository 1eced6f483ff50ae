"""Damage-map exports read back with the tools users' programs use: GDAL (ogrinfo, gdalinfo) and ezdxf."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from multiview.cli import main
from multiview.export import ExportOptions, export
from multiview.plane import Scale

PX_PER_CM = 2.25  # about the sample's reference photo (IMG_0104 shows the 240 cm panel on ~540 px)


def _tool(*args: str) -> str:
    exe = shutil.which(args[0])
    if exe is None:
        pytest.fail(f"{args[0]} not found: install Debian's gdal-bin (`make test` does)")
    r = subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def exported(sample_map, tmp_path_factory):
    seq, proj = sample_map
    out = tmp_path_factory.mktemp("exp") / "map"
    fmts = ("ortho", "gpkg", "geojson", "dxf", "svg", "summary")
    opts = ExportOptions(scale=Scale(PX_PER_CM, "test"), ortho_overlay=True)
    counts = export(proj, out, fmts, options=opts)
    return seq, proj, out, counts


def test_gpkg_and_geojson_read_back_with_ogrinfo(exported) -> None:
    _seq, proj, out, _counts = exported
    info = _tool("ogrinfo", "-al", "-so", str(out / "damage_map.gpkg"))
    assert "Feature Count: 3" in info and "Multi Polygon" in info
    assert 'ENGCRS["multiview reference plane (metres, y up)"' in info and 'LENGTHUNIT["metre",1]' in info
    assert "y upwards" in info and "IMG_0104.jpg" in info
    full = _tool("ogrinfo", "-al", "-q", str(out / "damage_map.gpkg"))
    assert "category (String) = loss" in full and "views (String) = IMG_0101.jpg," in full
    gj = json.loads((out / "damage_map.geojson").read_text())
    feats = {f["properties"]["obj_id"]: f for f in gj["features"]}
    assert _tool("ogrinfo", "-al", "-so", str(out / "damage_map.geojson")).count("Feature Count: 3") == 1
    # metres, y up: the lacuna lies below the top of the reference photo (negative y) and right of its left edge
    from shapely.geometry import shape

    x0, y0, x1, y1 = shape(feats[3]["geometry"]).bounds
    ref = proj.reference
    assert 0 < x0 < x1 < ref.width / PX_PER_CM / 100
    assert -ref.height / PX_PER_CM / 100 < y0 < y1 < 0
    # the attribute area is the polygon's area in the file's own units
    for f in feats.values():
        assert f["properties"]["area_cm2"] == pytest.approx(shape(f["geometry"]).area * 1e4, rel=1e-4)


def test_dxf_is_clean_for_ezdxf_audit_and_gdal(exported) -> None:
    import ezdxf

    _, _, out, _ = exported
    doc = ezdxf.readfile(out / "damage_map.dxf")
    auditor = doc.audit()
    assert not auditor.has_errors and not auditor.fixes
    assert doc.header["$INSUNITS"] == 5  # centimetres
    assert {"figure", "loss"} <= {layer.dxf.name for layer in doc.layers}
    assert doc.layers.get("loss").rgb == (214, 39, 40)
    plines = doc.modelspace().query("LWPOLYLINE")
    assert plines and all(p.closed for p in plines)
    assert any("category=loss" in str(p.get_xdata("MULTIVIEW")) for p in plines)
    assert len(doc.modelspace().query('HATCH[layer=="loss"]')) >= 1
    info = _tool("ogrinfo", "-al", "-so", str(out / "damage_map.dxf"))
    assert "Feature Count:" in info


def test_orthophoto_geotiff_and_its_match_with_the_clean_panel(exported) -> None:
    import rasterio

    seq, proj, out, counts = exported
    assert counts["ortho"] == 6  # tif/jpg/jgw, plain and overlay
    info = _tool("gdalinfo", str(out / "ortho" / "orthophoto.tif"))
    px_m = 1 / (PX_PER_CM * 100)
    assert f"Pixel Size = ({px_m:.15f},-{px_m:.15f})" in info
    assert "ENGCRS" in info and "COMPRESSION=DEFLATE" in info and "Block=512x512" in info
    assert "ColorInterp=Alpha" in info
    with rasterio.open(out / "ortho" / "orthophoto.tif") as ds:
        img = ds.read().transpose(1, 2, 0)
        t = ds.transform
    # map -> plane: x = X * s - 0.5, y = -Y * s - 0.5 (s = px per metre); grid pixel -> map through t
    s = PX_PER_CM * 100
    A = np.array(
        [[t.a * s, 0, t.c * s + 0.5 * t.a * s - 0.5], [0, -t.e * s, -t.f * s - 0.5 * t.e * s - 0.5], [0, 0, 1]]
    )
    H_grid_from_panel = np.linalg.inv(A) @ seq.H_view_from_panel[proj.reference.id]
    panel = cv2.imread(str(seq.ground_truth_dir / "panel.png"), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    h, w = img.shape[:2]
    truth = cv2.warpPerspective(panel, H_grid_from_panel, (w, h), flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.ones_like(panel), H_grid_from_panel, (w, h)) > 0.999
    inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    covered = inside & (img[..., 3] > 0)
    assert covered.sum() > 0.95 * inside.sum()
    g = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float64)[covered]
    r = truth.astype(np.float64)[covered]
    ncc = np.sum((g - g.mean()) * (r - r.mean())) / np.sqrt(np.sum((g - g.mean()) ** 2) * np.sum((r - r.mean()) ** 2))
    assert ncc >= 0.9
    jgw = (out / "ortho" / "orthophoto.jgw").read_text().split()
    assert len(jgw) == 6 and float(jgw[3]) < 0  # y up


def test_svg_and_summary(exported) -> None:
    _, _, out, _counts = exported
    root = ET.parse(out / "damage_map.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("width").endswith("cm")
    assert len(root.findall(f".//{ns}g[@id='objects']/{ns}g")) == 3
    assert root.find(f".//{ns}g[@id='legend']") is not None and root.find(f".//{ns}image") is not None
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    per_obj = [r for r in rows if r["object"] != "ALL"]
    totals = {r["category"]: r for r in rows if r["object"] == "ALL"}
    assert len(per_obj) == 3 and totals["figure"]["count"] == "2" and totals["loss"]["count"] == "1"
    fig = sum(float(r["area_cm2"]) for r in per_obj if r["category"] == "figure")
    assert float(totals["figure"]["area_cm2"]) == pytest.approx(fig, abs=0.02)
    assert 0 < float(totals["loss"]["share_of_mapped_wall"]) < 0.05
    png = cv2.imread(str(out / "summary.png"))
    assert png is not None and png.shape[1] > png.shape[0]
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["damage_map"]["objects"] == [1, 2, 3] and manifest["damage_map"]["skipped"] == []


def test_without_a_scale_files_say_pixels(sample_map, tmp_path: Path) -> None:
    import ezdxf

    _, proj = sample_map
    export(proj, tmp_path / "px", ("gpkg", "dxf", "summary"), obj_ids=[3])
    info = _tool("ogrinfo", "-al", "-so", str(tmp_path / "px" / "damage_map.gpkg"))
    assert "No scale is set: coordinates are reference-plane pixels" in info and "multiview reference plane" not in info
    assert ezdxf.readfile(tmp_path / "px" / "damage_map.dxf").header["$INSUNITS"] == 0
    rows = list(csv.DictReader((tmp_path / "px" / "summary.csv").open(encoding="utf-8")))
    assert rows[0]["area_cm2"] == "" and float(rows[0]["area_ref_px"]) > 1000


def test_cli_bad_input_writes_nothing(sample_map, tmp_path: Path) -> None:
    _, proj = sample_map
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["export", str(proj.root), str(out), "--format", "ortho", "--ortho-res", "5"])
    assert r.exit_code != 0 and "needs the wall's scale" in r.output and "multiview scale" in r.output
    assert "Traceback" not in r.output and not out.exists()
    r = CliRunner().invoke(
        main, ["export", str(proj.root), str(out), "--format", "ortho", "--ortho-res", "1", "--scale", "2.25"]
    )
    assert r.exit_code == 0, r.output
    import rasterio

    with rasterio.open(out / "ortho" / "orthophoto.tif") as ds:
        assert ds.res == pytest.approx((0.01, 0.01))  # 1 px per cm


def test_status_h5_and_the_map_files_report_the_same_area(exported, tmp_path: Path) -> None:
    import h5py

    _, proj, out, _ = exported
    r = CliRunner().invoke(main, ["status", str(proj.root), "--json", "--scale", str(PX_PER_CM)])
    assert r.exit_code == 0, r.output
    status = {a["obj_id"]: a["area_cm2"] for a in json.loads(r.output)["map"]}
    gj = json.loads((out / "damage_map.geojson").read_text())
    files = {f["properties"]["obj_id"]: f["properties"]["area_cm2"] for f in gj["features"]}
    export(proj, tmp_path / "h", ("h5",), options=ExportOptions(scale=Scale(PX_PER_CM, "test")))
    with h5py.File(tmp_path / "h" / "masks.h5") as f:
        ids = [int(i) for i in f.attrs["object_ids"]]
        h5 = dict(zip(ids, f.attrs["object_map_area_cm2"]))
        assert json.loads(f.attrs["object_categories"]) == ["figure", "figure", "loss"]
    for oid, a in files.items():
        assert status[oid] == pytest.approx(a, abs=1e-3) and h5[oid] == pytest.approx(a, abs=1e-3)
