"""Registration of every view to the reference plane.

Pipeline (weight-free: OpenCV SIFT + MAGSAC, OpenCV ECC):

1. pairwise matches on the view graph (:mod:`.graph`),
2. a maximum spanning tree rooted at the reference: each view's first estimate
   is the chain of pairwise homographies along its tree path (neighbouring views
   match far better than extreme ones),
3. re-matching on the pre-warped view against the reference, falling back to the
   tree parent when the view barely overlaps the reference (:mod:`.refine`),
4. photometric refinement (ECC), kept only if it improves the fit.

A view that cannot be registered is reported with the reason; the others are not affected.

Convention:
    ``H_ref_from_view`` maps original view pixels to original reference pixels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ValidationError
from ..geometry import apply_h, compose, corners, invert, polygon_area
from ..project.model import Registration
from ..raster import scale_between
from .deform import ModelChoice, choose_model, propagate, ref_from_view
from .features import Features
from .graph import ViewGraph, build_graph, candidate_pairs, global_similarity, spanning_tree
from .matching import MIN_INLIERS, PairMatch, plausible
from .refine import Refined, ecc_refine, rewarp_matches, rewarp_refine, warp_scale

log = logging.getLogger(__name__)

#: Values of :attr:`AlignOptions.model`.
MODELS = ("auto", "homography")


@dataclass(frozen=True)
class AlignOptions:
    """Settings of :func:`register_views`.

    Attributes:
        refine: re-match on the pre-warped view (strongly recommended).
        ecc: photometric refinement after re-matching, kept only when it improves the fit.
        min_inliers: fewest inliers for a pair or a registration.
        neighbours: candidate pairs per view beyond ``all_pairs_up_to`` views.
        all_pairs_up_to: match every pair when there are at most this many views.
        model: ``"auto"``: per view, the homography or, where it does not explain the held-out
            matches, homography + thin-plate spline (:mod:`.deform`); ``"homography"``: the
            homography only (its held-out error is still measured).
    """

    refine: bool = True
    ecc: bool = False
    min_inliers: int = MIN_INLIERS
    neighbours: int = 5
    all_pairs_up_to: int = 12
    model: str = "auto"

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValidationError(f"geometric model '{self.model}' is unknown; use one of {', '.join(MODELS)}")


@dataclass(frozen=True)
class AlignmentResult:
    """What :func:`register_views` found.

    Attributes:
        ids: view ids, index order of the graph.
        registrations: view id -> :class:`Registration`.
        graph: the pairwise matches.
        parent: spanning-tree parent index per view (root: itself; -1: unreachable).
        seconds: view id -> time spent registering it (excluding shared feature/pair work).
    """

    ids: tuple[str, ...]
    registrations: dict[str, Registration]
    graph: ViewGraph
    parent: list[int]
    seconds: dict[str, float] = field(default_factory=dict)


def overlap_with_ref(H_ref_from_view: np.ndarray, view_size: tuple[int, int], ref_size: tuple[int, int]) -> float:
    """Fraction 0..1 of the view's footprint (in the reference plane) inside the reference photo."""
    import cv2

    q = apply_h(H_ref_from_view, corners(view_size)).astype(np.float32)
    a = polygon_area(q)
    if not np.all(np.isfinite(q)) or a <= 0:
        return 0.0
    try:
        inter, _ = cv2.intersectConvexConvex(q, corners(ref_size).astype(np.float32))
    except cv2.error:
        return 0.0
    return float(np.clip(inter / a, 0.0, 1.0))


