"""The tracker that needs no model weights: masks carried across views through the reference plane.

A fresco is (mostly) a plane, so once every view is registered to the reference
plane (``multiview align``), an object's mask on one view maps to every other view
through the plane (:func:`multiview.plane.warp_between`; for homographies
``H_t_from_s = inv(H_ref_from_t) @ H_ref_from_s``).

Rules:

* Each view takes its mask from the *nearest prompted view* in pseudo-video order
  (ties: the view whose latest prompt is newer wins); on a view, the latest prompt
  governs. So a correction prompt takes over its own view and every view closer
  to it than to any other prompted view.
* Mask prompts are used as they are. Point and box prompts have no model to turn
  them into a mask here: OpenCV GrabCut, seeded by the box and the clicks, makes
  one. This is logged as a warning and flagged in the result's ``meta``
  (``"prompt_mask": "grabcut"``).
* Soft masks are warped with bilinear interpolation; target pixels that fall
  outside the source photo are marked unknown (``valid`` False), never background.
* A view that is not registered gets no result (logged); its previous result, if any,
  is left alone.

Convention:
    Results live in each view's working geometry; the views' maps onto the plane
    (:class:`multiview.plane.ViewMapping`) take and give working-geometry rasters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ALIGN, PROMPT, TrackingError
from ..geometry import apply_h
from ..plane import ViewMapping, mapping_key, mappings, warp_between
from ..raster import resize_prob, scale_between

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project, Prompt, View

log = logging.getLogger(__name__)

#: Longer side of the image GrabCut runs on (it is slow at full resolution).
GRABCUT_MAX_SIDE = 640


def grabcut_mask(image: np.ndarray, prompt: Prompt, view: View, iters: int = 5) -> np.ndarray:
    """Turn a point/box prompt into a soft mask with OpenCV GrabCut (no model involved).

    Args:
        image: (h, w, 3) uint8 RGB working copy of the view.
        prompt: the prompt (original-photo pixels).
        view: its view (for the original size).

    Returns:
        (h, w) uint8 soft mask 0..255 at the image's size.
    """
    import cv2

    h, w = image.shape[:2]
    s = min(1.0, GRABCUT_MAX_SIDE / max(h, w))
    small = (
        cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        if s < 1
        else image
    )
    sh, sw = small.shape[:2]
    S = scale_between((view.width, view.height), (sw, sh))  # original -> GrabCut image
    seed = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    pts = apply_h(S, np.asarray(prompt.points, np.float64).reshape(-1, 2))
    labels = np.asarray(prompt.labels, int)
    pos, neg = pts[labels == 1], pts[labels == 0]
    if prompt.box is not None:
        (x0, y0), (x1, y1) = apply_h(S, np.array(prompt.box, np.float64).reshape(2, 2))
        seed[max(0, int(y0)) : int(np.ceil(y1)) + 1, max(0, int(x0)) : int(np.ceil(x1)) + 1] = cv2.GC_PR_BGD
        # The box centre region is probably the object.
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
        cv2.ellipse(
            seed,
            (round(cx), round(cy)),
            (max(1, round(bw / 4)), max(1, round(bh / 4))),
            0,
            0,
            360,
            int(cv2.GC_PR_FGD),
            -1,
        )
    elif len(pos):
        # Clicks only: the object is assumed to lie within a generous region around them.
        m = 0.2 * max(sw, sh)
        x0, y0 = np.maximum(pos.min(0) - m, 0)
        x1, y1 = np.minimum(pos.max(0) + m, [sw - 1, sh - 1])
        seed[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1] = cv2.GC_PR_BGD
    r = max(2, round(0.012 * float(np.hypot(sw, sh))))
    for x, y in pos:
        cv2.circle(seed, (round(x), round(y)), 3 * r, int(cv2.GC_PR_FGD), -1)
    for x, y in pos:
        cv2.circle(seed, (round(x), round(y)), r, int(cv2.GC_FGD), -1)
    for x, y in neg:
        cv2.circle(seed, (round(x), round(y)), r, int(cv2.GC_BGD), -1)
    if not np.isin(seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
        raise TrackingError(f"prompt {prompt.id} on '{view.id}' has no positive click or box; add one")
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    try:
        cv2.grabCut(bgr, seed, None, bgd, fgd, iters, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]  # rect None: mask mode
    except cv2.error as exc:
        raise TrackingError(f"GrabCut failed on prompt {prompt.id} ('{view.id}'): {exc}; give a mask prompt") from exc
    fg = np.isin(seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    # Slight smoothing so the mask is soft at its border, then back to the image size.
    out = resize_prob(np.asarray(cv2.GaussianBlur(fg, (0, 0), 1.0)), (w, h))
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def governing_views(order: Sequence[str], prompted: dict[str, int]) -> dict[str, str]:
    """For each view, the prompted view its mask comes from.

    Args:
        order: view ids in pseudo-video order.
        prompted: prompted view id -> id of its latest prompt.

    Returns:
        view id -> prompted view id (nearest in order; ties: newer latest prompt wins).
    """
    pos = {v: k for k, v in enumerate(order)}
    srcs = sorted(prompted, key=lambda v: pos[v])
    out = {}
    for v in order:
        out[v] = min(srcs, key=lambda s: (abs(pos[s] - pos[v]), -prompted[s]))
    return out


class HomographyTracker:
    """Maps each object's mask from its nearest prompted view through the homographies."""

    name = "homography"

    def __init__(self, **options: object) -> None:
        if options:
            raise TrackingError(f"the homography tracker takes no options (got {', '.join(options)})")

    def run(
        self, project: Project, *, obj_ids: Sequence[int] | None = None, full: bool = False
    ) -> Iterator[MaskResult]:
        """Yield one :class:`MaskResult` per object and registered view (see module doc).

        Args:
            obj_ids: objects to track (default: every object with a prompt).
            full: recompute every view; otherwise views whose stored result came from the
                same prompt and the same homographies are skipped.

        Raises:
            TrackingError: no registration (``multiview align``), no prompt for an object.
        """

        regs = project.registrations
        if not regs:
            raise TrackingError("the homography tracker needs registered views; register the views first", hint=ALIGN)
        maps = mappings(project)
        ids = obj_ids if obj_ids is not None else sorted({p.obj_id for p in project.prompts})
        order = [v.id for v in project.views]
        for oid in ids:
            prompts = project.prompts_for(obj_id=oid)
            if not prompts:
                raise TrackingError(f"object {oid} has no prompt; mark it on a view first", hint=PROMPT)
            latest: dict[str, Prompt] = {}
            for p in prompts:
                if p.view_id not in latest or p.id > latest[p.view_id].id:
                    latest[p.view_id] = p
            usable = {v: p.id for v, p in latest.items() if v in maps}
            if not usable:
                raise TrackingError(
                    f"object {oid}: every prompted view is unregistered; mark it on a registered view", hint=PROMPT
                )
            for v, p in latest.items():
                if v not in usable:
                    log.warning(
                        "object %d: prompt %d is on unregistered view %s; it only governs that view", oid, p.id, v
                    )
            gov = governing_views(order, usable)
            sources: dict[str, tuple[np.ndarray, str]] = {}
            for vid in order:
                if vid in latest and vid not in usable:
                    src = vid  # unregistered prompted view: its own prompt only
                else:
                    src = gov[vid]
                reg_t = regs.get(vid)
                if src != vid and vid not in maps:
                    log.warning(
                        "object %d: view %s is not registered (%s); no mask for it",
                        oid,
                        vid,
                        "not aligned" if reg_t is None else reg_t.reason,
                    )
                    continue
                prompt = latest[src]
                fp = mapping_key(maps[src], maps[vid]) if src != vid else "self"
                if not full:
                    old = project.read_result(oid, vid)
                    if (
                        old is not None
                        and old.tracker == self.name
                        and old.meta.get("prompt_id") == prompt.id
                        and old.meta.get("registration") == fp
                    ):
                        continue
                if src not in sources:
                    sources[src] = self._source_mask(project, prompt)
                prob_s, how = sources[src]
                yield self._map(oid, prompt, src, vid, prob_s, how, fp, maps)

    def _source_mask(self, project: Project, prompt: Prompt) -> tuple[np.ndarray, str]:
        """(h, w) uint8 soft mask of a prompt at its view's working size, and how it was made."""
        view = project.view(prompt.view_id)
        m = project.prompt_mask(prompt)
        if m is not None:
            prob = resize_prob(m.astype(np.float32), view.work_size)
            return np.clip(np.rint(prob * 255), 0, 255).astype(np.uint8), "mask"
        log.warning(
            "prompt %d on %s is %s without a mask: the homography tracker has no model, so the mask is made "
            "with OpenCV GrabCut (classical, no model used); check it, or give a mask prompt or use --tracker sam2",
            prompt.id,
            view.id,
            prompt.kind,
        )
        return grabcut_mask(project.working_image(view), prompt, view), "grabcut"

    def _map(
        self,
        oid: int,
        prompt: Prompt,
        src: str,
        vid: str,
        prob_s: np.ndarray,
        how: str,
        fp: str,
        maps: dict[str, ViewMapping],
    ) -> MaskResult:
        from ..project import MaskResult

        meta = {"prompt_id": prompt.id, "prompt_mask": how, "registration": fp}
        if src == vid:
            return MaskResult(oid, vid, prob_s, None, None, None, self.name, None, meta)
        prob, valid = warp_between(maps[src], maps[vid], prob_s)
        u8 = np.clip(np.rint(prob * 255), 0, 255).astype(np.uint8)
        return MaskResult(oid, vid, u8, None if valid.all() else valid, None, None, self.name, src, meta)
