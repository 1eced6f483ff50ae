"""Ordering stage: arrange the views into a pseudo-video where neighbours overlap most.

``auto_order`` builds the view graph (cheap global similarity, full matching of
candidate pairs only; features and matches cached in the project), scores each
pair by shared area times match confidence, and finds the open path through all
views with the least total ``1 - score`` (exact for up to 10 views, otherwise
greedy-edge and nearest-neighbour starts improved by 2-opt and or-opt). The result depends only on the photos'
content, never
on the order the files were listed; of the two directions of the path, the one
closer to file-name order is returned.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AlignmentError

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Ordering, Project

log = logging.getLogger(__name__)

#: Exact search (dynamic programming) up to this many views.
EXACT_UP_TO = 10


def _path_cost(path: Sequence[int], cost: np.ndarray) -> float:
    return float(sum(cost[a, b] for a, b in itertools.pairwise(path)))


def _exact_path(cost: np.ndarray) -> list[int]:
    """Held-Karp for the open path of least cost (any start, any end)."""
    n = len(cost)
    full = 1 << n
    dp = np.full((full, n), np.inf)
    back = np.full((full, n), -1, dtype=np.int64)
    for i in range(n):
        dp[1 << i, i] = 0.0
    for mask in range(1, full):
        row = dp[mask]
        ends = [i for i in range(n) if mask >> i & 1 and np.isfinite(row[i])]
        for i in ends:
            c = row[i]
            for j in range(n):
                if mask >> j & 1:
                    continue
                nm = mask | 1 << j
                v = c + cost[i, j]
                if v < dp[nm, j] - 1e-12:
                    dp[nm, j] = v
                    back[nm, j] = i
    mask = full - 1
    end = int(np.argmin(dp[mask]))
    path = [end]
    while back[mask, path[-1]] >= 0:
        prev = int(back[mask, path[-1]])
        mask &= ~(1 << path[-1])
        path.append(prev)
    return path[::-1]


def _two_opt(path: list[int], cost: np.ndarray) -> list[int]:
    """Improve an open path by segment reversals until no reversal helps."""
    n = len(path)
    improved = True
    while improved:
        improved = False
        for i in range(0, n - 1):
            for k in range(i + 1, n):
                # Reverse path[i..k]; edges (i-1,i) and (k,k+1) change.
                a = path[i - 1] if i > 0 else None
                b, c = path[i], path[k]
                d = path[k + 1] if k + 1 < n else None
                old = (cost[a, b] if a is not None else 0) + (cost[c, d] if d is not None else 0)
                new = (cost[a, c] if a is not None else 0) + (cost[b, d] if d is not None else 0)
                if new < old - 1e-9:
                    path[i : k + 1] = path[i : k + 1][::-1]
                    improved = True
    return path


def _greedy_edges(cost: np.ndarray) -> list[int]:
    """Path built from the cheapest edges first (no vertex of degree 3, no cycle)."""
    n = len(cost)
    iu, ju = np.triu_indices(n, 1)
    order = np.lexsort((ju, iu, cost[iu, ju]))
    deg = np.zeros(n, int)
    comp = list(range(n))

    def find(x: int) -> int:
        while comp[x] != x:
            comp[x] = comp[comp[x]]
            x = comp[x]
        return x

    adj: list[list[int]] = [[] for _ in range(n)]
    added = 0
    for e in order:
        a, b = int(iu[e]), int(ju[e])
        if deg[a] < 2 and deg[b] < 2 and find(a) != find(b):
            adj[a].append(b)
            adj[b].append(a)
            deg[a] += 1
            deg[b] += 1
            comp[find(a)] = find(b)
            added += 1
            if added == n - 1:
                break
    start = min(i for i in range(n) if deg[i] <= 1)
    path, prev = [start], -1
    while len(path) < n:
        nxt = [j for j in adj[path[-1]] if j != prev]
        prev = path[-1]
        path.append(nxt[0])
    return path


def _or_opt(path: list[int], cost: np.ndarray) -> bool:
    """Move one segment of 1..3 views elsewhere (either direction) when it lowers the cost.

    Returns True after the first improving move (``path`` is changed in place).
    """
    n = len(path)

    def c(a: int | None, b: int | None) -> float:
        return 0.0 if a is None or b is None else float(cost[a, b])

    for seg in (1, 2, 3):
        for i in range(0, n - seg + 1):
            block = path[i : i + seg]
            p = path[i - 1] if i > 0 else None
            q = path[i + seg] if i + seg < n else None
            gain = c(p, block[0]) + c(block[-1], q) - c(p, q)
            rest = path[:i] + path[i + seg :]
            for j in range(0, len(rest) + 1):
                if j == i:
                    continue
                x = rest[j - 1] if j > 0 else None
                y = rest[j] if j < len(rest) else None
                for blk in (block, block[::-1]):
                    added = c(x, blk[0]) + c(blk[-1], y) - c(x, y)
                    if added < gain - 1e-9:
                        path[:] = rest[:j] + blk + rest[j:]
                        return True
    return False


def _local_search(path: list[int], cost: np.ndarray) -> list[int]:
    path = _two_opt(path, cost)
    while _or_opt(path, cost):
        path = _two_opt(path, cost)
    return path


def _heuristic_path(cost: np.ndarray, starts: int = 8) -> list[int]:
    """Greedy-edge and nearest-neighbour paths, improved by 2-opt and or-opt; the cheapest wins."""
    n = len(cost)
    cands = [_greedy_edges(cost)]
    # Nearest-neighbour starts from the views with the weakest best link (likely ends of the sequence).
    best_link = np.sort(cost, axis=1)[:, 1] if n > 1 else np.zeros(n)
    for s in np.argsort(-best_link, kind="stable")[:starts]:
        path, left = [int(s)], set(range(n)) - {int(s)}
        while left:
            cur = path[-1]
            nxt = min(left, key=lambda j: (cost[cur, j], j))
            path.append(nxt)
            left.remove(nxt)
        cands.append(path)
    best, best_c = None, np.inf
    for path in cands:
        path = _local_search(list(path), cost)
        c = _path_cost(path, cost)
        if c < best_c - 1e-9:
            best, best_c = path, c
    return best or list(range(n))


def order_from_scores(scores: np.ndarray, keys: Sequence[str], names_rank: Sequence[int]) -> list[int]:
    """Open path through all views maximising the neighbour scores.

    Args:
        scores: (n, n) symmetric similarity 0..1.
        keys: content-based key per view (e.g. sha256) that fixes ties independently of listing order.
        names_rank: rank of each view in natural file-name order (chooses the direction).

    Returns:
        view indices in pseudo-video order.
    """
    n = len(scores)
    if n <= 2:
        path = list(range(n))
    else:
        perm = sorted(range(n), key=lambda i: keys[i])  # canonical, content-based indexing
        cost = 1.0 - np.asarray(scores, np.float64)[np.ix_(perm, perm)]
        np.fill_diagonal(cost, 0.0)
        p = _exact_path(cost) if n <= EXACT_UP_TO else _heuristic_path(cost)
        path = [perm[i] for i in p]
    ranks = np.asarray([names_rank[i] for i in path], np.float64)
    if n > 1 and np.corrcoef(np.arange(n), ranks)[0, 1] < 0:
        path = path[::-1]
    return path


def auto_order(project: Project, progress: Callable[[str, int, int], None] | None = None) -> Ordering:
    """Order views so that neighbours overlap most.

    Features (``cache/features``) and pair matches (``cache/pairs``) are cached, so a
    following ``multiview align`` reuses them. The pair table is stored in the
    project's ``"ordering"`` section.

    Returns:
        an :class:`~multiview.project.Ordering` with mode ``"auto"`` and the score of each
        neighbouring pair (shared area times match confidence, 0..1).

    Raises:
        AlignmentError: the project has fewer than two views.
    """
    from ..loading import natural_key
    from ..project import Ordering
    from .pipeline import graph_summary, project_features, project_graph

    views = project.views
    if len(views) < 2:
        raise AlignmentError("ordering needs at least two views")
    feats = project_features(project, progress)
    graph = project_graph(project, feats, progress=progress)
    names = sorted(range(len(views)), key=lambda i: natural_key(views[i].id))
    rank = [0] * len(views)
    for r, i in enumerate(names):
        rank[i] = r
    path = order_from_scores(graph.scores, [v.sha256 for v in views], rank)
    ids = tuple(views[i].id for i in path)
    nscores = tuple(round(float(graph.scores[a, b]), 4) for a, b in itertools.pairwise(path))
    weak = [f"{ids[k]}-{ids[k + 1]}" for k, s in enumerate(nscores) if s == 0.0]
    if weak:
        log.warning("no overlap found between neighbours %s; those views may not register", ", ".join(weak))
    project.set_section("ordering", {"mode": "auto", "pairs": graph_summary([v.id for v in views], graph)})
    return Ordering("auto", ids, nscores)


def best_connected_view(project: Project) -> str:
    """Id of the view with the largest total pair score, a good default reference.

    Uses the pair table that :func:`auto_order` stored in the ``"ordering"`` section;
    ties (and a project without that table) fall back to the middle of the order.
    """
    ids = project.ordering.view_ids
    total = dict.fromkeys(ids, 0.0)
    for pair in project.section("ordering").get("pairs", []):
        for key in ("a", "b"):
            if pair[key] in total:
                total[pair[key]] += float(pair["score"])
    middle = ids[len(ids) // 2]
    best = max(ids, key=lambda v: (round(total[v], 6), v == middle))
    return best if total[best] > 0 else middle