def make_graph(
    feats: Sequence[Features],
    options: AlignOptions,
    tiebreak: Sequence[str] | None = None,
    match: Callable[[int, int], PairMatch] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ViewGraph:
    """Global similarity -> candidate pairs -> pairwise matches."""
    n = len(feats)
    if n <= options.all_pairs_up_to:
        pairs = candidate_pairs(np.zeros((n, n)), options.neighbours, options.all_pairs_up_to)
    else:
        sim = global_similarity(feats)
        if tiebreak is not None:
            # Content-based tie-break: permute to a canonical order, pick, permute back.
            perm = np.argsort(np.array(tiebreak))
            inv = np.empty_like(perm)
            inv[perm] = np.arange(n)
            p = candidate_pairs(sim[np.ix_(perm, perm)], options.neighbours, options.all_pairs_up_to)
            pairs = sorted({(min(perm[a], perm[b]), max(perm[a], perm[b])) for a, b in p})
            pairs = [(int(a), int(b)) for a, b in pairs]
        else:
            pairs = candidate_pairs(sim, options.neighbours, options.all_pairs_up_to)
    return build_graph(feats, pairs, match=match, progress=progress, keys=tiebreak)


def register_views(
    ids: Sequence[str],
    feats: Sequence[Features],
    load_image: Callable[[int], np.ndarray],
    ref: int,
    *,
    graph: ViewGraph | None = None,
    options: AlignOptions = AlignOptions(),
    tiebreak: Sequence[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> AlignmentResult:
    """Register every view to view ``ref``.

    Args:
        ids: view ids.
        feats: features per view (original pixels; ``feats[i].size`` is the original size).
        load_image: ``load_image(i) -> (h, w, 3) uint8 RGB`` copy of view ``i`` at any
            resolution (typically the size features were detected at).
        ref: index of the reference view.
        graph: pairwise matches if already computed (e.g. by ordering).
        tiebreak: content-based keys (e.g. sha256) for deterministic tie-breaking.
        progress: ``progress(done, total, view_id)`` after each view.
    """
    n = len(ids)
    if graph is None:
        graph = make_graph(feats, options, tiebreak)
    parent = spanning_tree(graph, ref, tiebreak)
    ref_size = feats[ref].size
    ref_img = load_image(ref)
    ref_F = (ref_img.shape[1], ref_img.shape[0])
    H_est: dict[int, np.ndarray] = {ref: np.eye(3)}
    regs: dict[str, Registration] = {
        ids[ref]: Registration(ids[ref], "reference", np.eye(3), len(feats[ref]), 0.0, 1.0, "reference view"),
    }
    seconds: dict[str, float] = {ids[ref]: 0.0}
    # Breadth-first over the tree so each parent is final before its children.
    depth = {ref: 0}
    order = [ref]
    for cur in order:
        kids = sorted((j for j in range(n) if parent[j] == cur and j != cur), key=lambda j: -graph.inliers(cur, j))
        for j in kids:
            depth[j] = depth[cur] + 1
            order.append(j)
    done = 1
    for j in order[1:]:
        t0 = time.perf_counter()
        # Chain through the tree parent, or, if it failed, the best-matching registered neighbour.
        links = [i for i in range(n) if i in H_est and graph.inliers(i, j) > 0]
        if not links:
            reg, H = (
                Registration(
                    ids[j],
                    "unregistered",
                    None,
                    0,
                    None,
                    None,
                    "",
                    f"it overlaps only views that could not be registered (e.g. {ids[parent[j]]}); "
                    "add photos that bridge the gap or choose a reference nearer to it",
                ),
                None,
            )
        else:
            p = parent[j] if parent[j] in H_est else max(links, key=lambda i: (graph.inliers(i, j), -i))
            H_pj = graph.H(p, j)
            if H_pj is None:  # pragma: no cover - links only holds views matched with j
                raise ValidationError(f"views {ids[p]} and {ids[j]} have no homography to chain")
            H0 = compose(H_est[p], H_pj)
            reg, H = _register_one(
                j, p, H0, ids, feats, load_image, ref, ref_img, ref_F, ref_size, graph, H_est, options, regs
            )
        if H is not None:
            H_est[j] = H
        regs[ids[j]] = reg
        seconds[ids[j]] = time.perf_counter() - t0
        done += 1
        if progress is not None:
            progress(done, n, ids[j])
    for j in range(n):
        if ids[j] in regs:
            continue
        best = max(
            (graph.pairs.get((min(i, j), max(i, j))) for i in range(n) if i != j),
            key=lambda pm: -1 if pm is None else pm.inliers,
            default=None,
        )
        detail = f"; best pair: {best.reason}" if best is not None and best.reason else ""
        regs[ids[j]] = Registration(
            ids[j],
            "unregistered",
            None,
            0,
            None,
            None,
            "",
            f"no overlap found with any other view (need {options.min_inliers} consistent matches){detail}; "
            "it may show another wall or be too blurred",
        )
        done += 1
        if progress is not None:
            progress(done, n, ids[j])
    return AlignmentResult(tuple(ids), regs, graph, parent, seconds)


def _register_one(
    j: int,
    p: int,
    H0: np.ndarray,
    ids: Sequence[str],
    feats: Sequence[Features],
    load_image: Callable[[int], np.ndarray],
    ref: int,
    ref_img: np.ndarray,
    ref_F: tuple[int, int],
    ref_size: tuple[int, int],
    graph: ViewGraph,
    H_est: dict[int, np.ndarray],
    options: AlignOptions,
    regs: dict[str, Registration],
) -> tuple[Registration, np.ndarray | None]:
    """Refine the chained estimate ``H0`` of view ``j`` (tree parent ``p``), then measure and choose its model."""
    size = feats[j].size
    via = "" if p == ref else f", chained via {ids[p]}"
    method = f"sift+magsac{via}"
    pm = graph.pairs[(min(p, j), max(p, j))]
    inliers, err = pm.inliers, pm.reproj_error
    H = H0
    img = None
    # Matches for the held-out error: (pts_view, pts_other) and the view they were matched against.
    putative: tuple[np.ndarray, np.ndarray] | None = None
    against = p
    if options.refine:
        img = load_image(j)
        img_F = (img.shape[1], img.shape[0])
        # Warp the image that shrinks (or keeps its size): an enlarged warp blurs the detail
        # the re-matching relies on. A view that is a close-up of the reference is warped;
        # for a view that sees the plane at a lower resolution, the reference is warped instead.
        H0_F = compose(scale_between(ref_size, ref_F), H0, scale_between(img_F, size))
        reverse = warp_scale(H0_F, img_F) > 1.2
        if reverse:
            r = rewarp_refine(ref_img, ref_size, feats[j], img_F, invert(H0), min_inliers=options.min_inliers)
            if r is not None:
                # r maps reference -> view; its point roles are swapped.
                H_vr = r.H_ref_from_view
                put = None if r.putative is None else (r.putative[1], r.putative[0])
                r = Refined(invert(H_vr), r.inliers, 0.0, r.steps, r.pts_ref, r.pts_view, put)
                e = np.linalg.norm(apply_h(r.H_ref_from_view, r.pts_view) - r.pts_ref, axis=1)
                r = Refined(r.H_ref_from_view, r.inliers, float(np.median(e)), r.steps, r.pts_view, r.pts_ref, put)
        else:
            r = rewarp_refine(img, size, feats[ref], ref_F, H0, min_inliers=options.min_inliers)
        if r is not None:
            H, inliers, err = r.H_ref_from_view, r.inliers, r.reproj_error
            method += ", re-matched on the warped reference" if reverse else ", re-matched on the warped view"
            pts = (r.pts_view, r.pts_ref)
            putative, against = r.putative, ref
        elif p != ref and (H_jp := graph.H(p, j)) is not None:
            # Too little overlap with the reference: refine against the tree parent instead.
            pimg = load_image(p)
            rp = rewarp_refine(
                img, size, feats[p], (pimg.shape[1], pimg.shape[0]), H_jp, min_inliers=options.min_inliers
            )
            if rp is not None:
                H = compose(H_est[p], rp.H_ref_from_view)
                inliers, err = rp.inliers, None
                method += f", re-matched on the warped view against {ids[p]}"
                putative = rp.putative
            pts = None
        else:
            pts = None
        if options.ecc and pts is not None:
            out = ecc_refine(img, size, ref_img, ref_size, H)
            if out is not None:
                H_e, ncc0, ncc1 = out
                e_old = float(np.median(np.linalg.norm(apply_h(H, pts[0]) - pts[1], axis=1)))
                e_new = float(np.median(np.linalg.norm(apply_h(H_e, pts[0]) - pts[1], axis=1)))
                # Keep ECC only if the photometric fit improves and the geometric fit stays as good.
                if ncc1 > ncc0 + 1e-4 and e_new <= max(e_old * 1.25, e_old + 0.15):
                    H, err = H_e, e_new
                    method += " + ECC"
    if putative is None and pm.ok and len(pm.pts_a):
        # No re-matching: the pair's own inliers (fewer, and only where one homography fits them).
        putative = (pm.pts_b, pm.pts_a) if p < j else (pm.pts_a, pm.pts_b)
        putative = (np.asarray(putative[0], np.float64), np.asarray(putative[1], np.float64))
        against = p
    why = plausible(H, size, ref_size)
    if why is not None:
        return Registration(
            ids[j], "unregistered", None, inliers, None, None, method, f"the estimated mapping is implausible ({why})"
        ), None
    ov = overlap_with_ref(H, size, ref_size)
    err_f = None if err is None else round(float(err), 3)
    reg = Registration(ids[j], "registered", H, int(inliers), err_f, round(ov, 4), method)
    if putative is None or len(putative[0]) < 8:
        return replace(reg, note="held-out error not measured: too few matches"), H
    choice = _choose_model(j, against, H, putative, img, ids, feats, ref, ref_F, ref_size, regs, options)
    if choice.deformation is None and choice.heldout.median > UNEXPLAINED_PX * ref_size[0] / ref_F[0]:
        tried = ", ".join(f"{k} {v[0]:.1f} px" for k, v in choice.heldout.models.items())
        return Registration(
            ids[j],
            "unregistered",
            None,
            inliers,
            None,
            None,
            method,
            f"no geometric model explains its matches (held-out median error: {tried}; limit "
            f"{UNEXPLAINED_PX:g} px); it may show another surface, or too little of the wall",
            heldout=choice.heldout,
        ), None
    if choice.deformation is not None:
        method += ", + thin-plate spline"
    reg = replace(
        reg,
        method=method,
        H_ref_from_view=choice.H_ref_from_view,
        deformation=choice.deformation,
        heldout=choice.heldout,
        note=choice.note,
    )
    return reg, choice.H_ref_from_view


#: A view whose best model leaves a held-out median error above this (matching pixels) stays unregistered.
UNEXPLAINED_PX = 4.0
#: Re-matching rounds guided by the spline, while they add matches.
SPLINE_ROUNDS = 3


def _choose_model(
    j: int,
    against: int,
    H: np.ndarray,
    putative: tuple[np.ndarray, np.ndarray],
    img: np.ndarray | None,
    ids: Sequence[str],
    feats: Sequence[Features],
    ref: int,
    ref_F: tuple[int, int],
    ref_size: tuple[int, int],
    regs: dict[str, Registration],
    options: AlignOptions,
) -> ModelChoice:
    """Held-out error of view ``j``'s homography and, where it does not explain the wall, a spline.

    ``putative`` are matches of view ``j`` with view ``against`` (the reference, or the tree
    parent for a view that barely overlaps the reference: its points are then mapped to the
    reference through the parent's model and the parent's own error is added).
    """
    size = feats[j].size
    px = ref_size[0] / ref_F[0]
    pv, po = putative
    parent = regs.get(ids[against]) if against != ref else None
    pr = po if parent is None else ref_from_view(parent, po)
    ok = np.all(np.isfinite(pr), axis=1)
    pv, pr = np.asarray(pv, np.float64)[ok], pr[ok]

    def sees_ref(points: np.ndarray) -> np.ndarray:
        q = apply_h(H, points)
        return (q[:, 0] >= -0.5) & (q[:, 0] <= ref_size[0] - 0.5) & (q[:, 1] >= -0.5) & (q[:, 1] <= ref_size[1] - 0.5)

    allow = options.model == "auto"
    ch = choose_model(pv, pr, H, size, px=px, allow_spline=allow, sees_ref=sees_ref)
    if parent is None and img is not None:
        for _ in range(SPLINE_ROUNDS):
            if ch.deformation is None:
                break
            m = rewarp_matches(img, size, feats[ref], ref_F, ch.H_ref_from_view, _view_from_ref(ch), radius=25.0)
            if m is None:
                break
            nxt = choose_model(m[0], m[1], H, size, px=px, allow_spline=allow, sees_ref=sees_ref)
            grew = nxt.heldout.n > 1.05 * ch.heldout.n or nxt.heldout.coverage > ch.heldout.coverage + 0.02
            if nxt.deformation is not None or nxt.heldout.p90 <= ch.heldout.p90:
                ch = nxt
            if not grew:
                break
    if parent is not None and parent.heldout is not None:
        ch = replace(ch, heldout=propagate(ch.heldout, parent.heldout, ids[against]))
    return ch


def _view_from_ref(ch: ModelChoice) -> Callable[[np.ndarray], np.ndarray]:
    Hinv = invert(ch.H_ref_from_view)
    d = ch.deformation
    assert d is not None

    def f(q: np.ndarray) -> np.ndarray:
        return apply_h(Hinv, d.inverse(q))

    return f
