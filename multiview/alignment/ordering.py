"""Ordering stage: arrange the views into the pseudo-video a camera would have walked, in the gentlest steps.

``auto_order``:

1. features and the view graph (cheap global similarity, full matching of candidate
   pairs only: every pair up to 12 views, else each view's most similar views;
   features and matches cached in the project, so ``multiview align`` reuses them);
2. every matched pair gets its *viewpoint step* from its homography
   (:func:`~multiview.alignment.steps.view_step`: change of foreshortening and
   perspective, less so of scale and framing);
3. pairs the similarity missed but geometry suggests are tried too: a pair two
   matched steps apart whose *predicted* homography (the chain of the two) would be
   among either view's :data:`EXPAND_RANK` gentlest steps is matched, at most
   :data:`EXPAND_PER_VIEW` per view and round, :data:`EXPAND_ROUNDS` rounds, only
   through each view's :data:`EXPAND_VIA` gentlest neighbours: at most
   ``EXPAND_ROUNDS * EXPAND_PER_VIEW * n`` more matches, never all pairs;
4. the open path with the least total step through all views
   (:func:`~multiview.alignment.path.least_cost_path`: exact up to 10 views, else a
   sparse, bounded local search).

The result depends only on the photos' content, never on the order the files were
listed; of the two directions of the path, the one closer to file-name order is
returned.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AlignmentError
from .graph import ViewGraph, flip, overlap_score
from .path import least_cost_path
from .steps import ViewStep, view_step

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Ordering, Project
    from .features import Features
    from .matching import PairMatch

log = logging.getLogger(__name__)

#: A predicted pair is matched when it would be among this many gentlest steps of either view.
EXPAND_RANK = 3
#: Most predicted pairs matched per view and round.
EXPAND_PER_VIEW = 3
#: Rounds of prediction and matching.
EXPAND_ROUNDS = 2
#: Predictions go through each view's this many gentlest neighbours (and theirs).
EXPAND_VIA = 4

Pair = tuple[int, int]


def pair_steps(feats: Sequence[Features], graph: ViewGraph) -> dict[Pair, ViewStep]:
    """The viewpoint step of every matched pair of ``graph`` that overlaps (key ``(i, j)``, ``i < j``)."""
    out = {}
    for (i, j), pm in graph.pairs.items():
        if pm.H_b_from_a is not None:
            step = view_step(pm.H_b_from_a, feats[i].size, feats[j].size)
            if step is not None:
                out[(i, j)] = step
    return out


def _predicted_pairs(
    feats: Sequence[Features], graph: ViewGraph, steps: Mapping[Pair, ViewStep], keys: Sequence[str]
) -> list[Pair]:
    """Unmatched pairs whose chained homography promises a step among either view's gentlest (see module doc)."""
    n = graph.n
    nbrs: list[list[tuple[float, str, int]]] = [[] for _ in range(n)]
    for (i, j), st in steps.items():
        nbrs[i].append((st.cost, keys[j], j))
        nbrs[j].append((st.cost, keys[i], i))
    for lst in nbrs:
        lst.sort()
    bar = [lst[EXPAND_RANK - 1][0] if len(lst) >= EXPAND_RANK else np.inf for lst in nbrs]
    best: dict[Pair, float] = {}
    for a in range(n):
        for _, _, b in nbrs[a][:EXPAND_VIA]:
            H_b_from_a = graph.H(b, a)
            if H_b_from_a is None:
                continue
            for _, _, c in nbrs[b][:EXPAND_VIA]:
                pair = (min(a, c), max(a, c))
                H_c_from_b = graph.H(c, b)
                if c == a or pair in graph.pairs or H_c_from_b is None:
                    continue
                step = view_step(H_c_from_b @ H_b_from_a, feats[a].size, feats[c].size)
                if step is not None and step.cost < best.get(pair, np.inf):
                    best[pair] = step.cost
    wanted = sorted(
        ((cost, min(keys[i], keys[j]), max(keys[i], keys[j]), (i, j)) for (i, j), cost in best.items()),
    )
    count = [0] * n
    chosen = []
    for cost, _, _, (i, j) in wanted:
        if not (cost < bar[i] or cost < bar[j]) or (count[i] >= EXPAND_PER_VIEW and count[j] >= EXPAND_PER_VIEW):
            continue
        count[i] += 1
        count[j] += 1
        chosen.append((i, j))
    return sorted(chosen)


