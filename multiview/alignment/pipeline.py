"""Alignment of a project: cached features, cached pair matches, registration, storage.

Features are computed once per view and cached in ``cache/features/``; pairwise
matches in ``cache/pairs/``; both caches are keyed by the photos' content hashes
and the settings, so ``multiview init --order auto`` followed by ``multiview align``
matches each pair only once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from ..loading import read_photo
from .features import FEATURE_MAX_SIDE, MAX_FEATURES, Features, view_features
from .graph import ViewGraph
from .matching import PAIR_FEATURES, PairMatch, match_features
from .register import AlignmentResult, AlignOptions, make_graph, register_views

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

log = logging.getLogger(__name__)

_PAIR_VERSION = 1

#: ``progress(stage, done, total)``, stage one of ``"features"``, ``"pairs"``, ``"register"``.
Progress = Callable[[str, int, int], None]


def project_features(project: Project, progress: Progress | None = None) -> list[Features]:
    """Features of every view in pseudo-video order (cached)."""
    out = []
    views = project.views
    for i, v in enumerate(views):
        out.append(view_features(project, v))
        if progress is not None:
            progress("features", i + 1, len(views))
    return out


def _pair_key(sha_a: str, sha_b: str) -> str:
    tag = f"{sha_a}:{sha_b}:{FEATURE_MAX_SIDE}:{MAX_FEATURES}:{PAIR_FEATURES}:{_PAIR_VERSION}"
    return hashlib.sha1(tag.encode()).hexdigest()[:24] + ".npz"


def cached_matcher(project: Project, feats: list[Features]) -> Callable[[int, int], PairMatch]:
    """``match(i, j) -> PairMatch`` (``H_j_from_i``) that reads and fills ``cache/pairs/``."""
    views = project.views
    d = project.cache_dir("pairs")

    def match(i: int, j: int) -> PairMatch:
        path = d / _pair_key(views[i].sha256, views[j].sha256)
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    meta = json.loads(str(z["meta"]))
                    H = z["H"] if meta["ok"] else None
                    return PairMatch(
                        H,
                        int(meta["inliers"]),
                        int(meta["matches"]),
                        meta["reproj_error"],
                        z["pts_a"],
                        z["pts_b"],
                        meta["reason"],
                    )
            except (OSError, ValueError, KeyError):
                log.warning("pair cache %s is damaged; matching again", path.name)
        pm = match_features(feats[i], feats[j])
        meta = {
            "ok": pm.ok,
            "inliers": pm.inliers,
            "matches": pm.matches,
            "reproj_error": pm.reproj_error,
            "reason": pm.reason,
        }
        atomic.write_npz(
            path,
            H=pm.H_b_from_a if pm.H_b_from_a is not None else np.eye(3),
            pts_a=pm.pts_a,
            pts_b=pm.pts_b,
            meta=np.array(json.dumps(meta)),
        )
        return pm

    return match


def project_graph(
    project: Project, feats: list[Features], options: AlignOptions = AlignOptions(), progress: Progress | None = None
) -> ViewGraph:
    """Pairwise matches of the project's views (pseudo-video order indices), cached."""
    keys = [v.sha256 for v in project.views]
    cb = None if progress is None else (lambda k, n: progress("pairs", k, n))
    return make_graph(feats, options, keys, cached_matcher(project, feats), cb)


def graph_summary(ids: list[str] | tuple[str, ...], graph: ViewGraph) -> list[dict]:
    """JSON-safe list of the matched pairs: views, inliers, putative matches, score, reason."""
    out = []
    for (i, j), pm in sorted(graph.pairs.items()):
        out.append(
            {
                "a": ids[i],
                "b": ids[j],
                "inliers": pm.inliers,
                "matches": pm.matches,
                "score": round(float(graph.scores[i, j]), 4),
                "reason": pm.reason,
            }
        )
    return out


def align_project(
    project: Project,
    options: AlignOptions = AlignOptions(),
    progress: Progress | None = None,
    *,
    occluders: bool = True,
) -> AlignmentResult:
    """Register every view of ``project`` to its reference view and store the result.

    Stores one :class:`~multiview.project.Registration` per view (unregistered views
    carry the reason) and the ``"alignment"`` section: settings, spanning tree, pair table,
    time per view. Then, with ``occluders``, the occlusion layer of every registered view
    (:func:`multiview.occlusion.compute_occlusion`, progress stage ``"occlusion"``); without,
    stored layers are removed (they would describe another geometry).

    Returns:
        the :class:`~multiview.alignment.register.AlignmentResult`.
    """
    views = project.views
    ids = [v.id for v in views]
    feats = project_features(project, progress)
    graph = project_graph(project, feats, options, progress)
    ref = ids.index(project.reference.id)

    def load(i: int) -> np.ndarray:
        return read_photo(views[i].path, max_side=FEATURE_MAX_SIDE)

    cb = None if progress is None else (lambda k, n, _vid: progress("register", k, n))
    res = register_views(
        ids, feats, load, ref, graph=graph, options=options, tiebreak=[v.sha256 for v in views], progress=cb
    )
    project.set_registrations(res.registrations)
    project.set_section(
        "alignment",
        {
            "reference": ids[ref],
            "options": asdict(options),
            "feature_max_side": FEATURE_MAX_SIDE,
            "max_features": MAX_FEATURES,
            "features_cache": "cache/features",
            "pairs_cache": "cache/pairs",
            "tree": {ids[i]: (ids[p] if p >= 0 else None) for i, p in enumerate(res.parent)},
            "pairs": graph_summary(ids, graph),
            "seconds": {k: round(v, 3) for k, v in res.seconds.items()},
        },
    )
    n_ok = sum(r.ok for r in res.registrations.values())
    log.info("registered %d of %d views to %s", n_ok, len(ids), ids[ref])
    from ..occlusion import compute_occlusion, is_fresh

    if occluders:
        occ_cb = None if progress is None else (lambda k, n: progress("occlusion", k, n))
        compute_occlusion(project, progress=occ_cb)
    elif not is_fresh(project):
        project.clear_occlusion()
        project.set_section("occlusion", {})
    return res
