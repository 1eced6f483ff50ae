"""The open path of least total cost through every node of a sparse graph (the pseudo-video order).

Ordering views is a shortest Hamiltonian path problem (NP-hard). Up to
:data:`EXACT_UP_TO` nodes it is solved exactly (Held-Karp dynamic programming).
Beyond that, and without ever building an all-pairs matrix:

1. greedy edges: cheapest edges first, no node of degree 3, no cycle; this leaves
   gap-free *runs*;
2. the runs are joined end to end through edges, each end first rotated up to
   :data:`ROTATION_DEPTH` times (Posa's rotations: with an end ``e`` and its
   neighbour ``v`` inside the run, reverse the stretch after ``v``, making the
   node after ``v`` the new end; Posa, "Hamiltonian circuits in random graphs",
   Discrete Math. 1976);
3. local search whose moves only ever *create* edges of the graph: 2-opt (reverse
   a stretch) and or-opt (move a stretch of 1-3 nodes, up to :data:`MAX_STRETCH`
   beside a gap, either way round), each tried only between a node and its
   :data:`NEIGHBOURS` cheapest neighbours, with a work queue of the nodes whose
   surroundings changed ("don't-look bits"): the classic neighbour-list local
   search for travelling-salesman problems (Bentley, "Fast algorithms for
   geometric traveling salesman problems", ORSA J. Computing 1992; Johnson &
   McGeoch, "The traveling salesman problem: a case study in local
   optimization", 1997);
4. if gaps remain, steps 2-3 again on the runs of that path (at most
   :data:`REPAIR_ROUNDS` times).

Each queue visit costs ``O(NEIGHBOURS * MAX_STRETCH)`` evaluations at most, an
applied move ``O(n)`` list work, and the moves are capped at
:data:`MAX_MOVES_PER_NODE` per node, so for a graph with a bounded number of edges
per node the work grows about linearly with the number of nodes
(``tests/alignment/test_path.py`` counts it).

Two nodes without an edge can still follow each other at the cost ``gap``, larger
than any path made of edges, so the path uses as few gaps as it can find.

Convention:
    Nodes are ``0..n-1``; ``edges`` maps ``(i, j)`` with ``i < j`` to a cost >= 0.
    Ties are broken by node index: callers index nodes by a content key so the
    result does not depend on the order the inputs were listed in.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np

#: Exact search (Held-Karp) up to this many nodes.
EXACT_UP_TO = 10
#: Local-search moves are tried between a node and this many cheapest neighbours.
NEIGHBOURS = 10
#: Rotations tried at each end of a run when joining runs.
ROTATION_DEPTH = 2
#: Rounds of joining runs again when the local search leaves gaps.
REPAIR_ROUNDS = 3
#: Longest stretch moved in one or-opt move beside a gap (elsewhere: 1-3 nodes).
MAX_STRETCH = 30
#: Cap on the improving moves of one search: this many per node.
MAX_MOVES_PER_NODE = 20
_EPS = 1e-9


class _Costs:
    """Edge costs with a gap cost for missing edges; ``None`` stands for "beyond an end" (cost 0)."""

    def __init__(self, n: int, edges: Mapping[tuple[int, int], float], gap: float | None):
        self.n = n
        self.w: dict[tuple[int, int], float] = {}
        for (i, j), c in edges.items():
            if i == j or not (0 <= i < n and 0 <= j < n):
                raise ValueError(f"bad edge ({i}, {j}) for {n} nodes")
            if not np.isfinite(c) or c < 0:
                raise ValueError(f"edge ({i}, {j}) has cost {c}; costs must be finite and >= 0")
            self.w[(min(i, j), max(i, j))] = float(c)
        top = max(self.w.values(), default=0.0)
        self.gap = float(gap) if gap is not None else (top + 1.0) * max(n, 1)
        nbrs: list[list[tuple[float, int]]] = [[] for _ in range(n)]
        for (i, j), c in self.w.items():
            nbrs[i].append((c, j))
            nbrs[j].append((c, i))
        self.nbrs = [[j for _, j in sorted(lst)] for lst in nbrs]

    def __call__(self, a: int | None, b: int | None) -> float:
        if a is None or b is None:
            return 0.0
        return self.w.get((a, b) if a < b else (b, a), self.gap)

    def dense(self) -> np.ndarray:
        C = np.full((self.n, self.n), self.gap)
        np.fill_diagonal(C, 0.0)
        for (i, j), c in self.w.items():
            C[i, j] = C[j, i] = c
        return C


def path_cost(path: Sequence[int], edges: Mapping[tuple[int, int], float], gap: float) -> float:
    """Total cost of ``path`` (missing edges cost ``gap``)."""
    return float(sum(edges.get((min(a, b), max(a, b)), gap) for a, b in itertools.pairwise(path)))


def exact_path(C: np.ndarray) -> list[int]:
    """Held-Karp: the open path of least cost (any start, any end) for a dense (n, n) cost matrix.

    ``O(2^n n^2)`` time: use for small ``n`` only. Ties go to the smaller index.
    """
    n = len(C)
    if n <= 1:
        return list(range(n))
    full = 1 << n
    dp = np.full((full, n), np.inf)
    back = np.full((full, n), -1, dtype=np.int64)
    for i in range(n):
        dp[1 << i, i] = 0.0
    for mask in range(1, full):
        row = dp[mask]
        for i in range(n):
            if not (mask >> i & 1) or not np.isfinite(row[i]):
                continue
            c = row[i]
            for j in range(n):
                if mask >> j & 1:
                    continue
                nm = mask | 1 << j
                v = c + C[i, j]
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


def greedy_fragments(costs: _Costs) -> list[list[int]]:
    """Cheapest edges first (no node of degree 3, no cycle): the gap-free runs they form.

    Runs are listed by their smallest end node, each starting at that end.
    """
    n = costs.n
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: list[list[int]] = [[] for _ in range(n)]
    for (i, j), _c in sorted(costs.w.items(), key=lambda kv: (kv[1], kv[0])):
        if len(adj[i]) < 2 and len(adj[j]) < 2 and find(i) != find(j):
            adj[i].append(j)
            adj[j].append(i)
            parent[find(i)] = find(j)
    seen = [False] * n
    runs: list[list[int]] = []
    for start in range(n):
        if seen[start] or len(adj[start]) > 1:
            continue
        run: list[int] = []
        prev, cur = -1, start
        while True:
            seen[cur] = True
            run.append(cur)
            nxt = [j for j in adj[cur] if j != prev]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
        runs.append(run)
    return runs


def _rotations(run: list[int], c: _Costs, depth: int) -> dict[int, tuple[float, list[int]]]:
    """Ends reachable by rotating the last end of ``run`` (Posa rotations): ``end -> (cost change, run)``.

    A rotation with the end ``e`` and its neighbour ``v = run[i]`` makes ``run[:i+1] + run[i+1:][::-1]``:
    the edge ``(v, run[i+1])`` gives way to ``(v, e)`` and ``run[i+1]`` becomes the end.
    """
    out = {run[-1]: (0.0, run)}
    frontier = [(0.0, run)]
    for _ in range(depth):
        grown = []
        for d, r in frontier:
            e = r[-1]
            where = {v: k for k, v in enumerate(r)}
            for v in c.nbrs[e][:NEIGHBOURS]:
                i = where.get(v)
                if i is None or i >= len(r) - 2:
                    continue
                nd = d + c(v, e) - c(v, r[i + 1])
                end = r[i + 1]
                if end not in out or nd < out[end][0] - _EPS:
                    nr = r[: i + 1] + r[i + 1 :][::-1]
                    out[end] = (nd, nr)
                    grown.append((nd, nr))
        frontier = grown
    return out


def join_runs(runs: list[list[int]], c: _Costs, depth: int = ROTATION_DEPTH) -> list[int]:
    """Join gap-free runs end to end through edges, rotating their ends where that helps; then concatenate.

    Repeatedly takes the cheapest join between the reachable ends of two runs (each
    reached by at most ``depth`` rotations); runs that cannot be joined are put one after
    the other, each such junction a gap.
    """
    import heapq

    alive: dict[int, list[int]] = dict(enumerate(runs))
    version = dict.fromkeys(alive, 0)
    ends: dict[tuple[int, int], dict[int, tuple[float, list[int]]]] = {}  # (run id, side) -> reachable
    at: dict[int, list[tuple[int, int]]] = {}  # node -> [(run id, side)] where it is a reachable end
    heap: list[tuple[float, int, int, int, int, int, int, int, int]] = []
    next_id = len(runs)

    def index(rid: int) -> None:
        run = alive[rid]
        for side in (0, 1):  # 1: the tail as it is; 0: the head (run reversed)
            reach = _rotations(run if side else run[::-1], c, depth)
            ends[(rid, side)] = reach
            for e in reach:
                at.setdefault(e, []).append((rid, side))

    def offer(rid: int) -> None:
        for side in (0, 1):
            for e, (d1, _r) in ends[(rid, side)].items():
                for u in c.nbrs[e][:NEIGHBOURS]:
                    for rid2, side2 in at.get(u, ()):
                        if rid2 == rid or rid2 not in alive:
                            continue
                        got = ends.get((rid2, side2), {}).get(u)
                        if got is None:
                            continue
                        cost = d1 + got[0] + c(e, u)
                        heapq.heappush(heap, (cost, rid, side, e, version[rid], rid2, side2, u, version[rid2]))

    for rid in list(alive):
        index(rid)
    for rid in list(alive):
        offer(rid)
    while heap and len(alive) > 1:
        _cost, r1, s1, e1, v1, r2, s2, e2, v2 = heapq.heappop(heap)
        if r1 not in alive or r2 not in alive or version[r1] != v1 or version[r2] != v2:
            continue
        a = ends[(r1, s1)][e1][1]  # ends with e1
        b = ends[(r2, s2)][e2][1]  # ends with e2
        merged = a + b[::-1]
        for rid in (r1, r2):
            del alive[rid]
            ends.pop((rid, 0), None)
            ends.pop((rid, 1), None)
        alive[next_id] = merged
        version[next_id] = 0
        index(next_id)
        offer(next_id)
        next_id += 1
    order = sorted(alive.values(), key=lambda r: min(r[0], r[-1]))
    return [v for r in order for v in (r if r[0] <= r[-1] else r[::-1])]


def _runs(path: Sequence[int], c: _Costs) -> list[list[int]]:
    """``path`` cut at its gaps."""
    out = [[path[0]]]
    for a, b in itertools.pairwise(path):
        if c(a, b) >= c.gap:
            out.append([b])
        else:
            out[-1].append(b)
    return out


def _apply(path: list[int], pos: list[int], lo: int, new_block: list[int]) -> None:
    path[lo : lo + len(new_block)] = new_block
    for k in range(lo, lo + len(new_block)):
        pos[path[k]] = k


def _best_two_opt(path: list[int], pos: list[int], c: _Costs, a: int) -> tuple[float, int, int]:
    """Best 2-opt move that makes ``a`` adjacent to one of its neighbours: ``(delta, lo, hi)`` reverses ``lo..hi``."""
    n = len(path)
    i = pos[a]
    best = (0.0, -1, -1)

    def at(k: int) -> int | None:
        return path[k] if 0 <= k < n else None

    for b in c.nbrs[a][:NEIGHBOURS]:
        j = pos[b]
        if abs(i - j) <= 1:
            continue
        if j > i:
            # reverse i+1..j: a joins b (a's successor edge goes)
            d1 = c(a, b) + c(at(i + 1), at(j + 1)) - c(a, at(i + 1)) - c(b, at(j + 1))
            # reverse i..j-1: b joins a (a's predecessor edge goes)
            d2 = c(at(i - 1), at(j - 1)) + c(a, b) - c(at(i - 1), a) - c(at(j - 1), b)
            moves = ((d1, i + 1, j), (d2, i, j - 1))
        else:
            # reverse j..i-1: b joins a (a's predecessor edge goes)
            d1 = c(at(j - 1), at(i - 1)) + c(b, a) - c(at(j - 1), b) - c(at(i - 1), a)
            # reverse j+1..i: a joins b (a's successor edge goes)
            d2 = c(b, a) + c(at(j + 1), at(i + 1)) - c(b, at(j + 1)) - c(a, at(i + 1))
            moves = ((d1, j, i - 1), (d2, j + 1, i))
        for d, lo, hi in moves:
            if d < best[0] - _EPS:
                best = (d, lo, hi)
    return best


def _best_or_opt(
    path: list[int], pos: list[int], c: _Costs, a: int, lengths: Sequence[int] = (1, 2, 3)
) -> tuple[float, list[int] | None]:
    """Best move of a stretch of ``lengths`` nodes with ``a`` at one end, put next to one of ``a``'s neighbours.

    Returns ``(delta, new_path)``; ``new_path`` is None when no move improves.
    """
    n = len(path)
    i = pos[a]
    best_d, best_move = 0.0, None

    def at(k: int) -> int | None:
        return path[k] if 0 <= k < n else None

    for length in lengths:
        for s, e in ((i, i),) if length == 1 else ((i, i + length - 1), (i - length + 1, i)):
            if s < 0 or e >= n:
                continue
            other = path[e] if s == i else path[s]  # the end of the stretch that is not a
            prev, nxt = at(s - 1), at(e + 1)
            gain = c(prev, path[s]) + c(path[e], nxt) - c(prev, nxt)
            for b in c.nbrs[a][:NEIGHBOURS]:
                j = pos[b]
                if s <= j <= e:
                    continue
                # b's neighbours once the stretch is taken out
                left = prev if j == e + 1 else at(j - 1)
                right = nxt if j == s - 1 else at(j + 1)
                # insert between left and b (..., left, other..a, b, ...) or between b and right
                for d, side in (
                    (c(left, other) + c(a, b) - c(left, b) - gain, "left"),
                    (c(b, a) + c(other, right) - c(b, right) - gain, "right"),
                ):
                    if d < best_d - _EPS:
                        best_d, best_move = d, (s, e, b, side)
    if best_move is None:
        return 0.0, None
    s, e, b, side = best_move
    stretch = path[s : e + 1]
    rest = path[:s] + path[e + 1 :]
    k = rest.index(b)
    if side == "left":  # ..., other..a, b
        block = stretch if stretch[-1] == a else stretch[::-1]
        new = rest[:k] + block + rest[k:]
    else:  # b, a..other, ...
        block = stretch if stretch[0] == a else stretch[::-1]
        new = rest[: k + 1] + block + rest[k + 1 :]
    return best_d, new


def local_search(path: list[int], costs: _Costs, max_moves: int | None = None) -> list[int]:
    """Improve an open path by neighbour-list 2-opt and or-opt moves until none helps (or the cap)."""
    n = len(path)
    path = list(path)
    if n < 3:
        return path
    pos = [0] * n
    for k, v in enumerate(path):
        pos[v] = k
    cap = MAX_MOVES_PER_NODE * n if max_moves is None else max_moves
    queue = deque(sorted(range(n)))
    queued = [True] * n
    moves = 0
    while queue and moves < cap:
        a = queue.popleft()
        queued[a] = False
        d2, lo, hi = _best_two_opt(path, pos, costs, a)
        i = pos[a]
        before, after = (path[i - 1] if i > 0 else None), (path[i + 1] if i + 1 < n else None)
        beside_gap = max(costs(before, a), costs(a, after)) >= costs.gap
        # Beside a gap, longer stretches may move (a gap is worth a longer search; there are few).
        lengths = range(1, min(n - 1, MAX_STRETCH) + 1) if beside_gap else (1, 2, 3)
        d3, new = _best_or_opt(path, pos, costs, a, lengths)
        if d2 >= -_EPS and new is None:
            continue
        if new is not None and d3 < d2 - _EPS:
            changed = [k for k in range(n) if new[k] != path[k]]
            lo, hi = changed[0], changed[-1]
            touched = {path[max(lo - 1, 0)], path[min(hi + 1, n - 1)], *new[lo : hi + 1]}
            _apply(path, pos, lo, new[lo : hi + 1])
        else:
            touched = {path[lo], path[hi], path[max(lo - 1, 0)], path[min(hi + 1, n - 1)]}
            _apply(path, pos, lo, path[lo : hi + 1][::-1])
        moves += 1
        for v in sorted(touched | {a}):
            if not queued[v]:
                queue.append(v)
                queued[v] = True
    return path


def least_cost_path(
    n: int,
    edges: Mapping[tuple[int, int], float],
    *,
    gap: float | None = None,
    exact_up_to: int = EXACT_UP_TO,
) -> list[int]:
    """Open path through all ``n`` nodes with (near-)least total edge cost.

    Args:
        n: number of nodes.
        edges: ``(i, j) -> cost`` (``i < j``, cost finite, >= 0); missing pairs cost ``gap``.
        gap: cost of two nodes without an edge following each other; default
            ``(largest edge cost + 1) * n``, more than any path of edges, so the fewest
            gaps come first.
        exact_up_to: solve exactly (Held-Karp) up to this many nodes.

    Returns:
        the node order (one of its two directions: the one starting at the smaller end node).

    Raises:
        ValueError: an edge names a node outside ``0..n-1`` or has a negative or non-finite cost.
    """
    costs = _Costs(n, edges, gap)
    if n <= 2:
        return list(range(n))
    if n <= exact_up_to:
        path = exact_path(costs.dense())
    else:
        path = local_search(join_runs(greedy_fragments(costs), costs), costs)
        for _ in range(REPAIR_ROUNDS):  # gaps left by the local search: join the runs again, search again
            runs = _runs(path, costs)
            if len(runs) == 1:
                break
            path = local_search(join_runs(runs, costs), costs)
    return path if path[0] <= path[-1] else path[::-1]
