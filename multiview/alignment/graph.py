"""The view graph: cheap global similarity, candidate pairs, pairwise matches, spanning tree.

Full matching of every pair grows with the square of the number of photos. A
cheap similarity for every pair (ratio-test matches among each view's few hundred
strongest keypoints, all pairs in one chunked matrix product) selects the
candidate pairs; only each view's most similar views are matched fully.

Convention:
    Views are indexed ``0..n-1``; a pair ``(i, j)`` always has ``i < j`` and its
    :class:`~multiview.alignment.matching.PairMatch` holds ``H_j_from_i`` in original pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..geometry import apply_h, corners, polygon_area
from .features import Features
from .matching import PairMatch, match_features

log = logging.getLogger(__name__)

#: Every pair is matched fully up to this many views.
ALL_PAIRS_UP_TO = 12
#: Otherwise each view is matched with this many most similar views.
NEIGHBOURS = 5


def global_similarity(
    feats: Sequence[Features], per_view: int = 300, ratio: float = 0.8, chunk: int = 1024
) -> np.ndarray:
    """Cheap similarity of every pair of views: ratio-test matches among their strongest keypoints.

    Each view contributes its ``per_view`` strongest descriptors; one matrix product
    (in row chunks) gives, for every descriptor and every other view, the nearest and
    second-nearest descriptor of that view, hence Lowe's ratio test for all pairs at
    once. No geometry is checked here: the candidate pairs are verified by full matching.

    Args:
        feats: features per view (rows sorted strongest first).

    Returns:
        (n, n) float64 symmetric, 0..1: the fraction of descriptors passing the ratio
        test, averaged over both directions; 1 on the diagonal.
    """
    n = len(feats)
    k = int(min([per_view] + [len(f) for f in feats]))
    if n < 2 or k < 2:
        return np.eye(n)
    D = np.concatenate([f.desc[:k] for f in feats]).astype(np.float32)  # (n*k, 128), unit rows
    counts = np.zeros((n, n), np.float64)
    owner = np.repeat(np.arange(n), k)
    for s in range(0, len(D), chunk):
        q = D[s : s + chunk]
        # Squared distance of unit vectors: 2 - 2 cos.
        d2 = np.maximum(2.0 - 2.0 * (q @ D.T), 0.0).reshape(len(q), n, k)
        two = np.partition(d2, 1, axis=2)[:, :, :2]
        ok = two[:, :, 0] < (ratio * ratio) * two[:, :, 1]
        np.add.at(counts, owner[s : s + len(q)], ok.astype(np.float64))
    sim = (counts + counts.T) / (2.0 * k)
    np.fill_diagonal(sim, 1.0)
    return sim


def candidate_pairs(
    sim: np.ndarray, neighbours: int = NEIGHBOURS, all_up_to: int = ALL_PAIRS_UP_TO
) -> list[tuple[int, int]]:
    """Pairs worth matching fully: all of them for small sets, else each view's top ``neighbours``.

    Args:
        sim: (n, n) global similarity.

    Returns:
        sorted ``(i, j)`` with ``i < j``.
    """
    n = len(sim)
    if n <= all_up_to:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    pairs = set()
    s = sim.copy()
    np.fill_diagonal(s, -np.inf)
    for i in range(n):
        # Stable: ties broken by index, which callers make content-based.
        order = np.lexsort((np.arange(n), -s[i]))
        for j in order[:neighbours]:
            pairs.add((min(i, int(j)), max(i, int(j))))
    return sorted(pairs)


def _iou_in(H_b_from_a: np.ndarray, size_a: tuple[int, int], size_b: tuple[int, int]) -> float:
    """IoU of ``b``'s outline and ``a``'s outline mapped into ``b`` (areas in ``b`` pixels)."""
    import cv2

    qa = apply_h(H_b_from_a, corners(size_a)).astype(np.float32)
    if not np.all(np.isfinite(qa)):
        return 0.0
    qb = corners(size_b).astype(np.float32)
    try:
        inter, _ = cv2.intersectConvexConvex(qa, qb)
    except cv2.error:
        return 0.0
    union = polygon_area(qa) + polygon_area(qb) - float(inter)
    return float(np.clip(inter / union, 0.0, 1.0)) if union > 0 else 0.0


def overlap_score(pm: PairMatch, size_a: tuple[int, int], size_b: tuple[int, int]) -> float:
    """Similarity 0..1 of two views from their match: footprint IoU times match confidence.

    The IoU of the two photo outlines is high only when both show the same part of
    the wall at a similar scale and angle (a close-up inside a wide view scores low);
    it is averaged over both image frames, so the score is symmetric. The confidence
    grows linearly to 1 at 100 inliers.
    """
    from ..geometry import invert

    H = pm.H_b_from_a
    if H is None:
        return 0.0
    iou = 0.5 * (_iou_in(H, size_a, size_b) + _iou_in(invert(H), size_b, size_a))
    return float(iou * min(1.0, pm.inliers / 100.0))


@dataclass(frozen=True)
class ViewGraph:
    """Pairwise matches of a set of views.

    Attributes:
        n: number of views.
        pairs: ``(i, j) -> PairMatch`` (``H_j_from_i``) for every matched candidate pair.
        scores: (n, n) symmetric similarity 0..1 (0 for pairs not matched or not matching).
    """

    n: int
    pairs: dict[tuple[int, int], PairMatch]
    scores: np.ndarray

    def H(self, dst: int, src: int) -> np.ndarray | None:
        """``H_dst_from_src`` if the pair matched, else None."""
        from ..geometry import invert

        if src < dst:
            pm = self.pairs.get((src, dst))
            return pm.H_b_from_a if pm is not None and pm.ok else None
        pm = self.pairs.get((dst, src))
        return invert(pm.H_b_from_a) if pm is not None and pm.H_b_from_a is not None else None

    def inliers(self, i: int, j: int) -> int:
        pm = self.pairs.get((min(i, j), max(i, j)))
        return pm.inliers if pm is not None and pm.ok else 0


def flip(pm: PairMatch) -> PairMatch:
    """The same match seen from the other image (``H_a_from_b``)."""
    from ..geometry import invert

    H = invert(pm.H_b_from_a) if pm.H_b_from_a is not None else None
    err = None
    if H is not None and len(pm.pts_b):
        err = float(np.median(np.linalg.norm(apply_h(H, pm.pts_b) - pm.pts_a, axis=1)))
    return PairMatch(H, pm.inliers, pm.matches, err, pm.pts_b, pm.pts_a, pm.reason)


def build_graph(
    feats: Sequence[Features],
    pairs: Sequence[tuple[int, int]],
    *,
    match: Callable[[int, int], PairMatch] | None = None,
    progress: Callable[[int, int], None] | None = None,
    keys: Sequence[str] | None = None,
) -> ViewGraph:
    """Match the candidate pairs and score them.

    Args:
        feats: features per view.
        pairs: ``(i, j)`` with ``i < j``.
        match: ``match(i, j) -> PairMatch`` (e.g. a cached matcher); default :func:`match_features`.
        progress: ``progress(done, total)`` after each pair.
        keys: content keys (e.g. sha256): each pair is matched from the smaller key to the
            larger one, so results do not depend on the order views are listed in.
    """
    n = len(feats)
    out: dict[tuple[int, int], PairMatch] = {}
    scores = np.zeros((n, n), np.float64)
    run = match if match is not None else (lambda a, b: match_features(feats[a], feats[b]))
    for k, (i, j) in enumerate(pairs):
        if keys is not None and keys[j] < keys[i]:
            pm = flip(run(j, i))
        else:
            pm = run(i, j)
        out[(i, j)] = pm
        scores[i, j] = scores[j, i] = overlap_score(pm, feats[i].size, feats[j].size)
        if progress is not None:
            progress(k + 1, len(pairs))
    return ViewGraph(n, out, scores)


def spanning_tree(graph: ViewGraph, root: int, tiebreak: Sequence[str] | None = None) -> list[int]:
    """Maximum spanning tree by inlier count, grown from ``root`` (Prim).

    The path from any view to the root maximises its weakest link, so chained
    homographies go through the best-matching neighbours.

    Returns:
        ``parent[i]`` for every view: the root's parent is itself, ``-1`` for views
        that connect to no other (unreachable).
    """
    n = graph.n
    key = list(tiebreak) if tiebreak is not None else [f"{i:08d}" for i in range(n)]
    parent = [-1] * n
    parent[root] = root
    best = np.full(n, -1.0)
    best_par = [-1] * n
    in_tree = np.zeros(n, bool)
    cur = root
    in_tree[root] = True
    for _ in range(n - 1):
        for j in range(n):
            if not in_tree[j]:
                w = graph.inliers(cur, j)
                if w > 0 and (w > best[j] or (w == best[j] and key[cur] < key[best_par[j]])):
                    best[j], best_par[j] = w, cur
        cand = [j for j in range(n) if not in_tree[j] and best[j] > 0]
        if not cand:
            break
        nxt = max(cand, key=lambda j: (best[j], [-ord(c) for c in key[j]]))
        parent[nxt] = best_par[nxt]
        in_tree[nxt] = True
        cur = nxt
    return parent
