"""Automatic ordering: real sequences under shuffled names come out in the order the camera walked."""

from __future__ import annotations

import hashlib
import itertools
import random
import shutil
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from helpers import camera_h

from multiview.alignment import ordering as O
from multiview.alignment.graph import ViewGraph
from multiview.alignment.matching import PairMatch
from multiview.alignment.ordering import auto_order, best_connected_view, order_from_steps
from multiview.alignment.steps import view_step
from multiview.project import Project


def _shuffled_copy(photos: list[Path], folder: Path, seed: int) -> dict[str, int]:
    """Copy ``photos`` (listed in their true order) under shuffled names; returns new name -> true index."""
    folder.mkdir(parents=True)
    names = [f"photo_{k:02d}" for k in range(len(photos))]
    random.Random(seed).shuffle(names)
    truth = {}
    for k, (src, name) in enumerate(zip(photos, names)):
        shutil.copy(src, folder / (name + src.suffix))
        truth[name + src.suffix] = k
    return truth


def _in_walk_order(order: tuple[str, ...], truth: dict[str, int]) -> bool:
    got = [truth[v] for v in order]
    return got in (sorted(got), sorted(got)[::-1])


@pytest.mark.parametrize("name", ["graf", "wall", "boat", "bark"])
def test_real_sequences_under_shuffled_names_come_out_in_the_order_walked(name, datasets_dir, tmp_path):
    """Oxford sequences (graf: a painted wall at 20-60 deg of viewpoint; boat/bark: zoom and rotation).

    Under the previous objective (most overlap) graf came out 1, 2, 4, 3, 5, 6: two 40 deg jumps.
    """
    photos = [datasets_dir / name / f"img{k}.png" for k in range(1, 7)]
    truth = _shuffled_copy(photos, tmp_path / "photos", seed=len(name))
    proj = Project.create(tmp_path / "photos", tmp_path / "p")
    order = auto_order(proj)
    assert _in_walk_order(order.view_ids, truth), [truth[v] + 1 for v in order.view_ids]
    sec = proj.section("ordering")
    assert len(sec["neighbour_steps"]) == 5 and all(s is not None and s > 0 for s in sec["neighbour_steps"])


def test_the_sample_comes_out_in_the_order_walked_whatever_the_names(tmp_path):
    """The synthetic sample (a close-up of the figure between two overviews) under two listings."""
    from devtools.sample import make_sample

    seq = make_sample(tmp_path / "sample", seed=0, n_views=6)
    proj = Project.create(seq.photos_dir, tmp_path / "p1")
    o1 = auto_order(proj)
    assert o1.mode == "auto" and list(o1.view_ids) == list(seq.view_names)  # file-name order is the walk
    assert len(o1.neighbour_scores) == 5 and all(0 < s <= 1 for s in o1.neighbour_scores)
    truth = _shuffled_copy([seq.photos_dir / v for v in seq.view_names], tmp_path / "shuffled", seed=3)
    proj2 = Project.create(tmp_path / "shuffled", tmp_path / "p2")
    o2 = auto_order(proj2)
    assert _in_walk_order(o2.view_ids, truth)
    assert sorted(o2.neighbour_scores) == pytest.approx(sorted(o1.neighbour_scores))
    # Features are cached per view in the project; every pair of 6 views is matched and measured.
    assert len(list((proj2.root / "cache" / "features").glob("*.npz"))) == 6
    pairs = proj2.section("ordering")["pairs"]
    assert len(pairs) == 15 and all("step" in p for p in pairs if p["inliers"] >= 100)


def test_a_walk_along_the_wall_is_ordered_by_how_far_the_views_shifted(datasets_dir, tmp_path):
    """Seven overlapping crops along a real photo (a camera moved parallel to the wall): no turn, no zoom."""
    img = cv2.imread(str(datasets_dir / "wall" / "img1.png"))
    h, w = img.shape[:2]
    cw, ch = int(w * 0.45), int(h * 0.7)
    src = tmp_path / "crops"
    src.mkdir()
    photos = []
    for k, x in enumerate(np.linspace(0, w - cw, 7).astype(int)):
        y = int((h - ch) / 2 + 20 * np.sin(k))
        photos.append(src / f"c{k}.png")
        cv2.imwrite(str(photos[-1]), img[y : y + ch, x : x + cw])
    truth = _shuffled_copy(photos, tmp_path / "photos", seed=7)
    proj = Project.create(tmp_path / "photos", tmp_path / "p")
    assert _in_walk_order(auto_order(proj).view_ids, truth)


