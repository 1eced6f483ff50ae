"""How one view maps onto the reference plane: the seam every consumer goes through.

The *reference plane* is the pixel grid of the reference photo (its original pixels).
``multiview align`` stores, per view, a homography ``H_ref_from_view``; a
:class:`ViewMapping` (from :func:`mapping`) wraps it with the view's sizes and offers
everything the stages need: points view -> plane and back, soft masks and images
warped onto the plane (or a :class:`~multiview.plane.PlaneCanvas` of it) and back,
areas on the plane, the view's outline on the plane, and :func:`warp_between` two views.
The homography tracker, the aligned frames SAM 2 sees, drift review, areas, the ``h5``
canvas and the workbench never compose raw homographies between a view and the plane.

A mapping may carry a smooth non-projective ``residual`` on the plane (e.g. a thin-plate
spline fitted where one homography does not explain a curved wall): the map is then
``residual.forward(H_ref_from_view @ x)``. :attr:`ViewMapping.is_homography` tells the two
cases apart. When every map involved in a warp is a pure homography the warp is one
``cv2.warpPerspective`` of the composed matrix (bilinear, the historical behaviour,
bit for bit); otherwise the exact point map is sampled at every destination pixel centre
and the raster is resampled with ``cv2.remap`` (bilinear too).

Convention:
    Points are ``(N, 2)`` float64 arrays of ``(x, y)``, origin at the top-left, pixel
    centres at integer coordinates (OpenCV convention); points that have no image (behind
    the horizon) come back as NaN. Sizes are ``(width, height)``, arrays ``(height, width)``.
    A view's raster *geometry* is ``"orig"`` (the photo's original pixels, ``View.size``),
    ``"work"`` (its working copy, ``View.work_size``, where results live) or any
    ``(w, h)``: a raster of the whole photo at that size (pixel-grid borders aligned,
    :func:`~multiview.raster.scale_between`). Soft masks are uint8 0..255 or float 0..1 and
    come back as float32 0..1 with a boolean ``valid`` raster that is True where the
    destination pixel centre falls inside the source raster (pixel-grid border
    ``[-0.5, w - 0.5]``): elsewhere the value is unknown, not background.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import ALIGN, AlignmentError, ValidationError
from ..geometry import apply_h, compose, corners, invert, normalize_h, polygon_area, warp_image, warp_prob
from ..raster import scale_between
from .areas import plane_area
from .canvas import PlaneCanvas

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project, Registration, View

__all__ = [
    "Geometry",
    "Residual",
    "ViewMapping",
    "mapping",
    "mapping_key",
    "mappings",
    "warp_between",
    "warp_result_to_ref",
]

#: A raster of a whole photo: ``"orig"``, ``"work"`` or a size ``(w, h)``.
Geometry = str | tuple[int, int]

#: Destination rows sampled at once on the dense (non-homography) path.
_ROW_BLOCK = 256
#: Stand-in for NaN source coordinates given to ``cv2.remap`` (far outside any raster).
_FAR = -1.0e7
#: Spacing, pixels, of the samples of a residual's smooth part on the dense path (see :func:`_dense_map`).
_STEP = 8


class Residual(Protocol):
    """A smooth non-projective correction on the reference plane, applied after the homography.

    ``forward`` maps ``(N, 2)`` reference-plane points predicted by ``H_ref_from_view`` to
    the true reference-plane points; ``inverse`` undoes it. Both return ``(N, 2)`` float64
    and keep NaN rows NaN. ``key`` identifies the correction's parameters (cache keys).
    """

    def forward(self, points: np.ndarray) -> np.ndarray: ...

    def inverse(self, points: np.ndarray) -> np.ndarray: ...

    def key(self) -> bytes: ...


@dataclass(frozen=True, eq=False)
class ViewMapping:
    """The map of one view onto the reference plane (see the module docstring).

    Attributes:
        view_id: the view.
        size: ``(w, h)`` of the view's original photo.
        work_size: ``(w, h)`` of its working copy.
        ref_size: ``(w, h)`` of the reference photo (the plane's own raster).
        H_ref_from_view: (3, 3) float64 homography from original view pixels to
            reference-plane pixels (the whole map when :attr:`is_homography`).
        residual: correction applied on the plane after the homography, or None.
    """

    view_id: str
    size: tuple[int, int]
    work_size: tuple[int, int]
    ref_size: tuple[int, int]
    H_ref_from_view: np.ndarray
    residual: Residual | None = None

    @classmethod
    def from_registration(cls, reg: Registration, view: View, ref_size: tuple[int, int]) -> ViewMapping:
        """The mapping stored by a registration.

        Raises:
            AlignmentError: the view is not registered.
        """
        if not reg.ok or reg.H_ref_from_view is None:
            raise AlignmentError(
                f"view '{view.id}' is not registered ({reg.reason or reg.status}); register the views first",
                hint=ALIGN,
            )
        return cls(
            view.id,
            view.size,
            view.work_size,
            (int(ref_size[0]), int(ref_size[1])),
            reg.H_ref_from_view,
            reg.deformation,
        )

    # ------------------------------------------------------------------ geometry
    @property
    def is_homography(self) -> bool:
        """True when the map is exactly ``H_ref_from_view`` (no residual)."""
        return self.residual is None

    def geometry_size(self, geometry: Geometry = "orig") -> tuple[int, int]:
        """``(w, h)`` of a raster geometry of this view."""
        if geometry == "orig":
            return self.size
        if geometry == "work":
            return self.work_size
        if isinstance(geometry, tuple) and len(geometry) == 2:
            return int(geometry[0]), int(geometry[1])
        raise ValidationError(f"raster geometry {geometry!r} is unknown; use 'orig', 'work' or (w, h)")

    def _H_orig_from(self, geometry: Geometry) -> np.ndarray | None:
        """Scale from a raster geometry to original pixels (None for ``"orig"``)."""
        return None if geometry == "orig" else scale_between(self.geometry_size(geometry), self.size)

    def _H_from_orig(self, geometry: Geometry) -> np.ndarray | None:
        """Scale from original pixels to a raster geometry (None for ``"orig"``)."""
        return None if geometry == "orig" else scale_between(self.size, self.geometry_size(geometry))

    def H_ref_from(self, geometry: Geometry = "orig") -> np.ndarray:
        """(3, 3) homography part of the map from a raster geometry to the plane.

        It is the whole map only when :attr:`is_homography`; use the methods below for
        anything that must hold for every mapping.
        """
        S = self._H_orig_from(geometry)
        return self.H_ref_from_view if S is None else compose(self.H_ref_from_view, S)

    def key(self) -> bytes:
        """Bytes identifying the map (homography rounded to 1e-6, plus the residual's key)."""
        k = np.round(np.asarray(self.H_ref_from_view, np.float64), 6).tobytes()
        return k if self.residual is None else k + self.residual.key()

    def _H_to_ref(self, geometry: Geometry, canvas: PlaneCanvas | None) -> np.ndarray:
        """Homography part of :meth:`to_ref` (geometry -> plane or canvas)."""
        H = self.H_ref_from(geometry)
        return H if canvas is None else compose(canvas.H_canvas_from_ref, H)

    # ------------------------------------------------------------------ points
    def to_ref(self, points: np.ndarray, geometry: Geometry = "orig", canvas: PlaneCanvas | None = None) -> np.ndarray:
        """Map ``(N, 2)`` view points (in ``geometry``) to the plane (or to ``canvas`` pixels).

        Returns:
            (N, 2) float64; NaN where a point has no image.
        """
        if self.residual is None:
            H = self.H_ref_from(geometry)
            if canvas is not None:
                H = compose(canvas.H_canvas_from_ref, H)
            return apply_h(H, points)
        S = self._H_orig_from(geometry)
        p = np.asarray(points, np.float64).reshape(-1, 2)
        q = self.residual.forward(apply_h(self.H_ref_from_view, p if S is None else apply_h(S, p)))
        return q if canvas is None else canvas.to_canvas(q)

    def from_ref(
        self, points: np.ndarray, geometry: Geometry = "orig", canvas: PlaneCanvas | None = None
    ) -> np.ndarray:
        """Map ``(N, 2)`` plane points (or ``canvas`` pixels) to view pixels in ``geometry``.

        Returns:
            (N, 2) float64; NaN where a point has no image.
        """
        p = np.asarray(points, np.float64).reshape(-1, 2)
        if canvas is not None:
            p = canvas.from_canvas(p)
        if self.residual is not None:
            p = self.residual.inverse(p)
        q = apply_h(invert(self.H_ref_from_view), p)
        S = self._H_from_orig(geometry)
        return q if S is None else apply_h(S, q)

    def outline_on_ref(self, samples_per_side: int = 16) -> np.ndarray:
        """The photo's outline (pixel-grid border) on the plane.

        Returns:
            (4, 2) corners for a homography (its image of a rectangle is a quadrilateral),
            else ``(4 * samples_per_side, 2)`` points along the border, in order.
        """
        if self.is_homography:
            return apply_h(self.H_ref_from_view, corners(self.size))
        c = corners(self.size)
        t = np.linspace(0.0, 1.0, samples_per_side, endpoint=False)[:, None]
        border = np.concatenate([c[k] + t * (c[(k + 1) % 4] - c[k]) for k in range(4)])
        return self.to_ref(border)

    # ------------------------------------------------------------------ rasters
    def warp_to_ref(
        self,
        raster: np.ndarray,
        canvas: PlaneCanvas | None = None,
        *,
        geometry: Geometry = "work",
        border: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Warp a soft mask of this view onto the plane (bilinear).

        Args:
            raster: (h, w) soft mask in ``geometry`` (uint8 0..255 or float 0..1).
            canvas: destination raster of the plane; default the reference photo at its
                original size.
            border: value of destination pixels the view does not cover.

        Returns:
            ``(warped, valid)``: (H, W) float32 and (H, W) bool at the canvas size.
        """
        dst = canvas if canvas is not None else PlaneCanvas.identity(self.ref_size)
        if self.is_homography:
            H = self.H_ref_from(geometry)
            if canvas is not None:
                H = compose(canvas.H_canvas_from_ref, H)
            return warp_prob(raster, H, dst.size, border=border)
        return _remap_prob(
            raster,
            dst.size,
            lambda p: self.from_ref(p, geometry, dst),
            border,
            invert(self._H_to_ref(geometry, dst)),
        )

    def warp_from_ref(
        self,
        raster: np.ndarray,
        canvas: PlaneCanvas | None = None,
        *,
        geometry: Geometry = "work",
        border: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Warp a soft mask on the plane (or on ``canvas``) back to this view (bilinear).

        Args:
            raster: (H, W) soft mask on ``canvas`` (default: the reference photo, original size).
            geometry: raster geometry of the result.

        Returns:
            ``(warped, valid)``: (h, w) float32 and (h, w) bool in ``geometry``; ``valid``
            is False where the view's pixel falls outside the canvas.
        """
        size = self.geometry_size(geometry)
        if self.is_homography:
            H_c = self.H_ref_from_view if canvas is None else compose(canvas.H_canvas_from_ref, self.H_ref_from_view)
            S = self._H_from_orig(geometry)
            H = invert(H_c) if S is None else compose(S, invert(H_c))
            return warp_prob(raster, H, size, border=border)
        return _remap_prob(
            raster, size, lambda p: self.to_ref(p, geometry, canvas), border, self._H_to_ref(geometry, canvas)
        )

    def warp_image_to_ref(
        self,
        image: np.ndarray,
        canvas: PlaneCanvas,
        *,
        geometry: Geometry = "work",
        fill: tuple[float, ...] = (0.0, 0.0, 0.0),
    ) -> tuple[np.ndarray, np.ndarray]:
        """Warp a colour image of this view onto ``canvas`` (bilinear, pre-shrunk when the map shrinks a lot).

        See :func:`~multiview.geometry.warp_image` for the shrinking rule (on the dense
        path the scale is the footprint's area on the canvas over the image's area).

        Args:
            image: (h, w, C) uint8 in ``geometry``.
            fill: value of canvas pixels the view does not cover (e.g. the photo's mean colour).

        Returns:
            ``(warped, valid)``: (H, W, C) uint8 and (H, W) bool at the canvas size.
        """
        import cv2

        if self.is_homography:
            H_c_from_o = compose(canvas.H_canvas_from_ref, self.H_ref_from_view)
            S = self._H_orig_from(geometry)
            return warp_image(image, H_c_from_o if S is None else compose(H_c_from_o, S), canvas.size, fill)
        q = self.to_ref(corners(self.size), canvas=canvas)
        gw, gh = self.geometry_size(geometry)
        area = polygon_area(q) / (gw * gh) if np.all(np.isfinite(q)) else 1.0
        src, geom = image, geometry
        if area < 0.25:
            f = max(np.sqrt(area) * 1.5, 8 / min(image.shape[:2]))
            src = cv2.resize(
                image,
                (max(1, round(image.shape[1] * f)), max(1, round(image.shape[0] * f))),
                interpolation=cv2.INTER_AREA,
            )
            geom = (src.shape[1], src.shape[0])
        mx, my, valid = _dense_map(
            canvas.size,
            lambda p: self.from_ref(p, geom, canvas),
            (src.shape[1], src.shape[0]),
            invert(self._H_to_ref(geom, canvas)),
        )
        out = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
        return out, valid

    def area_on_ref(self, mask: np.ndarray, geometry: Geometry = "work") -> float:
        """Area a boolean mask of this view covers on the plane, reference-plane pixels.

        Each mask pixel contributes the local area scale (Jacobian determinant) of the map
        at its centre: exact for a homography (:func:`~multiview.plane.areas.plane_area`),
        central differences over one pixel otherwise.

        Args:
            mask: (h, w) bool in ``geometry``.
        """
        if self.is_homography:
            return plane_area(mask, self.H_ref_from(geometry))
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return 0.0
        # |det J| = |det J_H(p)| * |det J_residual(H p)|: the first exactly per pixel (plane_area's
        # formula), the second, smooth, from central differences on a coarse grid, interpolated.
        H = normalize_h(self.H_ref_from(geometry))
        h, w = m.shape
        step = _STEP
        gx = np.arange(0, w - 1 + step, step, dtype=np.float64)
        gy = np.arange(0, h - 1 + step, step, dtype=np.float64)
        g = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        q = apply_h(H, g)
        ex, ey = np.array([0.5, 0.0]), np.array([0.0, 0.5])
        f = self.residual.forward  # type: ignore[union-attr]
        dx, dy = f(q + ex) - f(q - ex), f(q + ey) - f(q - ey)
        det_r = np.abs(dx[:, 0] * dy[:, 1] - dx[:, 1] * dy[:, 0]).reshape(len(gy), len(gx)).astype(np.float32)
        ys, xs = np.nonzero(m)
        dr = _bilinear(det_r, xs / step, ys / step)
        den = np.abs(H[2, 0] * xs + H[2, 1] * ys + H[2, 2])
        with np.errstate(divide="ignore", invalid="ignore"):
            det_h = abs(float(np.linalg.det(H))) / den**3
        return float(np.nansum(det_h * dr))


def mapping(project: Project, view: View | str) -> ViewMapping:
    """The map of ``view`` (a :class:`~multiview.project.View`, file name or stem) onto the reference plane.

    Raises:
        AlignmentError: the view is not registered (run ``multiview align``).
        ValidationError: unknown view.
    """
    v = project.view(view if isinstance(view, str) else view.id)
    reg = project.registrations.get(v.id)
    if reg is None:
        raise AlignmentError(f"view '{v.id}' is not registered; register the views first", hint=ALIGN)
    return ViewMapping.from_registration(reg, v, project.reference.size)


def mappings(project: Project) -> dict[str, ViewMapping]:
    """The maps of every registered view, by view id (unregistered views are absent)."""
    ref_size = project.reference.size
    regs = project.registrations
    return {
        v.id: ViewMapping.from_registration(regs[v.id], v, ref_size)
        for v in project.views
        if v.id in regs and regs[v.id].ok
    }


def warp_between(
    src: ViewMapping,
    dst: ViewMapping,
    raster: np.ndarray,
    *,
    src_geometry: Geometry = "work",
    dst_geometry: Geometry = "work",
    border: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a soft mask of view ``src`` into view ``dst`` through the reference plane (bilinear).

    Args:
        raster: (h, w) soft mask in ``src_geometry``.

    Returns:
        ``(warped, valid)``: float32 and bool rasters in ``dst_geometry``; ``valid`` is
        False where the ``dst`` pixel falls outside the ``src`` photo.

    Convention: for two homographies the composed matrix is
    ``S_dst_from_orig @ inv(H_ref_from_dst) @ H_ref_from_src @ S_orig_from_src``.
    """
    size = dst.geometry_size(dst_geometry)
    if src.is_homography and dst.is_homography:
        S_dst = dst._H_from_orig(dst_geometry)
        S_src = src._H_orig_from(src_geometry)
        H = compose(
            *(() if S_dst is None else (S_dst,)),
            invert(dst.H_ref_from_view),
            src.H_ref_from_view,
            *(() if S_src is None else (S_src,)),
        )
        return warp_prob(raster, H, size, border=border)
    H_approx = compose(invert(src.H_ref_from(src_geometry)), dst.H_ref_from(dst_geometry))
    return _remap_prob(
        raster, size, lambda p: src.from_ref(dst.to_ref(p, dst_geometry), src_geometry), border, H_approx
    )


def warp_result_to_ref(
    mapping: ViewMapping, result: MaskResult, canvas: PlaneCanvas | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a stored result (the view's working geometry) onto the plane.

    Args:
        mapping: the map of ``result.view_id``.
        canvas: destination raster; default the reference photo at its original size.

    Returns:
        ``(prob, known)``: (H, W) float32 0..1 (0 where unknown), and (H, W) bool where the
        view saw the plane *and* the tracker knew the value (``result.valid``).
    """
    prob, known = mapping.warp_to_ref(result.prob, canvas, geometry="work")
    if result.valid is not None:
        v, _ = mapping.warp_to_ref(result.valid.astype(np.float32), canvas, geometry="work")
        known &= v >= 0.5
    prob[~known] = 0.0
    return prob, known


# ---------------------------------------------------------------------- dense path
def _dense_map(
    dst_size: tuple[int, int],
    src_from_dst: Callable[[np.ndarray], np.ndarray],
    src_size: tuple[int, int],
    H_src_from_dst: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source coordinates of every destination pixel centre, for ``cv2.remap``.

    With ``H_src_from_dst`` (the map's homography part), that homography is evaluated exactly
    at every pixel and only the smooth remainder ``src_from_dst(p) - H_src_from_dst p`` is
    sampled every :data:`_STEP` pixels and interpolated bilinearly: a thin-plate spline on a
    wall's shape varies over tens of pixels, so this is exact to a few hundredths of a pixel
    (tested) and its cost does not grow with the spline's size. Without it the map is
    evaluated at every pixel.

    Returns:
        ``(map_x, map_y, valid)``: (H, W) float32 maps and (H, W) bool, True where the
        source point is finite and inside the source pixel grid.
    """
    W, Hh = dst_size
    w, h = src_size
    map_x = np.empty((Hh, W), np.float32)
    map_y = np.empty((Hh, W), np.float32)
    valid = np.empty((Hh, W), bool)
    xs = np.arange(W, dtype=np.float64)
    corr = None
    if H_src_from_dst is not None:
        step = _STEP
        gx = np.arange(0, W - 1 + step, step, dtype=np.float64)
        gy = np.arange(0, Hh - 1 + step, step, dtype=np.float64)
        g = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        corr = (src_from_dst(g) - apply_h(H_src_from_dst, g)).reshape(len(gy), len(gx), 2).astype(np.float32)
    for y0 in range(0, Hh, _ROW_BLOCK):
        ys = np.arange(y0, min(Hh, y0 + _ROW_BLOCK), dtype=np.float64)
        gx_, gy_ = np.meshgrid(xs, ys)
        pts = np.stack([gx_.ravel(), gy_.ravel()], 1)
        if corr is None:
            q = src_from_dst(pts).reshape(len(ys), W, 2)
        else:
            q = apply_h(H_src_from_dst, pts).reshape(len(ys), W, 2)  # type: ignore[arg-type]
            fx, fy = gx_ / _STEP, gy_ / _STEP
            q[..., 0] += _bilinear(corr[..., 0], fx, fy)
            q[..., 1] += _bilinear(corr[..., 1], fx, fy)
        u, v = q[..., 0], q[..., 1]
        ok = np.isfinite(u) & np.isfinite(v)
        ok &= (u >= -0.5) & (u <= w - 0.5) & (v >= -0.5) & (v <= h - 0.5)
        rows = slice(y0, y0 + len(ys))
        map_x[rows] = np.where(np.isfinite(u), u, _FAR)
        map_y[rows] = np.where(np.isfinite(v), v, _FAR)
        valid[rows] = ok
    return map_x, map_y, valid


def _bilinear(grid: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a (gh, gw) grid at fractional node coordinates (clamped; NaN nodes spread)."""
    gh, gw = grid.shape
    x = np.clip(np.asarray(fx, np.float64), 0, gw - 1)
    y = np.clip(np.asarray(fy, np.float64), 0, gh - 1)
    x0 = np.minimum(np.floor(x).astype(np.intp), max(gw - 2, 0))
    y0 = np.minimum(np.floor(y).astype(np.intp), max(gh - 2, 0))
    x1, y1 = np.minimum(x0 + 1, gw - 1), np.minimum(y0 + 1, gh - 1)
    tx, ty = x - x0, y - y0
    top = grid[y0, x0] * (1 - tx) + grid[y0, x1] * tx
    bot = grid[y1, x0] * (1 - tx) + grid[y1, x1] * tx
    return top * (1 - ty) + bot * ty


def _remap_prob(
    raster: np.ndarray,
    dst_size: tuple[int, int],
    src_from_dst: Callable[[np.ndarray], np.ndarray],
    border: float,
    H_src_from_dst: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~multiview.geometry.warp_prob` for any point map (dense sampling + ``cv2.remap``)."""
    import cv2

    src = np.asarray(raster)
    if src.ndim != 2:
        raise ValidationError(f"soft mask must be 2-D (h, w), got shape {src.shape}")
    data = src.astype(np.float32) / 255.0 if src.dtype == np.uint8 else src.astype(np.float32)
    mx, my, valid = _dense_map(dst_size, src_from_dst, (src.shape[1], src.shape[0]), H_src_from_dst)
    warped = cv2.remap(data, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped[~valid] = border
    return warped, valid


def mapping_key(*maps: ViewMapping) -> str:
    """Short hex digest identifying a sequence of mappings (e.g. to know whether a result is stale)."""
    h = hashlib.sha1()
    for m in maps:
        h.update(m.key())
    return h.hexdigest()[:16]
