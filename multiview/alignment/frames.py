"""Frames of the pseudo-video that trackers see, and the way back to each photo.

Two modes:

* ``"unaligned"``: frame ``i`` is the working copy of view ``i`` (its own size; views
  of one sequence may differ in size).
* ``"aligned"``: every view is warped onto the reference canvas through its
  homography (needs ``multiview align``), so all frames share one size; a validity
  mask marks where the photo has pixels. The canvas covers the union of the
  registered views' footprints on the reference plane, clipped to
  ``CANVAS_EXTENT`` times the reference photo around it and scaled so its longer
  side is at most the project's working size. Pixels outside a photo are filled
  with the photo's mean colour (not black, so no false edges). A view that could
  not be registered is shown unwarped, scaled to fit the canvas (``Frame.registered``
  is False). Soft masks come back to each photo through the inverse homography
  by bilinear interpolation; photo pixels outside the canvas are "unknown".

Convention:
    *original* pixels are those of the full photo, *work* pixels those of the
    view's working copy (``View.work_size``), *frame* pixels those of the frame the
    tracker sees. All are ``(x, y)`` with the origin at the top-left and pixel
    centres at integer coordinates. ``H_frame_from_orig`` maps original photo
    pixels to frame pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AlignmentError, ValidationError
from ..loading import resize_prob, scale_between
from .geometry import apply_h, compose, corners, coverage, invert, warp_prob

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

MODES = ("unaligned", "aligned")
#: The aligned canvas extends at most this many reference widths/heights beyond the reference photo.
CANVAS_EXTENT = 1.0


@dataclass(frozen=True)
class Frame:
    """One frame of the pseudo-video.

    Attributes:
        index: position in the pseudo-video.
        view_id: the view it shows.
        image: (h, w, 3) uint8 RGB.
        valid: (h, w) bool, True where the photo has pixels (all True when unaligned).
        H_frame_from_orig: (3, 3) float64 mapping original photo pixels to frame pixels.
        registered: False for a view shown unwarped in aligned mode (it could not be registered).
    """

    index: int
    view_id: str
    image: np.ndarray
    valid: np.ndarray
    H_frame_from_orig: np.ndarray
    registered: bool = True


class PseudoVideo:
    """Lazily decoded frames of a project in pseudo-video order.

    Frames are decoded on request and not kept, so memory does not grow with the
    number of views. ``len(video)`` is the number of views; ``video[i]`` a :class:`Frame`.
    """

    def __init__(self, project: Project, mode: str = "unaligned") -> None:
        if mode not in MODES:
            raise ValidationError(f"frame mode '{mode}' is unknown; use one of {', '.join(MODES)}")
        self.project = project
        self.mode = mode
        self.views: tuple[View, ...] = project.views
        self.view_ids = tuple(v.id for v in self.views)
        self._H: list[np.ndarray] = []
        self._registered: list[bool] = []
        self.canvas_size: tuple[int, int] | None = None
        #: (3, 3) map from reference-plane pixels to canvas pixels (aligned mode).
        self.H_canvas_from_ref: np.ndarray | None = None
        if mode == "aligned":
            self._setup_canvas()

    def _setup_canvas(self) -> None:
        regs = self.project.registrations
        ref = self.project.reference
        if not regs:
            raise AlignmentError("aligned frames need registrations; run `multiview align` first")
        rw, rh = ref.size
        pts = [corners(ref.size)]
        for v in self.views:
            r = regs.get(v.id)
            if r is not None and r.ok:
                q = apply_h(r.H_ref_from_view, corners(v.size))
                if np.all(np.isfinite(q)):
                    pts.append(q)
        allp = np.concatenate(pts)
        ext = CANVAS_EXTENT
        x0 = max(float(allp[:, 0].min()), -0.5 - ext * rw)
        y0 = max(float(allp[:, 1].min()), -0.5 - ext * rh)
        x1 = min(float(allp[:, 0].max()), rw - 0.5 + ext * rw)
        y1 = min(float(allp[:, 1].max()), rh - 0.5 + ext * rh)
        side = self.project.state.work_max_side
        s = min(1.0, side / max(x1 - x0, y1 - y0))
        W = max(8, int(np.ceil((x1 - x0) * s)))
        H = max(8, int(np.ceil((y1 - y0) * s)))
        # Pixel-grid border x0 maps to -0.5: x_c = s * (x - x0) - 0.5.
        self.H_canvas_from_ref = np.array([[s, 0, -s * x0 - 0.5], [0, s, -s * y0 - 0.5], [0, 0, 1.0]])
        self.canvas_size = (W, H)
        for v in self.views:
            r = regs.get(v.id)
            if r is not None and r.ok:
                self._H.append(compose(self.H_canvas_from_ref, r.H_ref_from_view))
                self._registered.append(True)
            else:
                # Unregistered: the photo itself, scaled to fit and centred on the canvas.
                f = min(W / v.width, H / v.height)
                ox, oy = (W - f * v.width) / 2, (H - f * v.height) / 2
                self._H.append(np.array([[f, 0, ox + 0.5 * f - 0.5], [0, f, oy + 0.5 * f - 0.5], [0, 0, 1.0]]))
                self._registered.append(False)

    def __len__(self) -> int:
        return len(self.views)

    def index_of(self, view: str) -> int:
        """Frame index of a view (file name or stem)."""
        return self.view_ids.index(self.project.view(view).id)

    def frame_size(self, i: int) -> tuple[int, int]:
        """``(w, h)`` of frame ``i``."""
        if self.mode == "aligned":
            return self.canvas_size  # type: ignore[return-value]
        return self.views[i].work_size

    def is_registered(self, i: int) -> bool:
        """Whether frame ``i`` is warped onto the reference plane (always True when unaligned)."""
        return self._registered[i] if self.mode == "aligned" else True

    def H_frame_from_orig(self, i: int) -> np.ndarray:
        """(3, 3) float64 mapping original pixels of view ``i`` to frame pixels."""
        if self.mode == "aligned":
            return self._H[i].copy()
        v = self.views[i]
        return scale_between(v.size, v.work_size)

    def __getitem__(self, i: int) -> Frame:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        v = self.views[i]
        img = self.project.working_image(v)
        if self.mode != "aligned":
            return Frame(i, v.id, img, np.ones(img.shape[:2], dtype=bool), self.H_frame_from_orig(i))
        return self._aligned_frame(i, v, img)

    def _aligned_frame(self, i: int, v: View, img: np.ndarray) -> Frame:
        import cv2

        W, H = self.canvas_size  # type: ignore[misc]
        H_f_from_o = self._H[i]
        H_f_from_w = compose(H_f_from_o, scale_between(v.work_size, v.size))
        # Shrink first when the warp shrinks a lot (warpPerspective has no area filter).
        area = abs(np.linalg.det(H_f_from_w[:2, :2]))
        src = img
        if area < 0.25:
            f = max(np.sqrt(area) * 1.5, 8 / min(img.shape[:2]))
            src = cv2.resize(
                img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))), interpolation=cv2.INTER_AREA
            )
            H_f_from_w = compose(H_f_from_w, scale_between((src.shape[1], src.shape[0]), v.work_size))
        fill = tuple(float(c) for c in img.reshape(-1, 3).mean(0))
        out = cv2.warpPerspective(
            src, H_f_from_w, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
        )
        valid = coverage(H_f_from_w, (src.shape[1], src.shape[0]), (W, H))
        return Frame(i, v.id, out, valid, H_f_from_o.copy(), self._registered[i])

    def points_to_frame(self, i: int, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) original-pixel points of view ``i`` to (N, 2) frame pixels."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        H = self.H_frame_from_orig(i)
        ph = np.c_[pts, np.ones(len(pts))] @ H.T
        return ph[:, :2] / ph[:, 2:3]

    def mask_to_frame(self, i: int, mask: np.ndarray) -> np.ndarray:
        """Bring an (H, W) original-size mask of view ``i`` to frame geometry: (h, w) float32 0..1.

        Bilinear interpolation of the mask as a soft mask (bool/uint8 0..255/float 0..1);
        frame pixels outside the photo are 0.
        """
        m = np.asarray(mask)
        m = m.astype(np.float32) / 255.0 if m.dtype == np.uint8 else m.astype(np.float32)
        w, h = self.frame_size(i)
        if self.mode != "aligned":
            return resize_prob(m, (w, h))
        out, _ = warp_prob(m, self._H[i], (w, h))
        return out

    def to_view(self, i: int, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Bring a soft mask from frame ``i`` back to the view's working geometry.

        Args:
            prob: (h, w) float32 object probability 0..1 in frame geometry.

        Returns:
            ``(prob_u8, valid)``: (work_h, work_w) uint8 0..255 and a (work_h, work_w)
            bool validity mask (False where the photo lies outside the canvas: unknown,
            not background), or None when every pixel is known.

        Convention: the frame-to-photo map is the inverse homography; the soft mask is
        interpolated bilinearly (pass probabilities, not thresholded masks).
        """
        v = self.views[i]
        if self.mode != "aligned":
            p = resize_prob(np.asarray(prob, dtype=np.float32), v.work_size)
            return np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8), None
        H_w_from_f = compose(scale_between(v.size, v.work_size), invert(self._H[i]))
        p, valid = warp_prob(np.asarray(prob, dtype=np.float32), H_w_from_f, v.work_size)
        u8 = np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8)
        return u8, (None if valid.all() else valid)


def pseudo_video(project: Project, mode: str = "unaligned") -> PseudoVideo:
    """The frames trackers see, in pseudo-video order (see :class:`PseudoVideo`)."""
    return PseudoVideo(project, mode)
