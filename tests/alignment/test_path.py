"""Least-cost open paths on sparse graphs: exact on small sets, bounded local search on large ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from multiview.alignment import path as P


def _dense(n: int, rng: np.random.Generator) -> dict[tuple[int, int], float]:
    C = rng.uniform(0, 1, (n, n))
    return {(i, j): float((C[i, j] + C[j, i]) / 2) for i in range(n) for j in range(i + 1, n)}


def _chain(n: int, rng: np.random.Generator, reach: int = 4, noise: float = 0.6):
    """A walk: nodes listed in a shuffled order, edges only between views up to ``reach`` apart.

    Returns ``(edges, true_order)`` where ``true_order`` lists node ids along the walk.
    """
    walk = [int(v) for v in rng.permutation(n)]
    edges = {}
    for k in range(n):
        for d in range(1, reach + 1):
            if k + d < n:
                a, b = walk[k], walk[k + d]
                edges[(min(a, b), max(a, b))] = d + float(rng.uniform(0, noise))
    return edges, walk


def test_exact_path_is_the_brute_force_optimum():
    rng = np.random.default_rng(0)
    for _ in range(10):
        n = int(rng.integers(3, 8))
        edges = _dense(n, rng)
        C = P._Costs(n, edges, None).dense()
        best = min(P.path_cost(p, edges, 99) for p in itertools.permutations(range(n)))
        assert P.path_cost(P.exact_path(C), edges, 99) == pytest.approx(best)


def test_local_search_is_close_to_exact():
    """Dense random costs (the hardest case for neighbour lists): within 10% of the optimum on average."""
    rng = np.random.default_rng(1)
    ratios = []
    for _ in range(15):
        edges = _dense(10, rng)
        exact = P.path_cost(P.least_cost_path(10, edges), edges, 99)
        heur = P.path_cost(P.least_cost_path(10, edges, exact_up_to=0), edges, 99)
        assert heur >= exact - 1e-9
        ratios.append(heur / exact)
    assert np.mean(ratios) < 1.05 and max(ratios) < 1.2


def test_every_move_changes_the_cost_by_its_computed_delta():
    rng = np.random.default_rng(2)
    for _ in range(200):
        n = int(rng.integers(3, 12))
        edges = {k: v for k, v in _dense(n, rng).items() if rng.random() < 0.6}
        c = P._Costs(n, edges, None)
        path = [int(v) for v in rng.permutation(n)]
        pos = [0] * n
        for k, v in enumerate(path):
            pos[v] = k

        def total(p, c=c):
            return sum(c(a, b) for a, b in itertools.pairwise(p))

        for a in range(n):
            d, lo, hi = P._best_two_opt(path, pos, c, a)
            if lo >= 0:
                new = path[:lo] + path[lo : hi + 1][::-1] + path[hi + 1 :]
                assert total(new) - total(path) == pytest.approx(d, abs=1e-6)
            d, new = P._best_or_opt(path, pos, c, a)
            if new is not None:
                assert sorted(new) == list(range(n))
                assert total(new) - total(path) == pytest.approx(d, abs=1e-6)


@pytest.mark.parametrize("n", [6, 40, 300])
def test_recovers_a_shuffled_walk(n):
    edges, walk = _chain(n, np.random.default_rng(n))
    got = P.least_cost_path(n, edges)
    assert got in (walk, walk[::-1])


def test_large_sets_never_build_an_all_pairs_matrix(monkeypatch):
    def refuse(self):
        raise AssertionError("dense matrix built")

    monkeypatch.setattr(P._Costs, "dense", refuse)
    edges, walk = _chain(200, np.random.default_rng(3))
    assert P.least_cost_path(200, edges) in (walk, walk[::-1])


def test_work_grows_linearly_with_the_number_of_nodes(monkeypatch):
    """Cost look-ups (the search's unit of work) per node stay flat from 250 to 1000 nodes."""
    calls = {"n": 0}
    original = P._Costs.__call__

    def counting(self, a, b):
        calls["n"] += 1
        return original(self, a, b)

    monkeypatch.setattr(P._Costs, "__call__", counting)
    per_node = {}
    for n in (250, 1000):
        calls["n"] = 0
        edges, _ = _chain(n, np.random.default_rng(n), noise=2.5)  # noisy: greedy leaves work to do
        P.least_cost_path(n, edges)
        per_node[n] = calls["n"] / n
    assert per_node[1000] < 1.5 * per_node[250]


def test_disconnected_parts_are_joined_by_as_few_gaps_as_possible():
    rng = np.random.default_rng(4)
    e1, w1 = _chain(15, rng)
    e2, w2 = _chain(12, rng)
    edges = dict(e1)
    edges.update({(a + 15, b + 15): c for (a, b), c in e2.items()})
    got = P.least_cost_path(27, edges)
    gaps = [k for k, (a, b) in enumerate(itertools.pairwise(got)) if (min(a, b), max(a, b)) not in edges]
    assert len(gaps) == 1
    first, second = got[: gaps[0] + 1], got[gaps[0] + 1 :]
    parts = sorted([first, second], key=len, reverse=True)
    assert parts[0] in (w1, w1[::-1])
    assert parts[1] in ([v + 15 for v in w2], [v + 15 for v in w2][::-1])


def test_bad_edges_are_refused():
    with pytest.raises(ValueError, match="cost"):
        P.least_cost_path(3, {(0, 1): -1.0})
    with pytest.raises(ValueError, match="cost"):
        P.least_cost_path(3, {(0, 1): float("nan")})
    with pytest.raises(ValueError, match="bad edge"):
        P.least_cost_path(3, {(0, 3): 1.0})


def test_tiny_sets():
    assert P.least_cost_path(0, {}) == []
    assert P.least_cost_path(1, {}) == [0]
    assert P.least_cost_path(2, {}) == [0, 1]
    assert P.least_cost_path(3, {(0, 2): 0.1, (1, 2): 0.2}) == [0, 2, 1]
