"""Automatic ordering: path search on scores, and content-only order of real photos."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest

from multiview.alignment.ordering import _exact_path, _heuristic_path, _path_cost, auto_order, order_from_scores
from multiview.project import Project


def _chain_scores(n: int, rng: np.random.Generator) -> np.ndarray:
    """Similarity of views along a line: decays with distance in the true order."""
    pos = np.arange(n)
    s = np.exp(-np.abs(pos[:, None] - pos[None, :]) / 1.5) + rng.uniform(0, 0.02, (n, n))
    s = (s + s.T) / 2
    np.fill_diagonal(s, 1)
    return np.clip(s, 0, 1)


@pytest.mark.parametrize("n", [5, 9, 25])
def test_recovers_chain_from_shuffled_scores(n):
    rng = np.random.default_rng(n)
    s = _chain_scores(n, rng)
    perm = rng.permutation(n)  # listing order
    keys = [f"{k:04d}" for k in perm]  # content keys follow the view, not the listing
    got = order_from_scores(s[np.ix_(perm, perm)], keys, list(range(n)))
    true_pos = [int(perm[i]) for i in got]
    assert true_pos in (list(range(n)), list(range(n))[::-1])


def test_heuristic_matches_exact_on_small_sets():
    rng = np.random.default_rng(0)
    for _ in range(5):
        c = rng.uniform(0, 1, (8, 8))
        c = (c + c.T) / 2
        np.fill_diagonal(c, 0)
        exact = _path_cost(_exact_path(c), c)
        heur = _path_cost(_heuristic_path(c), c)
        assert heur <= exact * 1.15 + 1e-9
        assert exact <= heur + 1e-9


def test_direction_follows_file_names():
    s = _chain_scores(6, np.random.default_rng(1))
    keys = list("abcdef")
    assert order_from_scores(s, keys, [0, 1, 2, 3, 4, 5]) == [0, 1, 2, 3, 4, 5]
    assert order_from_scores(s, keys, [5, 4, 3, 2, 1, 0]) == [5, 4, 3, 2, 1, 0]


def test_auto_order_on_sample_ignores_file_listing(tmp_path):
    """Same photos under shuffled names: the same sequence of photo contents (up to direction)."""
    from devtools.sample import make_sample

    seq = make_sample(tmp_path / "sample", seed=0, n_views=6)
    proj = Project.create(seq.photos_dir, tmp_path / "p1")
    o1 = auto_order(proj)
    assert o1.mode == "auto" and sorted(o1.view_ids) == sorted(v.id for v in proj.views)
    assert len(o1.neighbour_scores) == 5 and all(0 < s <= 1 for s in o1.neighbour_scores)
    # Neighbours overlap: the path is at least as good as file-name order.
    sec = proj.section("ordering")
    score = {frozenset((r["a"], r["b"])): r["score"] for r in sec["pairs"]}
    names = [v.id for v in sorted(proj.views, key=lambda v: v.id)]
    by_name = sum(score[frozenset(p)] for p in itertools.pairwise(names))
    assert sum(o1.neighbour_scores) >= by_name - 1e-9
    # Rename the photos so that they list in another order.
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    rename = {}
    for k, name in enumerate(reversed(seq.view_names)):
        new = f"photo_{(k * 7) % 6}_{name[-6:-4]}.jpg"
        shutil.copy(seq.photos_dir / name, shuffled / new)
        rename[new] = name
    proj2 = Project.create(shuffled, tmp_path / "p2")
    o2 = auto_order(proj2)
    got = [rename[v] for v in o2.view_ids]
    assert got in (list(o1.view_ids), list(o1.view_ids)[::-1])
    assert sorted(o2.neighbour_scores) == pytest.approx(sorted(o1.neighbour_scores))
    # Features are cached per view in the project.
    assert len(list((proj2.root / "cache" / "features").glob("*.npz"))) == 6


def test_best_connected_view_is_the_default_reference_of_auto_order(photo_dir, tmp_path):
    from multiview.alignment.ordering import best_connected_view

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
