"""The bf16 attention kernel against torch's fused CPU kernel and the matmul peak, in one run.

SAM 2 hiera tiny's big attention calls at a given model input size S (tokens
``T = (S/16)^2``): the memory attention's self-attention (T x T, one head of 256), its
cross-attention to N memory frames (T x (N*T + 64), one head of 256), and the encoder's
global attention (T x T, 4 heads of 96). For each: torch's
``scaled_dot_product_attention`` in fp32 and in bf16, and
:func:`multiview.tracking.sam2.attention.blocked_attention` in bf16.

The machine is shared, so the matmul peak is measured in the same run, in every
round, right beside the kernels (a plain 2048^3 ``torch.matmul``, fp32 and bf16); the
table reports each kernel's best round and its fraction of the best peak, which is
robust to other work on the machine. FLOPs of an attention: ``4 * Lq * Lk * D`` per head
(QK^T and AV; softmax not counted).

Usage::

    flock /work/coord/cpu.lock .venv/bin/python benchmarks/attention.py --size 1024 --memory 7 --rounds 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tracking import machine  # noqa: E402


def _time(fn, reps: int = 1) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def peak(dtype: torch.dtype, n: int = 2048) -> float:
    """GFLOP/s of one ``n^3`` matmul (best of 3)."""
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    a @ b
    return 2 * n**3 / _time(lambda: a @ b, 3) / 1e9


def cases(size: int, memory: int) -> list[dict]:
    T = (size // 16) ** 2
    return [
        {"name": "memory self-attention", "heads": 1, "lq": T, "lk": T, "d": 256},
        {"name": f"memory cross-attention, {memory} frames", "heads": 1, "lq": T, "lk": memory * T + 64, "d": 256},
        {"name": "encoder global attention", "heads": 4, "lq": T, "lk": T, "d": 96},
    ]


def main() -> None:
    from multiview.tracking.sam2.attention import blocked_attention

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1024, help="model input size S")
    ap.add_argument("--memory", type=int, default=7, help="memory frames of the cross-attention")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    rows = []
    peaks: dict[str, list[float]] = {"fp32": [], "bf16": []}
    data = []
    for c in cases(args.size, args.memory):
        h, lq, lk, d = c["heads"], c["lq"], c["lk"], c["d"]
        q, k, v = (torch.randn(1, h, n, d) for n in (lq, lk, lk))
        ref = F.scaled_dot_product_attention(q, k, v)
        qb, kb, vb = (t.to(torch.bfloat16) for t in (q, k, v))
        kernels = {
            "sdpa fp32": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
            "sdpa bf16": lambda q=qb, k=kb, v=vb: F.scaled_dot_product_attention(q, k, v),
            "blocked bf16": lambda q=qb, k=kb, v=vb: blocked_attention(q, k, v),
        }
        err = {}
        for name, fn in kernels.items():
            o = fn().float()
            err[name] = {
                "max_abs": float((o - ref).abs().max()),
                "rel_l2": float((o - ref).norm() / ref.norm()),
            }
        data.append((c, kernels, err))
    best: dict[tuple[int, str], float] = {}
    for r in range(args.rounds):
        for dtn, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            peaks[dtn].append(peak(dtype))
        for ci, (_c, kernels, _err) in enumerate(data):
            for name, fn in kernels.items():
                t = _time(fn)
                best[(ci, name)] = min(best.get((ci, name), float("inf")), t)
        print(f"round {r + 1}/{args.rounds}: peak fp32 {peaks['fp32'][-1]:.0f}, bf16 {peaks['bf16'][-1]:.0f} GFLOP/s")
    peak_fp32, peak_bf16 = max(peaks["fp32"]), max(peaks["bf16"])
    print(f"\nbest matmul peak: fp32 {peak_fp32:.0f} GFLOP/s, bf16 {peak_bf16:.0f} GFLOP/s\n")
    print(f"{'case':<40} {'kernel':<13} {'ms':>8} {'GFLOP/s':>8} {'of peak':>8} {'rel L2 vs fp32':>15}")
    for ci, (c, kernels, err) in enumerate(data):
        flops = 4.0 * c["heads"] * c["lq"] * c["lk"] * c["d"]
        for name in kernels:
            t = best[(ci, name)]
            pk = peak_fp32 if name.endswith("fp32") else peak_bf16
            g = flops / t / 1e9
            rows.append(
                {
                    "case": c["name"],
                    **{k: c[k] for k in ("heads", "lq", "lk", "d")},
                    "kernel": name,
                    "gflop": flops / 1e9,
                    "seconds": t,
                    "gflops": g,
                    "fraction_of_peak": g / pk,
                    **err[name],
                }
            )
            print(f"{c['name']:<40} {name:<13} {t * 1e3:>8.1f} {g:>8.0f} {g / pk:>8.0%} {err[name]['rel_l2']:>15.1e}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or HERE / "results" / f"attention-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "attention",
                "created": stamp,
                "machine": machine(),
                "note": "shared machine: other engineers' light work may have run beside; fractions of the "
                "peak measured in the same run are the robust numbers",
                "size": args.size,
                "memory_frames": args.memory,
                "peak_gflops": {"fp32": peaks["fp32"], "bf16": peaks["bf16"]},
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
