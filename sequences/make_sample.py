"""Make the bundled synthetic fresco sample (photos + ground truth).

Usage:
    python sequences/make_sample.py [OUT_DIR] [--seed N] [--views N] [--overwrite]

OUT_DIR defaults to ``sequences/fresco`` next to this script.  See
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
from devtools.sample import make_sample  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "fresco"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the synthetic fresco multi-view sample with ground truth.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--views", type=int, default=6, help="number of photos, 2..50 (default: 6)")
    parser.add_argument("--overwrite", action="store_true", help="replace a previous sample in OUT_DIR")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        seq = make_sample(args.out_dir, seed=args.seed, n_views=args.views, overwrite=args.overwrite)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in args.out_dir.rglob("*") if f.is_file())
    sizes = ", ".join(f"{w}x{h}" for w, h in seq.view_sizes.values())
    print(f"wrote {len(seq.view_sizes)} photos ({sizes}) and ground truth to {args.out_dir} "
          f"({size / 1e6:.2f} MB, {seconds:.1f} s, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
