"""Damage-map export cost: orthophoto and vector outlines for 8 views of 24 MP, peak memory bounded.

A synthetic wall (textured panel, 3 painted objects) is photographed 8 times at 6000 x 4000
(24 MP) by known homographies panning along it (registrations are the known maps; masks are the
true masks at the working size). Each case runs in its own process so its peak RSS is clean:

* ``ortho``: ``export --format ortho`` (tiled GeoTIFF + JPEG preview) at the reference photo's
  resolution, streamed window by window (:class:`multiview.damage.ortho.Mosaic`);
* ``vector``: ``export --format gpkg --format dxf --format svg`` (fusion on the plane, tracing, writers);
* ``naive-ortho`` (the reference, side by side): the textbook mosaic held in memory: every view
  decoded at full size and warped with ``cv2.warpPerspective`` into one full-size float canvas,
  averaged, written with ``cv2.imwrite`` (no blending, no exposure, no tiles).

Usage::

    flock /work/coord/cpu.lock .venv/bin/python benchmarks/damage_map.py [--views 8] [--mp 24]

Writes ``benchmarks/results/damage-map-<UTC>.json`` (machine, versions, times, peak RSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_case(root: Path, n_views: int, mp: float) -> None:
    """Photos, project, registrations and true masks under ``root``."""
    import cv2

    from multiview.plane import Scale
    from multiview.project import MaskResult, Project, Registration

    w = round(np.sqrt(mp * 1e6 * 1.5))
    h = round(w / 1.5)
    pw, ph = int(w * (1 + 0.35 * (n_views - 1))), int(h * 1.1)
    rng = np.random.default_rng(0)
    small = rng.integers(40, 230, (ph // 64, pw // 64, 3), dtype=np.uint8)
    panel_small = cv2.resize(small, (pw // 8, ph // 8), interpolation=cv2.INTER_CUBIC)
    masks = {}
    for oid, (cx, cy, r) in enumerate([(0.2, 0.5, 0.12), (0.5, 0.4, 0.08), (0.8, 0.6, 0.1)], start=1):
        m = np.zeros((ph // 8, pw // 8), np.uint8)
        cv2.circle(m, (int(cx * pw / 8), int(cy * ph / 8)), int(r * ph / 8), 255, -1)
        cv2.circle(m, (int(cx * pw / 8), int(cy * ph / 8)), int(r * ph / 32), 0, -1)
        masks[oid] = m
        panel_small[m > 0] = (panel_small[m > 0] * 0.5 + np.array([200, 40, 40]) * 0.5).astype(np.uint8)
    photos = root / "photos"
    photos.mkdir(parents=True)
    Hs = {}
    for i in range(n_views):
        # panel (downscaled by 8) -> view: scale 8 up, pan along the wall, a little perspective
        tx = -i * 0.35 * w
        H = np.array([[8.0, 0.2 * (i - n_views / 2), tx], [0.0, 8.0, -0.05 * h], [1e-6 * (i - n_views / 2), 0, 1.0]])
        img = cv2.warpPerspective(panel_small, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        name = f"V{i:02d}.jpg"
        cv2.imwrite(str(photos / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        Hs[name] = H
    proj = Project.create(photos, root / "project", reference=f"V{n_views // 2:02d}.jpg")
    ref = proj.reference.id
    regs = {}
    for v in proj.views:
        H_ref_from_view = Hs[ref] @ np.linalg.inv(Hs[v.id])
        regs[v.id] = Registration(
            v.id, "reference" if v.id == ref else "registered", H_ref_from_view / H_ref_from_view[2, 2]
        )
    proj.set_registrations(regs)
    for oid, m in masks.items():
        proj.add_object(oid, f"object {oid}", category="loss")
        for v in proj.views:
            S = np.diag([v.work_width / v.width, v.work_height / v.height, 1.0])
            prob = cv2.warpPerspective(m, S @ Hs[v.id], v.work_size, flags=cv2.INTER_LINEAR)
            if prob.any():
                proj.write_result(MaskResult(oid, v.id, prob))
    proj.set_scale(Scale(10.0, "benchmark"))


def run_case(case: str, root: Path) -> None:
    """Child process: run one case and print JSON (time, outputs)."""
    from multiview.project import Project

    proj = Project.open(root / "project")
    t = time.perf_counter()
    out = root / f"out-{case}"
    info: dict[str, object] = {}
    if case in ("ortho", "vector"):
        from multiview.export import ExportOptions, export

        fmts = ("ortho",) if case == "ortho" else ("gpkg", "dxf", "svg")
        export(proj, out, fmts, overwrite=True, options=ExportOptions(scale=proj.scale()))
        if case == "ortho":
            import rasterio

            with rasterio.open(out / "ortho" / "orthophoto.tif") as ds:
                info["ortho_size"] = [ds.width, ds.height]
    else:
        import cv2

        from multiview.damage.mapping import plane_maps
        from multiview.damage.ortho import ortho_grid
        from multiview.loading import read_photo

        maps = plane_maps(proj)
        g = ortho_grid(proj, maps)
        acc = np.zeros((g.height, g.width, 3), np.float32)
        cnt = np.zeros((g.height, g.width), np.float32)
        T = np.array([[1, 0, -(g.x0)], [0, 1, -(g.y0)], [0, 0, 1]], np.float64)
        for m in maps.values():
            img = read_photo(m.view.path)
            H = T @ m.mapping.H_ref_from_view
            acc += cv2.warpPerspective(img, H, (g.width, g.height)).astype(np.float32)
            cnt += cv2.warpPerspective(np.ones(img.shape[:2], np.float32), H, (g.width, g.height))
        out.mkdir(exist_ok=True)
        cv2.imwrite(str(out / "naive.tif"), (acc / np.maximum(cnt, 1)[..., None]).astype(np.uint8))
        info["ortho_size"] = [g.width, g.height]
    info["seconds"] = time.perf_counter() - t
    info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(info))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--views", type=int, default=8)
    ap.add_argument("--mp", type=float, default=24.0, help="megapixels per photo")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        run_case(a.case, Path(a.root))
        return
    import cv2
    import rasterio
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        make_case(root, a.views, a.mp)
        setup = time.perf_counter() - t
        rows = {}
        for case in ("ortho", "vector", "naive-ortho"):
            r = subprocess.run(
                [sys.executable, __file__, "--case", case, "--root", str(root)], capture_output=True, text=True
            )
            if r.returncode != 0:
                raise SystemExit(r.stderr)
            rows[case] = json.loads(r.stdout.strip().splitlines()[-1])
            print(f"{case:12s} {rows[case]['seconds']:8.1f} s  peak RSS {rows[case]['peak_rss_mb']:8.0f} MB")
    result = {
        "benchmark": "damage_map",
        "utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "views": a.views,
        "megapixels_per_view": a.mp,
        "setup_s": setup,
        "cases": rows,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "note": "shared 2-core machine; other engineers' light work may have run beside",
        },
        "versions": {
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__,
            "shapely": shapely.__version__,
        },
    }
    out = HERE / "results" / f"damage-map-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
