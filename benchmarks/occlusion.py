"""Occluder benchmark: occlusion layers and visible masks against the samples' ground truth.

For each sample sequence with occluder truth (the planar ``sequences/fresco``; the curved
``sequences/apse`` when it is there) a fresh project is created and aligned (the geometry
``multiview align`` stores), then the occlusion layers are computed and timed, at the default
analysis size and at the others given. Per view it reports, against the truth:

* detection: precision and recall of the occluded pixels (original photo pixels), and the
  recall over the pixels another view sees (the only ones that can be judged: elsewhere the
  layer says *unknown* on purpose);
* visible masks: each object is drawn from its ground-truth mask on the reference view and
  carried to every view by the homography tracker; the IoU of the *visible* mask (object minus
  occluded pixels, ``export --visible``) against ``truth AND NOT occluder`` is reported beside
  the IoU of the *amodal* mask against the same truth (what every export gave before): the
  reference measured side by side in the same run;
* time per view of the layers (both passes).

A stress run relights one clean view (-1 EV, warm white balance, strong vignetting, another
tone curve) and lays a soft shadow band over it, re-aligns, and counts the pixels called
occluded on it (must be 0).

Usage::

    flock /work/coord/cpu.lock python benchmarks/occlusion.py                 # table + JSON
    flock /work/coord/cpu.lock python benchmarks/occlusion.py --sizes 512 768 1024

Writes ``benchmarks/results/occlusion-<date>.json`` with machine and versions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from multiview.alignment.pipeline import align_project  # noqa: E402
from multiview.occlusion import OcclusionOptions, compute_occlusion, stored_layers  # noqa: E402
from multiview.project import Project  # noqa: E402
from multiview.tracking import get_tracker, run_tracking  # noqa: E402

SAMPLES = {"fresco (planar)": ROOT / "sequences" / "fresco", "apse (curved)": ROOT / "sequences" / "apse"}


def machine() -> dict:
    import kornia
    import torch

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "kornia": kornia.__version__,
        "torch": torch.__version__,
        "cv2_threads": cv2.getNumThreads(),
        "note": "shared 2-core machine; other engineers' light work may have run beside",
    }


def load(folder: Path):
    """The sample sequence (planar or curved) with the same accessors."""
    if (folder / "ground_truth" / "homographies.json").is_file():
        from devtools.sample import load_sample

        return load_sample(folder)
    from devtools.sample import load_curved_sample  # lands with the curved sample

    return load_curved_sample(folder)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = np.count_nonzero(a | b)
    return 1.0 if u == 0 else np.count_nonzero(a & b) / u


def evaluate(seq, proj: Project, objects: list[int]) -> list[dict]:
    """Per view: detection scores and visible / amodal IoU per object (layers as stored)."""
    layers = stored_layers(proj)
    rows = []
    for v in proj.views:
        layer = layers.get(v.id)
        truth = seq.occluder_mask(v.id)
        row: dict = {"view": v.id, "truth_px": int(truth.sum()), "summary": layers.views.get(v.id).to_json()}
        if layer is None:
            rows.append(row)
            continue
        occ, known = layer.at_size(v.size)
        tp = int(np.count_nonzero(occ & truth))
        row.update(
            found_px=int(occ.sum()),
            tp=tp,
            precision=tp / occ.sum() if occ.any() else None,
            recall=tp / truth.sum() if truth.any() else None,
            recall_seen=tp / np.count_nonzero(truth & known) if (truth & known).any() else None,
            objects={},
        )
        for oid in objects:
            r = proj.read_result(oid, v.id)
            if r is None:
                continue
            amodal = r.at_size(v.size)[0]
            visible = amodal & ~occ
            want = seq.view_mask(v.id, oid) & ~truth
            row["objects"][oid] = {
                "visible_iou": iou(visible, want),
                "amodal_iou": iou(amodal, want),
                "truth_px": int(want.sum()),
                "identical": bool(np.array_equal(visible, amodal)),
            }
        rows.append(row)
    return rows


def run_sample(name: str, folder: Path, sizes: list[int], tmp: Path) -> dict:
    seq = load(folder)
    proj = Project.create(seq.photos_dir, tmp / name.split()[0], overwrite=True)
    t0 = time.perf_counter()
    align_project(proj, occluders=False)
    align_s = time.perf_counter() - t0
    ref = proj.reference.id
    objects = [o.id for o in seq.objects]
    for oid in objects:
        proj.add_prompt(ref, oid, mask=seq.view_mask(ref, oid))
    run_tracking(proj, get_tracker("homography"))
    runs = []
    for size in sizes:
        t0 = time.perf_counter()
        summary = compute_occlusion(proj, OcclusionOptions(analysis_max_side=size), force=True)
        total = time.perf_counter() - t0
        runs.append(
            {
                "analysis_max_side": size,
                "seconds": total,
                "seconds_per_view": total / len(proj.views),
                "views": evaluate(seq, proj, objects),
                "sources": {k: list(v.sources) for k, v in summary.items()},
            }
        )
    return {"sample": name, "views": len(proj.views), "align_seconds": align_s, "runs": runs}


def _relight(img: np.ndarray) -> np.ndarray:
    """-1 EV, warm white balance, strong vignetting, another tone curve and a soft shadow band."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    band = np.zeros((h, w), np.float32)
    cv2.line(band, (w // 3, 0), (w // 2, h), 1.0, thickness=max(8, w // 25))
    band = cv2.GaussianBlur(band, (0, 0), max(2.0, w / 120))
    f = 0.5 * np.array([1.1, 1.0, 0.82], np.float32) * ((1 - 0.5 * r2) * (1 - 0.4 * band))[..., None]
    out = 255.0 * np.power(np.clip(img.astype(np.float32) * f, 0, 255) / 255.0, 1.15)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def stress(folder: Path, view: str, tmp: Path) -> dict:
    seq = load(folder)
    photos = tmp / "stress_photos"
    shutil.copytree(seq.photos_dir, photos)
    img = seq.read_photo(view)
    cv2.imwrite(str(photos / view), cv2.cvtColor(_relight(img), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    proj = Project.create(photos, tmp / "stress", overwrite=True)
    align_project(proj)
    layers = stored_layers(proj)
    out = {"view": view, "change": "-1 EV, warm WB, vignetting 50%, gamma 1.15, soft shadow band 40%"}
    for v in proj.views:
        layer = layers.get(v.id)
        truth = seq.occluder_mask(v.id)
        occ = layer.at_size(v.size)[0] if layer is not None else np.zeros_like(truth)
        out[v.id] = {"false_px": int(np.count_nonzero(occ & ~truth)), "found_px": int(occ.sum())}
    return out


def table(result: dict) -> list[str]:
    lines = []
    for s in result["samples"]:
        for run in s["runs"]:
            lines.append(
                f"\n{s['sample']}, analysis size {run['analysis_max_side']}: "
                f"{run['seconds_per_view']:.2f} s/view (align {s['align_seconds'] / s['views']:.2f} s/view)"
            )
            lines.append(
                "| view | occluder px | precision | recall | recall (seen) | visible IoU per object (amodal) |"
            )
            lines.append("|---|---|---|---|---|---|")
            for r in run["views"]:
                if "tp" not in r:
                    lines.append(f"| {r['view']} | {r['truth_px']} | no layer | | | |")
                    continue

                def f(x):
                    return "-" if x is None else f"{x:.3f}"

                objs = ", ".join(
                    f"{o}: {d['visible_iou']:.3f} ({d['amodal_iou']:.3f}){'' if not d['identical'] else ' ='}"
                    for o, d in r["objects"].items()
                )
                lines.append(
                    f"| {r['view']} | {r['truth_px']} | {f(r['precision'])} | {f(r['recall'])} | "
                    f"{f(r['recall_seen'])} | {objs} |"
                )
    st = result.get("stress")
    if st:
        lines.append(f"\nstress ({st['change']} on {st['view']}): pixels wrongly called occluded per view:")
        lines.append(", ".join(f"{k} {v['false_px']}" for k, v in st.items() if isinstance(v, dict)))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[768], help="analysis sizes (longer side, px)")
    ap.add_argument("--no-stress", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    result: dict = {"machine": machine(), "date": dt.datetime.now(dt.timezone.utc).isoformat(), "samples": []}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for name, folder in SAMPLES.items():
            if not (folder / "photos").is_dir():
                print(f"{name}: {folder} not there, skipped")
                continue
            result["samples"].append(run_sample(name, folder, args.sizes, tmp))
        if not args.no_stress:
            result["stress"] = stress(SAMPLES["fresco (planar)"], "IMG_0103.jpg", tmp)
    print("\n".join(table(result)))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"occlusion-{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"\n-> {path}")


if __name__ == "__main__":
    main()