def _walk(n: int):
    """``n`` views of a camera turning around a wall point, 5 deg apart: ``(feats, H_view_from_wall)``."""
    yaws = np.linspace(-5 * (n - 1) / 2, 5 * (n - 1) / 2, n)
    Hs = [camera_h(y) for y in yaws]
    return [SimpleNamespace(size=(800, 600)) for _ in range(n)], Hs


def _graph(n: int, Hs, pairs) -> ViewGraph:
    out = {}
    for i, j in pairs:
        H = Hs[j] @ np.linalg.inv(Hs[i])
        out[(i, j)] = PairMatch(H, 200, 250, 0.5, np.zeros((0, 2)), np.zeros((0, 2)))
    return ViewGraph(n, out, np.zeros((n, n)))


def test_geometry_finds_the_gentle_pairs_that_similarity_missed():
    """A walk whose candidate pairs skip every direct neighbour: chained homographies predict them."""
    n = 20
    feats, Hs = _walk(n)
    keys = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(n)]
    pairs = [(i, i + d) for i in range(n) for d in (2, 3) if i + d < n]  # never i, i+1
    matched = []

    def match(i, j):
        matched.append((min(i, j), max(i, j)))
        H = Hs[j] @ np.linalg.inv(Hs[i])
        return PairMatch(H, 200, 250, 0.5, np.zeros((0, 2)), np.zeros((0, 2)))

    graph, steps = O.expand_graph(feats, _graph(n, Hs, pairs), keys, match)
    assert {(i, i + 1) for i in range(n - 1)} <= set(steps)
    assert len(matched) == len(set(matched)) <= O.EXPAND_ROUNDS * O.EXPAND_PER_VIEW * n
    assert set(matched).isdisjoint(pairs) and set(matched) <= set(graph.pairs)  # matched once, kept
    order = order_from_steps(n, {p: s.cost for p, s in steps.items()}, keys, list(range(n)))
    assert order == list(range(n))
    # Without the predicted pairs the walk cannot be recovered.
    sparse = {p: view_step(Hs[p[1]] @ np.linalg.inv(Hs[p[0]]), (800, 600), (800, 600)).cost for p in pairs}
    assert order_from_steps(n, sparse, keys, list(range(n))) != list(range(n))


def test_order_from_steps_ignores_listing_order_and_follows_file_names_for_direction():
    n = 9
    _, Hs = _walk(n)
    steps = {
        (i, j): view_step(Hs[j] @ np.linalg.inv(Hs[i]), (800, 600), (800, 600)).cost
        for i, j in itertools.combinations(range(n), 2)
    }
    keys = [f"{k:04d}" for k in range(n)]
    assert order_from_steps(n, steps, keys, list(range(n))) == list(range(n))
    assert order_from_steps(n, steps, keys, list(range(n))[::-1]) == list(range(n))[::-1]
    perm = np.random.default_rng(0).permutation(n)  # the same views listed in another order
    inv = {int(v): k for k, v in enumerate(perm)}
    listed = {(min(inv[i], inv[j]), max(inv[i], inv[j])): c for (i, j), c in steps.items()}
    got = order_from_steps(n, listed, [keys[int(v)] for v in perm], list(range(n)))
    assert [int(perm[k]) for k in got] in (list(range(n)), list(range(n))[::-1])


def test_best_connected_view_is_the_default_reference_of_auto_order(photo_dir, tmp_path):
    proj = Project.create(photo_dir, tmp_path / "p")
    assert best_connected_view(proj) == proj.ordering.view_ids[1]  # no pair table: the middle view
    proj.set_section(
        "ordering",
        {
            "pairs": [
                {"a": "IMG_1.png", "b": "IMG_2.jpg", "score": 0.2},
                {"a": "IMG_1.png", "b": "IMG_10.png", "score": 0.7},
                {"a": "IMG_2.jpg", "b": "IMG_10.png", "score": 0.1},
            ]
        },
    )
    assert best_connected_view(proj) == "IMG_1.png"  # 0.9 against 0.8 and 0.3
