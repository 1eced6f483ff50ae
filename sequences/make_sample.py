"""Make the bundled synthetic fresco sample (photos + ground truth).

Usage:
    python sequences/make_sample.py [OUT_DIR] [--seed N] [--views N] [--overwrite]
    python sequences/make_sample.py --apse [OUT_DIR] [--radius M] [--seed N] [--views N] [--overwrite]

OUT_DIR defaults to ``sequences/fresco`` (flat wall) or ``sequences/apse`` (``--apse``: the panel
on the inside of a cylinder, ray-cast truth) next to this script.  See
``sequences/README.md`` for what is written, and ``devtools/sample/`` for
the generator (a developer tool of the repository, not part of the installed package).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# devtools/ is not installed: import it (and multiview, if not installed) from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devtools.sample import make_curved_sample, make_sample

DEFAULT_OUT = Path(__file__).resolve().parent / "fresco"
DEFAULT_APSE_OUT = Path(__file__).resolve().parent / "apse"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the synthetic fresco multi-view sample with ground truth.")
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=None,
        help=f"output folder (default: {DEFAULT_OUT}, with --apse {DEFAULT_APSE_OUT})",
    )
    parser.add_argument(
        "--apse", action="store_true", help="paint the panel on the inside of a cylinder (a wall that is not one plane)"
    )
    parser.add_argument(
        "--radius",
        type=float,
        default=2.0,
        help="with --apse: cylinder radius in metres (default: 2.0, 69 degrees of arc)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--views", type=int, default=6, help="number of photos, 2..50 (default: 6)")
    parser.add_argument("--overwrite", action="store_true", help="replace a previous sample in OUT_DIR")
    args = parser.parse_args(argv)
    if args.out_dir is None:
        args.out_dir = DEFAULT_APSE_OUT if args.apse else DEFAULT_OUT
    t0 = time.perf_counter()
    try:
        if args.apse:
            seq = make_curved_sample(
                args.out_dir, seed=args.seed, n_views=args.views, radius_m=args.radius, overwrite=args.overwrite
            )
        else:
            seq = make_sample(args.out_dir, seed=args.seed, n_views=args.views, overwrite=args.overwrite)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in args.out_dir.rglob("*") if f.is_file())
    sizes = ", ".join(f"{w}x{h}" for w, h in seq.view_sizes.values())
    print(
        f"wrote {len(seq.view_sizes)} photos ({sizes}) and ground truth to {args.out_dir} "
        f"({size / 1e6:.2f} MB, {seconds:.1f} s, seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
