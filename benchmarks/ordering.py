"""Ordering benchmark: does ``init --order auto`` walk the views in the gentlest steps, and how fast?

Sequences: the Oxford ``graf``, ``wall``, ``boat``, ``bark`` (6 views each, ground
truth ``H1toNp.xml``), CMP ``homogr_adam`` (2 views, ``adam_model.txt``) from
``../shared/datasets``; the shipped sample ``sequences/fresco`` (6 views) and
samples made by the project's generator with 12, 20 and 30 views (ground truth
``homographies.json``). Each becomes a fresh project with the photos copied under
shuffled names, and ``auto_order`` runs cold (features, matching, ordering).

**Viewpoint step** (the measure): for two views ``a``, ``b`` with the ground-truth
homography ``H_b_from_a`` (composed from the dataset's homographies to a common
frame), :func:`multiview.alignment.steps.view_step` samples a 16x16 grid over each
photo, keeps the points the other photo sees, and averages over both directions the
log transition tilt ``log(s1 / s2)`` of the local affine part (singular values
``s1 >= s2``), the spread of the local log scale (perspective), and with weights
0.15 and 0.05 the log zoom (field-of-view ratio) and the centre shift. It is the
quantity the ordering minimises, but computed from the ground truth instead of
the matched homographies. The **best possible** sum is the exact minimum over all
orders of the ground-truth steps (Held-Karp) up to 12 views, and the best path the
library's search finds on all ground-truth pairs beyond that ("best found").

For the generated samples the cameras are known, so an independent physical
measure is reported too: the sum over neighbours of the angle between the two
cameras' optical axes (degrees).

Reference, same run, same matches and same path search: the previous objective
(most overlap: footprint IoU times match confidence per pair). Also: the steps of the
order found without the pairs that chained homographies predicted.

Path search alone: ``least_cost_path`` on sparse random walks (each node linked to
its 4 nearest along the walk, noisy costs) of 100-4000 nodes: time, and the cost
look-ups per node (the unit of work; flat when the work is linear).

Usage::

    flock /work/coord/cpu.lock python benchmarks/ordering.py

Writes ``benchmarks/results/ordering-<date>.json`` with machine and versions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.alignment import gt_oxford, machine  # noqa: E402
from devtools.sample import make_sample  # noqa: E402
from multiview.alignment import ordering as O  # noqa: E402
from multiview.alignment import path as P  # noqa: E402
from multiview.alignment.steps import SHIFT_WEIGHT, ZOOM_WEIGHT, view_step  # noqa: E402
from multiview.project import Project  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
SAMPLES = ((1, 12), (2, 20), (3, 30))  # (seed, views) of the generated samples


def sequences(tmp: Path) -> list[dict]:
    """Every sequence: name, photos in their true order, H_view_from_common per photo, cameras or None."""
    out = []
    for name in ("graf", "wall", "boat", "bark"):
        photos = [DATASETS / name / f"img{k}.png" for k in range(1, 7)]
        Hs = [np.eye(3)] + [gt_oxford(name, k) for k in range(2, 7)]
        out.append({"name": name, "photos": photos, "H": Hs, "cameras": None})
    H_A_from_B = np.loadtxt(DATASETS / "homogr_adam" / "adam_model.txt").reshape(3, 3)
    out.append(
        {
            "name": "homogr_adam",
            "photos": [DATASETS / "homogr_adam" / "adamA.png", DATASETS / "homogr_adam" / "adamB.png"],
            "H": [np.eye(3), np.linalg.inv(H_A_from_B)],
            "cameras": None,
        }
    )
    folders = [("fresco (shipped)", ROOT / "sequences" / "fresco")]
    for seed, n in SAMPLES:
        folder = tmp / f"sample-{seed}-{n}"
        make_sample(folder, seed=seed, n_views=n)
        folders.append((f"sample seed {seed}", folder))
    for name, folder in folders:
        meta = json.loads((folder / "ground_truth" / "homographies.json").read_text())
        names = sorted(meta["views"])
        cams = [np.asarray(meta["cameras"][v]["R_cam_from_wall"]) for v in names]
        out.append(
            {
                "name": f"{name}, {len(names)} views",
                "photos": [folder / "photos" / v for v in names],
                "H": [np.asarray(meta["views"][v]) for v in names],
                "cameras": cams,
            }
        )
    return out


def gt_steps(seq: dict) -> dict[tuple[int, int], float]:
    sizes = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape[1::-1] for p in seq["photos"]]
    out = {}
    for a, b in itertools.combinations(range(len(sizes)), 2):
        st = view_step(seq["H"][b] @ np.linalg.inv(seq["H"][a]), sizes[a], sizes[b])
        if st is not None:
            out[(a, b)] = st.cost
    return out


def turn_deg(cams: list[np.ndarray], order: list[int]) -> float:
    """Sum over neighbours of the angle between the optical axes (third rows of R_cam_from_wall)."""
    total = 0.0
    for a, b in itertools.pairwise(order):
        cos = float(np.clip(cams[a][2] @ cams[b][2], -1.0, 1.0))
        total += float(np.degrees(np.arccos(cos)))
    return total


def run_sequence(seq: dict, tmp: Path) -> dict:
    n = len(seq["photos"])
    folder = tmp / "photos" / seq["name"].split(",")[0].replace(" ", "_").replace("(", "").replace(")", "")
    folder.mkdir(parents=True)
    names = [f"photo_{k:03d}" for k in range(n)]
    random.Random(n).shuffle(names)
    truth = {}
    for k, (src, name) in enumerate(zip(seq["photos"], names)):
        shutil.copy(src, folder / (name + src.suffix))
        truth[hashlib.sha256(src.read_bytes()).hexdigest()] = k
    proj = Project.create(folder, tmp / "projects" / folder.name)
    t0 = time.perf_counter()
    order = O.auto_order(proj)
    seconds = time.perf_counter() - t0
    views = proj.views
    index = {v.id: k for k, v in enumerate(views)}
    true_of = [truth[v.sha256] for v in views]
    found = [true_of[index[vid]] for vid in order.view_ids]

    # The reference objective on the same matches: most overlap (the previous auto order).
    table = proj.section("ordering")["pairs"]
    keys = [v.sha256 for v in views]
    rank = list(range(n))
    overlap_costs = {
        (min(index[r["a"]], index[r["b"]]), max(index[r["a"]], index[r["b"]])): 1.0 - float(r["score"])
        for r in table
        if r["score"] > 0
    }
    t1 = time.perf_counter()
    step_costs = {
        (min(index[r["a"]], index[r["b"]]), max(index[r["a"]], index[r["b"]])): float(r["step"])
        for r in table
        if "step" in r
    }
    O.order_from_steps(n, step_costs, keys, rank)
    path_seconds = time.perf_counter() - t1
    ref = [true_of[i] for i in O.order_from_steps(n, overlap_costs, keys, rank)]
    # The same objective without the pairs predicted by chained homographies.
    unpredicted = {
        (min(index[r["a"]], index[r["b"]]), max(index[r["a"]], index[r["b"]])): float(r["step"])
        for r in table
        if "step" in r and not r.get("predicted")
    }
    alone = [true_of[i] for i in O.order_from_steps(n, unpredicted, keys, rank)]

    gt = gt_steps(seq)
    gap = (max(gt.values()) + 1.0) * n

    def total(order: list[int]) -> float:
        return P.path_cost(order, gt, gap)

    exact = n <= 12
    best = P.exact_path(P._Costs(n, gt, gap).dense()) if exact else P.least_cost_path(n, gt, gap=gap)
    truth_order = list(range(n))
    row = {
        "sequence": seq["name"],
        "views": n,
        "pairs_matched": len(table),
        "found": [k + 1 for k in found],
        "found_is_true_order": found in (truth_order, truth_order[::-1]),
        "steps_found": round(total(found), 4),
        "steps_best": round(total(best), 4),
        "best_is": "exact" if exact else "best found",
        "best_order": [k + 1 for k in best],
        "steps_true_order": round(total(truth_order), 4),
        "pairs_predicted": sum(1 for r in table if r.get("predicted")),
        "steps_without_predicted_pairs": round(total(alone), 4),
        "reference_found": [k + 1 for k in ref],
        "reference_is_true_order": ref in (truth_order, truth_order[::-1]),
        "steps_reference": round(total(ref), 4),
        "seconds_auto_order": round(seconds, 2),
        "seconds_path_search": round(path_seconds, 4),
    }
    if seq["cameras"] is not None:
        row["turn_deg_found"] = round(turn_deg(seq["cameras"], found), 1)
        row["turn_deg_true_order"] = round(turn_deg(seq["cameras"], truth_order), 1)
        row["turn_deg_reference"] = round(turn_deg(seq["cameras"], ref), 1)
    return row


def path_scaling(sizes=(100, 500, 1000, 4000)) -> list[dict]:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        walk = [int(v) for v in rng.permutation(n)]
        edges = {}
        for k in range(n):
            for d in range(1, 5):
                if k + d < n:
                    a, b = walk[k], walk[k + d]
                    edges[(min(a, b), max(a, b))] = d + float(rng.uniform(0, 0.6))
        calls = 0
        original = P._Costs.__call__

        def counting(self, a, b, original=original):
            nonlocal calls
            calls += 1
            return original(self, a, b)

        P._Costs.__call__ = counting
        try:
            t0 = time.perf_counter()
            got = P.least_cost_path(n, edges)
            seconds = time.perf_counter() - t0
        finally:
            P._Costs.__call__ = original
        rows.append(
            {
                "nodes": n,
                "edges": len(edges),
                "seconds": round(seconds, 3),
                "lookups_per_node": round(calls / n, 1),
                "walk_recovered": got in (walk, walk[::-1]),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    if not (DATASETS / "PROVENANCE.md").is_file():
        sys.exit(f"the shared datasets are not at {DATASETS}")
    with tempfile.TemporaryDirectory(prefix="mv-order-") as t:
        tmp = Path(t)
        rows = [run_sequence(seq, tmp) for seq in sequences(tmp)]
    scaling = path_scaling()
    print(
        "| sequence | views | pairs | found | true order? | steps found / best / true order "
        "| overlap objective | steps | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        found = " ".join(map(str, r["found"]))
        ref = " ".join(map(str, r["reference_found"]))
        print(
            f"| {r['sequence']} | {r['views']} | {r['pairs_matched']} | {found} | "
            f"{'yes' if r['found_is_true_order'] else 'no'} | "
            f"{r['steps_found']:.3f} / {r['steps_best']:.3f} ({r['best_is']}) / {r['steps_true_order']:.3f} | "
            f"{ref} | {r['steps_reference']:.3f} | {r['seconds_auto_order']:.1f} |"
        )
    for r in rows:
        print(
            f"{r['sequence']}: {r['pairs_predicted']} of {r['pairs_matched']} pairs predicted; "
            f"without them the steps are {r['steps_without_predicted_pairs']:.3f}"
        )
    for r in rows:
        if "turn_deg_found" in r:
            print(
                f"{r['sequence']}: camera turn found {r['turn_deg_found']} deg, true order "
                f"{r['turn_deg_true_order']} deg, overlap objective {r['turn_deg_reference']} deg"
            )
    print("\n| nodes | edges | path search s | cost look-ups per node | walk recovered |")
    print("|---|---|---|---|---|")
    for r in scaling:
        print(f"| {r['nodes']} | {r['edges']} | {r['seconds']:.3f} | {r['lookups_per_node']} | {r['walk_recovered']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"ordering-{dt.date.today().isoformat()}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "ordering",
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "machine": machine(),
                "note": "shared 2-core machine; other engineers' light work may have run beside",
                "step_weights": {"zoom": ZOOM_WEIGHT, "shift": SHIFT_WEIGHT},
                "sequences": rows,
                "path_search": scaling,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
