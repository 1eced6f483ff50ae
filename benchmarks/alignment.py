"""Alignment benchmark: multiview's registration vs plain OpenCV SIFT + MAGSAC, same run.

Accuracy (default): on ``../shared/datasets`` (graf, wall, boat, bark: image 1 to
images 2-6 with ``H1toNp.xml``; homogr_adam: adamB to adamA with ``adam_model.txt``)
each sequence becomes a fresh multiview project (reference = image 1 / adamA) and
is aligned with ``align_project``; the baseline matches image 1 directly with each
image (SIFT, ratio 0.8, ``cv2.USAC_MAGSAC``). For every pair it reports the corner
error against the ground truth (mean and max over the four corners of image 1,
mapped into image N), the inliers, the time, and the zero-mean NCC of image 1
warped into image N by the ground truth, by multiview and by the baseline (a
ground-truth-free check: a higher NCC means the estimate fits the pixels better).

Scaling (``--scale N``): N synthetic views of ``--mp`` megapixels of one large,
non-repeating wall shot in a grid of 10 columns (neighbours overlap 50-65%),
shuffled file names, ``init --order auto`` + ``align`` timed end to end; reports
how many consecutive views of the recovered order are grid neighbours.

Usage::

    flock /tmp/cpu.lock python benchmarks/alignment.py            # accuracy table + JSON
    flock /tmp/cpu.lock python benchmarks/alignment.py --scale 30 --mp 12

Writes ``benchmarks/results/alignment[-scale]-<date>.json`` with machine and versions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
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
from multiview.alignment.register import AlignOptions  # noqa: E402
from multiview.geometry import corner_error, coverage, invert  # noqa: E402
from multiview.loading import read_photo  # noqa: E402
from multiview.project import Project  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
SEQUENCES = ("graf", "wall", "boat", "bark")


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
    }


def gt_oxford(seq: str, n: int) -> np.ndarray:
    fs = cv2.FileStorage(str(DATASETS / seq / f"H1to{n}p.xml"), cv2.FILE_STORAGE_READ)
    H = fs.getFirstTopLevelNode().mat()
    fs.release()
    return np.asarray(H, np.float64)


def baseline(img_a: np.ndarray, img_b: np.ndarray) -> tuple[np.ndarray | None, int, float]:
    """Plain OpenCV: SIFT, ratio 0.8, USAC_MAGSAC (3 px). Returns ``(H_b_from_a, inliers, seconds)``."""
    t0 = time.perf_counter()
    sift = cv2.SIFT_create()
    ga, gb = (cv2.cvtColor(i, cv2.COLOR_RGB2GRAY) for i in (img_a, img_b))
    ka, da = sift.detectAndCompute(ga, None)
    kb, db = sift.detectAndCompute(gb, None)
    H, n = None, 0
    if da is not None and db is not None and len(ka) > 1 and len(kb) > 1:
        knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(da, db, k=2)
        good = [m[0] for m in knn if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
        if len(good) >= 4:
            pa = np.float32([ka[m.queryIdx].pt for m in good])
            pb = np.float32([kb[m.trainIdx].pt for m in good])
            H, mask = cv2.findHomography(pa, pb, cv2.USAC_MAGSAC, 3.0)
            n = int(mask.sum()) if mask is not None else 0
            # Same acceptance rule as multiview (at least 15 inliers) for a fair "registered" count.
            if H is None or n < 15:
                H = None
    return H, n, time.perf_counter() - t0


def ncc(img_a: np.ndarray, img_b: np.ndarray, H_b_from_a: np.ndarray | None) -> float | None:
    """Zero-mean NCC of grey levels of ``a`` warped into ``b`` over the covered, 5x5-eroded region."""
    if H_b_from_a is None:
        return None
    ga = cv2.cvtColor(img_a, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gb = cv2.cvtColor(img_b, cv2.COLOR_RGB2GRAY).astype(np.float32)
    w = cv2.warpPerspective(ga, H_b_from_a, (gb.shape[1], gb.shape[0]))
    v = coverage(H_b_from_a, (ga.shape[1], ga.shape[0]), (gb.shape[1], gb.shape[0]))
    v = cv2.erode(v.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if v.sum() < 100:
        return None
    x, y = w[v] - w[v].mean(), gb[v] - gb[v].mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def run_sequence(
    name: str, folder: Path, ref: str, pairs: list[tuple[str, np.ndarray]], options: AlignOptions, tmp: Path
) -> list[dict]:
    """Align a dataset folder as a project; ``pairs`` = (view file, H_view_from_ref ground truth)."""
    proj = Project.create(folder, tmp / name, reference=ref, overwrite=True)
    t0 = time.perf_counter()
    res = align_project(proj, options)
    total = time.perf_counter() - t0
    n_views = len(proj.views)
    ref_view = proj.reference
    ref_img = read_photo(ref_view.path)
    rows = []
    for vid, H_gt in pairs:
        v = proj.view(vid)
        img = read_photo(v.path)
        reg = res.registrations[v.id]
        H_est = invert(reg.H_ref_from_view) if reg.ok else None  # view_from_ref
        bH, bn, bt = baseline(ref_img, img)
        row = {
            "dataset": name,
            "pair": f"{ref_view.stem}->{v.stem}",
            "mp": round(v.width * v.height / 1e6, 2),
            "registered": reg.ok,
            "inliers": reg.inliers,
            "method": reg.method,
            "reason": reg.reason,
            "corner_mean": None,
            "corner_max": None,
            "seconds_per_view": round(total / n_views, 3),
            "ncc_gt": ncc(ref_img, img, H_gt),
            "ncc_ours": ncc(ref_img, img, H_est),
            "base_registered": bH is not None,
            "base_inliers": bn,
            "base_corner_mean": None,
            "base_corner_max": None,
            "base_seconds": round(bt, 3),
            "ncc_base": ncc(ref_img, img, bH),
        }
        if H_est is not None:
            row["corner_mean"], row["corner_max"] = corner_error(H_est, H_gt, ref_view.size)
        if bH is not None:
            row["base_corner_mean"], row["base_corner_max"] = corner_error(bH, H_gt, ref_view.size)
        rows.append(row)
    return rows


def accuracy(args) -> dict:
    if not (DATASETS / "PROVENANCE.md").is_file():
        sys.exit(f"datasets not found at {DATASETS}")
    options = AlignOptions(ecc=args.ecc)
    tmp = Path(tempfile.mkdtemp(prefix="mv-bench-"))
    rows: list[dict] = []
    try:
        for seq in SEQUENCES:
            pairs = [(f"img{n}.png", gt_oxford(seq, n)) for n in range(2, 7)]
            rows += run_sequence(seq, DATASETS / seq, "img1.png", pairs, options, tmp)
        # adam_model.txt maps B -> A; the reference is adamA, so the "view_from_ref" GT is inv(H).
        H_ab = np.loadtxt(DATASETS / "homogr_adam" / "adam_model.txt")
        rows += run_sequence("homogr_adam", DATASETS / "homogr_adam", "adamB.png", [("adamA.png", H_ab)], options, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    f = lambda v, p=2: "-" if v is None else f"{v:.{p}f}"  # noqa: E731
    print(
        f"{'dataset':12} {'pair':14} {'MP':>4} | {'ours mean/max px':>17} {'inl':>5} {'s/view':>6} | "
        f"{'base mean/max px':>17} {'inl':>5} {'s':>5} | {'NCC gt':>6} {'ours':>6} {'base':>6}"
    )
    for r in rows:
        ours = f"{f(r['corner_mean'])}/{f(r['corner_max'])}" if r["registered"] else "FAIL"
        base = f"{f(r['base_corner_mean'])}/{f(r['base_corner_max'])}" if r["base_registered"] else "FAIL"
        print(
            f"{r['dataset']:12} {r['pair']:14} {r['mp']:>4} | "
            f"{ours:>17} {r['inliers']:>5} {r['seconds_per_view']:>6.2f} | "
            f"{base:>17} {r['base_inliers']:>5} {r['base_seconds']:>5.2f} | {f(r['ncc_gt'], 3):>6} "
            f"{f(r['ncc_ours'], 3):>6} {f(r['ncc_base'], 3):>6}"
        )

    def summary(prefix: str, reg_key: str) -> dict:
        ok = [r for r in rows if r[reg_key]]
        means = [r[f"{prefix}corner_mean"] for r in ok]
        maxes = [r[f"{prefix}corner_max"] for r in ok]
        return {
            "registered": len(ok),
            "pairs": len(rows),
            "mean_corner_error": float(np.mean(means)) if means else None,
            "median_corner_error": float(np.median(means)) if means else None,
            "pairs_mean_le_2px": int(sum(m <= 2 for m in means)),
            "pairs_max_gt_4px": int(sum(m > 4 for m in maxes)),
        }

    s_ours, s_base = summary("", "registered"), summary("base_", "base_registered")
    better_ncc = sum(
        1 for r in rows if r["ncc_ours"] is not None and r["ncc_gt"] is not None and r["ncc_ours"] > r["ncc_gt"]
    )
    print(f"\nours:     {s_ours}\nbaseline: {s_base}")
    print(
        "pairs where multiview's homography fits the pixels better than the ground truth (NCC): "
        f"{better_ncc}/{len(rows)}"
    )
    return {
        "kind": "accuracy",
        "options": vars(args),
        "rows": rows,
        "summary": {"ours": s_ours, "baseline": s_base, "ours_ncc_above_gt": better_ncc},
    }


def long_wall(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A non-repeating painted wall: smooth colour fields, brush strokes, rings and lettering. (h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    small = rng.integers(60, 230, (height // 60, width // 60, 3), dtype=np.uint8)
    img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(width * height // 4000):
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if kind == 0:
            d = rng.normal(0, 40, 2)
            cv2.line(img, (x, y), (int(x + d[0]), int(y + d[1])), c, int(rng.integers(1, 5)), cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(img, (x, y), int(rng.integers(3, 25)), c, int(rng.integers(-1, 4)) or 1, cv2.LINE_AA)
        else:
            word = "".join(chr(int(v)) for v in rng.integers(65, 91, int(rng.integers(2, 6))))
            cv2.putText(img, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 1.6)), c, 2, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), 0.7)


def scaling(args) -> dict:
    """N synthetic views of one long wall at ``--mp`` megapixels; order + register end to end."""
    from multiview.alignment.ordering import auto_order

    tmp = Path(tempfile.mkdtemp(prefix="mv-scale-"))
    try:
        # A large wall photographed in a grid of 10 columns (as restorers cover a vault or a
        # wall): each photo sees ~1500 wall pixels across; neighbours overlap ~65% across and
        # ~50% up/down. The wall does not repeat.
        cols = 10
        rows = int(np.ceil(args.scale / cols))
        span0 = 1500.0
        sx, sy = 0.35 * span0, 0.5 * span0 * 3 / 4
        wall = long_wall(int(2 * span0 + sx * (cols - 1)), int(2 * span0 * 3 / 4 + sy * (rows - 1)))
        W = round(np.sqrt(args.mp * 1e6 * 4 / 3))
        H = round(W * 3 / 4)
        rng = np.random.default_rng(0)
        photos = tmp / "photos"
        photos.mkdir()
        names = [f"P{k:04d}.jpg" for k in rng.permutation(args.scale)]
        t0 = time.perf_counter()
        grid = {}
        for k in range(args.scale):
            r, c = divmod(k, cols)
            cx = span0 + sx * c
            cy = span0 * 3 / 4 + sy * r
            span = span0 * rng.uniform(0.93, 1.07)
            src = np.float32(
                [
                    [cx - span / 2, cy - span * 3 / 8],
                    [cx + span / 2, cy - span * 3 / 8],
                    [cx + span / 2, cy + span * 3 / 8],
                    [cx - span / 2, cy + span * 3 / 8],
                ]
            )
            src += rng.uniform(-0.05, 0.05, (4, 2)).astype(np.float32) * span
            dst = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
            Hm = cv2.getPerspectiveTransform(src, dst)
            img = cv2.warpPerspective(wall, Hm, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
            cv2.imwrite(str(photos / names[k]), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            grid[names[k]] = (r, c)
        t_render = time.perf_counter() - t0
        t0 = time.perf_counter()
        proj = Project.create(photos, tmp / "project")
        t_create = time.perf_counter() - t0
        t0 = time.perf_counter()
        order = auto_order(proj)
        proj.set_ordering(order)
        proj.set_reference(order.view_ids[len(order.view_ids) // 2])
        t_order = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = align_project(proj, AlignOptions(ecc=args.ecc))
        t_align = time.perf_counter() - t0
        # Consecutive views in the order should be grid neighbours (8-neighbourhood).
        rc = [grid[v] for v in order.view_ids]
        adjacent = [max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1 for a, b in itertools.pairwise(rc)]
        n_ok = sum(r.ok for r in res.registrations.values())
        out = {
            "kind": "scaling",
            "views": args.scale,
            "width": W,
            "height": H,
            "mp": round(W * H / 1e6, 1),
            "render_s": round(t_render, 1),
            "init_s": round(t_create, 1),
            "order_s": round(t_order, 1),
            "align_s": round(t_align, 1),
            "total_s": round(t_create + t_order + t_align, 1),
            "grid": f"{rows}x{cols}",
            "registered": n_ok,
            "order_neighbours_adjacent": f"{sum(adjacent)}/{len(adjacent)}",
            "neighbour_score_min": float(min(order.neighbour_scores)),
            "unregistered": {k: r.reason for k, r in res.registrations.items() if not r.ok},
        }
        print(json.dumps(out, indent=1))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ecc", action="store_true", help="enable the ECC refinement")
    ap.add_argument("--scale", type=int, default=0, help="run the scaling benchmark with this many views")
    ap.add_argument("--mp", type=float, default=12.0, help="megapixels per synthetic view (scaling)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    result = scaling(args) if args.scale else accuracy(args)
    result["machine"] = machine()
    result["date"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    tag = "alignment-scale" if args.scale else "alignment"
    path = args.out / f"{tag}-{dt.date.today().isoformat()}.json"
    result["options"] = {k: str(v) for k, v in vars(args).items()}
    path.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
