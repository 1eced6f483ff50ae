"""Per-view maps between a view's original pixels and the reference plane.

Every damage-map computation reaches the views through :class:`PlaneMap`, never through a
raw homography, so a smoother model of the wall (a homography plus a thin-plate-spline
residual) can replace the homography behind the same two calls.

Convention:
    *view* points are ``(x, y)`` original pixels of the view's photo; *plane* points are
    ``(x, y)`` original pixels of the reference photo (the reference plane). Both have the
    origin at the top-left and pixel centres at integer coordinates. Points are ``(N, 2)``
    float64; points that have no image (behind the camera) come back as NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..geometry import invert
from ..plane import ViewMapping, mappings

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View


@dataclass(frozen=True, eq=False)
class PlaneMap:
    """View <-> reference plane for one registered view, through its :class:`~multiview.plane.ViewMapping`.

    Attributes:
        view: the view.
        mapping: its map onto the plane (a homography, or a homography plus a residual).
    """

    view: View
    mapping: ViewMapping

    def plane_from_view(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) view pixels -> (N, 2) plane pixels."""
        return self.mapping.to_ref(points)

    def view_from_plane(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) plane pixels -> (N, 2) view pixels; NaN where undefined."""
        return self.mapping.from_ref(points)

    def view_from_plane_grid(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map a grid of plane points to the view.

        Args:
            xs: (W,) plane x of the grid columns; ys: (H,) plane y of the grid rows.

        Returns:
            ``(u, v)``: (H, W) float32 view pixels (NaN where undefined, e.g. behind the camera),
            ready for ``cv2.remap``.
        """
        x = np.asarray(xs, dtype=np.float64)
        y = np.asarray(ys, dtype=np.float64)
        if not self.mapping.is_homography:
            gx, gy = np.meshgrid(x, y)
            q = self.mapping.from_ref(np.stack([gx.ravel(), gy.ravel()], 1))
            return q[:, 0].reshape(gx.shape).astype(np.float32), q[:, 1].reshape(gx.shape).astype(np.float32)
        H = invert(self.mapping.H_ref_from_view)
        x, y = x[None, :], y[:, None]
        w = H[2, 0] * x + H[2, 1] * y + H[2, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (H[0, 0] * x + H[0, 1] * y + H[0, 2]) / w
            v = (H[1, 0] * x + H[1, 1] * y + H[1, 2]) / w
        bad = ~(w > 1e-12)
        u[bad] = np.nan
        v[bad] = np.nan
        return u.astype(np.float32), v.astype(np.float32)


def plane_maps(project: Project) -> dict[str, PlaneMap]:
    """View id -> :class:`PlaneMap` for every registered view (:func:`multiview.plane.mappings`).

    The reference view is always included (identity map), even before ``multiview align``.
    """
    ref = project.reference
    maps = mappings(project)
    if ref.id not in maps:
        maps[ref.id] = ViewMapping(ref.id, ref.size, ref.work_size, ref.size, np.eye(3))
    by_id = {v.id: v for v in project.views}
    return {vid: PlaneMap(by_id[vid], maps[vid]) for vid in (v.id for v in project.views) if vid in maps}


def local_resolution(u: np.ndarray, v: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Singular values of the plane -> view Jacobian on a grid of mapped points.

    Args:
        u, v: (H, W) view coordinates of a plane grid (from :meth:`PlaneMap.view_from_plane_grid`).
        step: plane pixels between grid points.

    Returns:
        ``(s_min, s_max)``: (H, W) float32 view pixels per plane pixel in the least and the most
        resolved direction. ``s_min`` is the view's resolution on the wall; ``s_min / s_max``
        falls with obliquity (1 for a frontal view). NaN where undefined. Finite differences
        (``numpy.gradient``); closed-form 2x2 singular values.
    """
    if u.shape[0] < 2 or u.shape[1] < 2:
        full = np.full(u.shape, np.nan, np.float32)
        return full, full
    a, b = np.gradient(u.astype(np.float64), step)[::-1]  # du/dx, du/dy
    c, d = np.gradient(v.astype(np.float64), step)[::-1]  # dv/dx, dv/dy
    q = np.hypot((a + d) / 2, (c - b) / 2)
    r = np.hypot((a - d) / 2, (c + b) / 2)
    return np.abs(q - r).astype(np.float32), (q + r).astype(np.float32)


def view_occlusion(project: Project, view: View) -> np.ndarray | None:
    """(h, w) bool at the view's working size: where something in front of the wall hides it.

    From the project's occlusion layer of the view (``Project.read_occlusion``, computed by
    ``align`` where the photos allow it); None when the view has none (unknown counts as seen).
    """
    read = getattr(project, "read_occlusion", None)
    layer = read(view.id) if read is not None else None
    if layer is None:
        return None
    occ, _known = layer.at_size(view.work_size)
    return occ if occ.any() else None
