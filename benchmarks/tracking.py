"""SAM 2 tracking engine vs. sam2's own predictor, side by side in one run.

Both run the same random-initialised ``sam2.1_hiera_tiny`` (the cost does not depend
on the weights), saved once as an official checkpoint, on the same frames (written
as the integer-named JPEG folder sam2's loader needs; the engine decodes the same
files lazily). Each case runs in its own process so peak RSS is measured cleanly.

Measured per image size and number of views:

* ``first_pass_s``: a click on the middle view, propagation forward and backward
  (reference: ``init_state`` + ``add_new_points_or_box`` + ``propagate_in_video`` both ways);
* ``correction_s``: one click on a drifted view (view n-2) and re-propagation
  (reference: the documented full re-propagation; engine: the stretch the click governs);
* ``click_s``: latency of a click on an already encoded view (a new object; median of 5
  clicks alternating between two views; sam2 keeps one frame's features, so it re-encodes);
* ``peak_rss_mb``: peak resident memory of the process.

Usage::

    flock /tmp/cpu.lock python benchmarks/tracking.py --sizes 512 --views 8
    flock /tmp/cpu.lock python benchmarks/tracking.py --sizes 512 --views 8 32 64 --rss-only

Targets (issue 4): correction <= 0.3x the reference, click < 0.2 s on an encoded
view, first pass no slower than the reference, peak RSS growth 8 -> 64 views < 300 MB.
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
MODEL = "sam2.1_hiera_tiny"
FRAME_SIZE = (800, 600)  # (w, h) of every frame: one size, so sam2's squashing does not distort


def make_frames(folder: Path, n: int) -> None:
    import cv2

    rng = np.random.default_rng(0)
    w, h = FRAME_SIZE
    base = cv2.resize(
        rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8), (w + 40 * n, h), interpolation=cv2.INTER_CUBIC
    )
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = base[:, 40 * i : 40 * i + w].copy()  # a camera panning along a wall
        cv2.circle(img, (w // 2, h // 2), h // 5, (40, 200, 250), -1)
        cv2.imwrite(str(folder / f"{i}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 92])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def warm_up(pred, size: int) -> None:
    """One encoder and decoder call, so one-off kernel set-up is not timed (same for both)."""
    import torch

    with torch.inference_mode():
        pred.forward_image(torch.zeros(1, 3, size, size, device=pred.device))


def median_click(click_once, repeats: int = 5) -> float:
    times = []
    for k in range(repeats):
        t = time.perf_counter()
        click_once(k)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def worker(impl: str, size: int, n: int, ckpt: Path, folder: Path, rss_only: bool) -> dict:
    import torch

    torch.set_grad_enabled(False)
    mid = n // 2
    click = (FRAME_SIZE[0] / 2.0, FRAME_SIZE[1] / 2.0)
    drift = n - 2
    out: dict = {"impl": impl, "image_size": size, "views": n}
    if impl == "reference":
        from multiview.tracking.sam2.reference import build_reference, run_reference

        pred = build_reference(MODEL, ckpt, image_size=size)
        warm_up(pred, size)
        out["rss_after_model_mb"] = peak_rss_mb()
        t = time.perf_counter()
        run = run_reference(pred, folder, mid, [click], [1])
        out["first_pass_s"] = time.perf_counter() - t
        if not rss_only:
            t = time.perf_counter()
            run_reference(pred, folder, drift, [(click[0] + 60, click[1])], [0], state=run.state)
            out["correction_s"] = time.perf_counter() - t
            # sam2 keeps the features of the last frame it touched (frame 0 after the backward
            # pass): a click on the middle view re-encodes it

            def ref_click(k: int) -> None:
                with torch.inference_mode():
                    pred.add_new_points_or_box(
                        run.state,
                        mid if k % 2 == 0 else mid + 1,
                        2 + k,
                        points=np.array([[100.0, 100.0]], np.float32),
                        labels=np.array([1], np.int32),
                    )

            out["click_s"] = median_click(ref_click)
    else:
        import cv2

        from multiview.tracking.sam2.cache import FeatureCache
        from multiview.tracking.sam2.frames import ArrayFrames
        from multiview.tracking.sam2.model import load_predictor
        from multiview.tracking.sam2.session import Sam2Session

        pred, _ = load_predictor(MODEL, checkpoint=ckpt, device="cpu", image_size=size)
        warm_up(pred, size)
        out["rss_after_model_mb"] = peak_rss_mb()
        files = [folder / f"{i}.jpg" for i in range(n)]
        frames = ArrayFrames(
            [lambda f=f: cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files],
            sizes=[FRAME_SIZE] * n,
            keys=[f"{f.name}:{f.stat().st_size}" for f in files],
        )
        with tempfile.TemporaryDirectory() as cache_dir:
            sess = Sam2Session(pred, frames, cache=FeatureCache(cache_dir), model_key=f"bench|{size}")
            t = time.perf_counter()
            sess.add_points(1, mid, [click], [1])
            for _ in sess.propagate():
                pass
            out["first_pass_s"] = time.perf_counter() - t
            if not rss_only:
                t = time.perf_counter()
                sess.add_points(1, drift, [(click[0] + 60, click[1])], [0])
                for job in sess.plan(1, [drift]):
                    for _ in sess.run_job(job):
                        pass
                out["correction_s"] = time.perf_counter() - t
                out["click_s"] = median_click(
                    lambda k: sess.add_points(2 + k, mid if k % 2 == 0 else mid + 1, [(100.0, 100.0)], [1])
                )
            out["encoded"] = sess.features.encoded
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def compare_precision(size: int, n: int, ckpt: Path, folder: Path) -> dict:
    """Engine fp32 vs bf16 autocast on the same frames and click: time and per-view mask IoU."""
    import cv2

    from multiview.tracking.sam2.frames import ArrayFrames
    from multiview.tracking.sam2.model import load_predictor
    from multiview.tracking.sam2.session import Sam2Session

    pred, _ = load_predictor(MODEL, checkpoint=ckpt, device="auto", image_size=size)
    warm_up(pred, size)
    frames = ArrayFrames([cv2.cvtColor(cv2.imread(str(folder / f"{i}.jpg")), cv2.COLOR_BGR2RGB) for i in range(n)])
    masks, times = {}, {}
    for prec in ("fp32", "bf16"):
        sess = Sam2Session(pred, frames, precision=prec)
        t = time.perf_counter()
        sess.add_points(1, n // 2, [(FRAME_SIZE[0] / 2.0, FRAME_SIZE[1] / 2.0)], [1])
        masks[prec] = {m.frame: m.prob > 0.5 for m in sess.propagate()}
        times[prec] = time.perf_counter() - t
    ious = []
    for f in range(n):
        a, b = masks["fp32"][f], masks["bf16"][f]
        u = np.logical_or(a, b).sum()
        ious.append(1.0 if u == 0 else float(np.logical_and(a, b).sum() / u))
    fg = [float(masks["fp32"][f].mean()) for f in range(n)]
    return {
        "image_size": size,
        "views": n,
        "device": str(pred.device),
        "fp32_s": times["fp32"],
        "bf16_s": times["bf16"],
        "iou_per_view": ious,
        "min_iou": min(ious),
        "fp32_foreground_fraction": fg,
    }


def machine() -> dict:
    import torch

    try:
        from importlib.metadata import version

        import sam2  # noqa: F401

        sam2_v = version("sam2")
    except Exception:  # pragma: no cover
        sam2_v = "?"
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sam2": sam2_v,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512])
    ap.add_argument("--views", type=int, nargs="+", default=[8])
    ap.add_argument("--rss-only", action="store_true", help="only the first pass (peak RSS), no correction/click")
    ap.add_argument(
        "--compare-precision",
        action="store_true",
        help="instead: engine fp32 vs bf16 (time, per-view IoU) at each size, first --views value",
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="JSON file [default: benchmarks/results/tracking-<time>.json]"
    )
    ap.add_argument("--worker", nargs=5, metavar=("IMPL", "SIZE", "N", "CKPT", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        impl, size, n, ckpt, folder = args.worker
        print(json.dumps(worker(impl, int(size), int(n), Path(ckpt), Path(folder), args.rss_only)))
        return

    import torch

    from multiview.tracking.sam2.model import build_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(0)
        ckpt = tmp / f"{MODEL}.pt"
        torch.save({"model": build_model(MODEL, device="cpu").state_dict()}, ckpt)
        if args.compare_precision:
            make_frames(tmp / "frames", args.views[0])
            res = [compare_precision(size, args.views[0], ckpt, tmp / "frames") for size in args.sizes]
            for r in res:
                print(
                    f"size {r['image_size']} views {r['views']} on {r['device']}: fp32 {r['fp32_s']:.1f} s, "
                    f"bf16 {r['bf16_s']:.1f} s, min IoU bf16 vs fp32 {r['min_iou']:.4f}"
                )
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            out = args.out or HERE / "results" / f"tracking-precision-{stamp}.json"
            out.write_text(
                json.dumps(
                    {
                        "benchmark": "tracking-precision",
                        "created": stamp,
                        "machine": machine(),
                        "model": MODEL,
                        "weights": "random (seed 0)",
                        "rows": res,
                    },
                    indent=2,
                )
                + "\n"
            )
            print(f"wrote {out}")
            return
        for n in args.views:
            folder = tmp / f"frames{n}"
            make_frames(folder, n)
            for size in args.sizes:
                for impl in ("reference", "engine"):
                    cmd = [sys.executable, __file__, "--worker", impl, str(size), str(n), str(ckpt), str(folder)]
                    if args.rss_only:
                        cmd.append("--rss-only")
                    res = subprocess.run(cmd, capture_output=True, text=True)
                    if res.returncode != 0:
                        sys.stderr.write(res.stderr)
                        raise SystemExit(f"{impl} {size} {n} failed")
                    row = json.loads(res.stdout.strip().splitlines()[-1])
                    rows.append(row)
                    print(
                        " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                        flush=True,
                    )
    print()
    print(
        f"{'size':>5} {'views':>5} | {'first pass s (ref/eng)':>24} | {'correction s (ref/eng, ratio)':>31} | "
        f"{'click s (ref/eng)':>18} | {'peak RSS MB (ref/eng)':>22}"
    )
    by = {(r["impl"], r["image_size"], r["views"]): r for r in rows}
    for n in args.views:
        for size in args.sizes:
            ref, eng = by[("reference", size, n)], by[("engine", size, n)]
            corr = (
                f"{ref['correction_s']:.1f} / {eng['correction_s']:.1f}, "
                f"{eng['correction_s'] / ref['correction_s']:.2f}x"
                if "correction_s" in eng
                else "-"
            )
            click = f"{ref['click_s']:.2f} / {eng['click_s']:.3f}" if "click_s" in eng else "-"
            print(
                f"{size:>5} {n:>5} | {ref['first_pass_s']:>11.1f} / {eng['first_pass_s']:<10.1f} | {corr:>31} | "
                f"{click:>18} | {ref['peak_rss_mb']:>10.0f} / {eng['peak_rss_mb']:<9.0f}"
            )
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or HERE / "results" / f"tracking-{'rss-' if args.rss_only else ''}{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "tracking",
                "created": stamp,
                "machine": machine(),
                "model": MODEL,
                "frame_size": FRAME_SIZE,
                "rss_only": args.rss_only,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
