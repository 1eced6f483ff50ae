"""Tiny generated projects for export and review tests (no tracker needed).

A textured panel is the reference plane; view ``i`` sees it through a known
homography ``H_view_from_panel`` (a shift, a zoom and a little perspective); the
middle view is the reference (identity). Object masks on the panel (1: disc,
2: rectangle) are warped into every view and stored as ``MaskResult``s at each
view's working geometry; registrations come from the known homographies.
Optionally one view's object 1 is shifted on the panel (drift on purpose), and one
view loses object 2 (empty mask, low present score).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from multiview.project import MaskResult, Project, Registration
from multiview.raster import scale_between


@dataclass
class Built:
    project: Project
    H_view_from_panel: dict[str, np.ndarray]
    panel_size: tuple[int, int]
    panel_masks: dict[int, np.ndarray]
    drift_view: str | None = None
    lost_view: str | None = None
    truth: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)


def panel_image(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 12, (h, w, 3))
    return np.clip(img.astype(np.float64) * 0.7 + 40 + noise, 0, 255).astype(np.uint8)


def panel_masks(size: tuple[int, int]) -> dict[int, np.ndarray]:
    w, h = size
    m1 = np.zeros((h, w), np.uint8)
    cv2.circle(m1, (int(w * 0.42), int(h * 0.52)), int(h * 0.2), 255, -1)
    m2 = np.zeros((h, w), np.uint8)
    cv2.rectangle(m2, (int(w * 0.62), int(h * 0.22)), (int(w * 0.8), int(h * 0.45)), 255, -1)
    return {1: m1, 2: m2}


def H_for(i: int, mid: int, size: tuple[int, int], n: int = 8) -> np.ndarray:
    """H_view_from_panel of view ``i`` of ``n``: identity for the middle (reference) view."""
    w, h = size
    d = (i - mid) * min(1.0, 8.0 / n)
    s = 1.0 + 0.06 * d
    tx, ty = -0.05 * w * d, 0.02 * h * d
    p = 1e-4 * d * 160.0 / w
    return np.array([[s, 0.02 * d, tx], [-0.01 * d, s, ty], [p, 0.0, 1.0]], dtype=np.float64)


def build_project(
    root: Path,
    n_views: int = 6,
    *,
    size: tuple[int, int] = (160, 120),
    work_max_side: int = 2048,
    drift_view: int | None = None,
    drift_shift: float = 0.25,
    lost_view: int | None = None,
    unregistered: tuple[int, ...] = (),
    prompted: tuple[int, ...] = (0,),
    ext: str = ".jpg",
    mask_prompts: bool = False,
    results: bool = True,
) -> Built:
    """Create photos and a project under ``root`` with stored results and registrations."""
    photos = root / "photos"
    photos.mkdir(parents=True)
    panel = panel_image(size)
    masks = panel_masks(size)
    mid = n_views // 2
    Hs = {}
    for i in range(n_views):
        name = f"IMG_{i + 1}{ext}"
        H = H_for(i, mid, size, n_views)
        img = cv2.warpPerspective(panel, H, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        cv2.imwrite(str(photos / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        Hs[name] = H
    proj = Project.create(photos, root / "project", work_max_side=work_max_side)
    views = proj.views
    assert proj.reference.id == views[mid].id
    regs = {}
    for i, v in enumerate(views):
        H_ref_from_view = Hs[views[mid].id] @ np.linalg.inv(Hs[v.id])
        if i == mid:
            regs[v.id] = Registration(v.id, "reference", np.eye(3), inliers=500, method="identity")
        elif i in unregistered:
            regs[v.id] = Registration(v.id, "unregistered", None, reason="too few matches")
        else:
            regs[v.id] = Registration(
                v.id,
                "registered",
                H_ref_from_view / H_ref_from_view[2, 2],
                inliers=200,
                reproj_error=0.5,
                overlap=0.9,
                method="known",
            )
    proj.set_registrations(regs)
    for oid in masks:
        proj.add_object(oid, {1: "figure", 2: "lacuna"}[oid])
    src_views = [views[k].id for k in prompted]
    for k in prompted:
        v = views[k]
        for oid, m in masks.items():
            if mask_prompts:
                proj.add_prompt(v.id, oid, mask=cv2.warpPerspective(m, Hs[v.id], v.size) >= 128)
                continue
            ys, xs = np.nonzero(m)
            c = np.array([xs.mean(), ys.mean(), 1.0])
            q = Hs[v.id] @ c
            proj.add_prompt(v.id, oid, points=[(q[0] / q[2], q[1] / q[2])], labels=[1])
    built = Built(
        proj,
        Hs,
        size,
        masks,
        drift_view=views[drift_view].id if drift_view is not None else None,
        lost_view=views[lost_view].id if lost_view is not None else None,
    )
    for i, v in enumerate(views if results else ()):
        S = scale_between(v.size, v.work_size)
        for oid, m in masks.items():
            pm = m
            if drift_view == i and oid == 1:
                shift = np.float64([[1, 0, drift_shift * size[0]], [0, 1, 0]])
                pm = cv2.warpAffine(m, shift, size)
            prob = cv2.warpPerspective(pm, S @ Hs[v.id], v.work_size, flags=cv2.INTER_LINEAR)
            built.truth[(oid, v.id)] = cv2.warpPerspective(m, Hs[v.id], v.size, flags=cv2.INTER_LINEAR) >= 128
            present = 0.95
            if lost_view == i and oid == 2:
                prob = np.zeros_like(prob)
                present = 0.05
            src = None if v.id in src_views else min(src_views, key=lambda s: abs(proj.view_index(s) - i))
            proj.write_result(MaskResult(oid, v.id, prob, None, 0.9, present, "homography", src, {"model": "test"}))
    return built