def expand_graph(
    feats: Sequence[Features],
    graph: ViewGraph,
    keys: Sequence[str],
    match: Callable[[int, int], PairMatch],
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[ViewGraph, dict[Pair, ViewStep]]:
    """Match the pairs geometry predicts to be gentle (module doc, step 3) and measure every step.

    Args:
        feats: features per view (for the photo sizes).
        graph: the matched candidate pairs.
        keys: content key per view (sha256): each pair is matched from the smaller key to the larger.
        match: ``match(i, j) -> PairMatch`` (``H_j_from_i``), e.g. the project's cached matcher.
        progress: ``progress("more pairs", done, total)`` after each match.

    Returns:
        ``(graph with the new pairs, steps of every overlapping matched pair)``.
    """
    pairs = dict(graph.pairs)
    scores = graph.scores.copy()
    steps = pair_steps(feats, graph)
    for _ in range(EXPAND_ROUNDS):
        todo = _predicted_pairs(feats, ViewGraph(graph.n, pairs, scores), steps, keys)
        if not todo:
            break
        for k, (i, j) in enumerate(todo):
            pm = flip(match(j, i)) if keys[j] < keys[i] else match(i, j)
            pairs[(i, j)] = pm
            scores[i, j] = scores[j, i] = overlap_score(pm, feats[i].size, feats[j].size)
            if pm.H_b_from_a is not None:
                step = view_step(pm.H_b_from_a, feats[i].size, feats[j].size)
                if step is not None:
                    steps[(i, j)] = step
            if progress is not None:
                progress("more pairs", k + 1, len(todo))
    return ViewGraph(graph.n, pairs, scores), steps


def order_from_steps(n: int, steps: Mapping[Pair, float], keys: Sequence[str], names_rank: Sequence[int]) -> list[int]:
    """Open path through all ``n`` views with the least total viewpoint step.

    Args:
        n: number of views.
        steps: ``(i, j) -> step cost`` (>= 0) of the pairs that overlap; other pairs may
            follow each other only as a last resort.
        keys: content-based key per view (e.g. sha256) that fixes ties independently of listing order.
        names_rank: rank of each view in natural file-name order (chooses the direction).

    Returns:
        view indices in pseudo-video order.
    """
    if n <= 2:
        path = list(range(n))
    else:
        perm = sorted(range(n), key=lambda i: keys[i])  # canonical, content-based indexing
        where = {v: k for k, v in enumerate(perm)}
        edges = {(min(where[i], where[j]), max(where[i], where[j])): float(c) for (i, j), c in steps.items()}
        path = [perm[k] for k in least_cost_path(n, edges)]
    ranks = np.asarray([names_rank[i] for i in path], np.float64)
    if n > 1 and np.corrcoef(np.arange(n), ranks)[0, 1] < 0:
        path = path[::-1]
    return path


def auto_order(project: Project, progress: Callable[[str, int, int], None] | None = None) -> Ordering:
    """Order views into the pseudo-video with the gentlest steps (module doc).

    Features (``cache/features``) and pair matches (``cache/pairs``) are cached, so a
    following ``multiview align`` reuses them. The pair table (with each pair's
    viewpoint step) and the step of each neighbouring pair are stored in the
    project's ``"ordering"`` section (pairs matched because of a prediction are
    marked ``"predicted"``).

    Args:
        project: the project (at least two views).
        progress: ``progress(stage, done, total)``, stage ``"features"``, ``"pairs"`` or ``"more pairs"``.

    Returns:
        an :class:`~multiview.project.Ordering` with mode ``"auto"`` and the overlap score
        of each neighbouring pair (shared area times match confidence, 0..1).

    Raises:
        AlignmentError: the project has fewer than two views.
    """
    from ..loading import natural_key
    from ..project import Ordering
    from .pipeline import cached_matcher, graph_summary, project_features, project_graph

    views = project.views
    if len(views) < 2:
        raise AlignmentError("ordering needs at least two views")
    keys = [v.sha256 for v in views]
    feats = project_features(project, progress)
    first = project_graph(project, feats, progress=progress)
    graph, steps = expand_graph(feats, first, keys, cached_matcher(project, feats), progress)
    names = sorted(range(len(views)), key=lambda i: natural_key(views[i].id))
    rank = [0] * len(views)
    for r, i in enumerate(names):
        rank[i] = r
    path = order_from_steps(len(views), {p: s.cost for p, s in steps.items()}, keys, rank)
    ids = tuple(views[i].id for i in path)
    nscores = tuple(round(float(graph.scores[a, b]), 4) for a, b in itertools.pairwise(path))
    path_steps = [steps.get((min(a, b), max(a, b))) for a, b in itertools.pairwise(path)]
    weak = [f"{ids[k]}-{ids[k + 1]}" for k, s in enumerate(path_steps) if s is None]
    if weak:
        log.warning("no overlap found between neighbours %s; those views may not register", ", ".join(weak))
    table = graph_summary([v.id for v in views], graph)
    index = {v.id: k for k, v in enumerate(views)}
    for row in table:
        i, j = index[row["a"]], index[row["b"]]
        pair = (min(i, j), max(i, j))
        if pair in steps:
            row["step"] = round(steps[pair].cost, 4)
        if pair not in first.pairs:
            row["predicted"] = True  # matched because chained homographies predicted a gentle step
    project.set_section(
        "ordering",
        {
            "mode": "auto",
            "objective": "least total viewpoint step (multiview.alignment.steps)",
            "neighbour_steps": [None if s is None else round(s.cost, 4) for s in path_steps],
            "pairs": table,
        },
    )
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
