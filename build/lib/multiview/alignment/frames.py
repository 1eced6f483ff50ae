"""Frames of the pseudo-video that trackers see, and the way back to each photo.

Two modes:

* ``"unaligned"``: frame ``i`` is the working copy of view ``i`` (its own size; views
  of one sequence may differ in size).
* ``"aligned"``: every view is warped onto a canvas of the reference plane through
  its :class:`~multiview.plane.ViewMapping` (needs ``multiview align``), so all frames
  share one size; a validity mask marks where the photo has pixels. The canvas
  (:func:`~multiview.plane.footprint_canvas`) covers the union of the registered
  views' footprints on the reference plane, clipped to ``CANVAS_EXTENT`` times the
  reference photo around it and scaled so its longer side is at most the project's
  working size. Pixels outside a photo are filled with the photo's mean colour (not
  black, so no false edges). A view that could not be registered is shown unwarped,
  scaled to fit the canvas (``Frame.registered`` is False). Soft masks come back to
  each photo through the inverse map by bilinear interpolation; photo pixels outside
  the canvas are "unknown".

Convention:
    *original* pixels are those of the full photo, *work* pixels those of the
    view's working copy (``View.work_size``), *frame* pixels those of the frame the
    tracker sees. All are ``(x, y)`` with the origin at the top-left and pixel
    centres at integer coordinates. ``H_frame_from_orig`` maps original photo
    pixels to frame pixels (the whole map unless the view's mapping has a
    non-projective residual; then it is its homography part).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ALIGN, AlignmentError, ValidationError
from ..geometry import apply_h, compose, invert, warp_image, warp_prob
from ..plane import PlaneCanvas, ViewMapping, footprint_canvas, mappings
from ..raster import resize_prob, scale_between

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

    ``H_frame_from_orig`` is the homography part of the map when the view's mapping is
    not a pure homography (see :meth:`PseudoVideo.frame_key`).
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
    In aligned mode, registered views go through their :class:`~multiview.plane.ViewMapping`
    and the canvas; unregistered views through a scale that fits them on the canvas.
    """

    def __init__(self, project: Project, mode: str = "unaligned") -> None:
        if mode not in MODES:
            raise ValidationError(f"frame mode '{mode}' is unknown; use one of {', '.join(MODES)}")
        self.project = project
        self.mode = mode
        self.views: tuple[View, ...] = project.views
        self.view_ids = tuple(v.id for v in self.views)
        #: per view in aligned mode: its mapping, or None when it is shown unwarped
        self._maps: list[ViewMapping | None] = []
        #: per view in aligned mode: original pixels -> frame pixels (homography part)
        self._H: list[np.ndarray] = []
        self.canvas: PlaneCanvas | None = None
        self.canvas_size: tuple[int, int] | None = None
        #: (3, 3) map from reference-plane pixels to canvas pixels (aligned mode).
        self.H_canvas_from_ref: np.ndarray | None = None
        if mode == "aligned":
            self._setup_canvas()

    def _setup_canvas(self) -> None:
        if not self.project.registrations:
            raise AlignmentError("aligned frames need registered views; register the views first", hint=ALIGN)
        maps = mappings(self.project)
        canvas = footprint_canvas(
            self.project.reference.size,
            maps.values(),
            extent=CANVAS_EXTENT,
            max_side=self.project.state.work_max_side,
        )
        self.canvas, self.canvas_size, self.H_canvas_from_ref = canvas, canvas.size, canvas.H_canvas_from_ref
        W, H = canvas.size
        for v in self.views:
            m = maps.get(v.id)
            self._maps.append(m)
            if m is not None:
                self._H.append(compose(canvas.H_canvas_from_ref, m.H_ref_from_view))
            else:
                # Unregistered: the photo itself, scaled to fit and centred on the canvas.
                f = min(W / v.width, H / v.height)
                ox, oy = (W - f * v.width) / 2, (H - f * v.height) / 2
                self._H.append(np.array([[f, 0, ox + 0.5 * f - 0.5], [0, f, oy + 0.5 * f - 0.5], [0, 0, 1.0]]))

    def _aligned_canvas(self) -> PlaneCanvas:
        if self.canvas is None:
            raise AlignmentError("this pseudo-video is not aligned; ask for aligned frames")
        return self.canvas

    def __len__(self) -> int:
        return len(self.views)

    def index_of(self, view: str) -> int:
        """Frame index of a view (file name or stem)."""
        return self.view_ids.index(self.project.view(view).id)

    def frame_size(self, i: int) -> tuple[int, int]:
        """``(w, h)`` of frame ``i``."""
        if self.canvas is not None:
            return self.canvas.size
        return self.views[i].work_size

    def is_registered(self, i: int) -> bool:
        """Whether frame ``i`` is warped onto the reference plane (always True when unaligned)."""
        return self._maps[i] is not None if self.mode == "aligned" else True

    def H_frame_from_orig(self, i: int) -> np.ndarray:
        """(3, 3) float64 mapping original pixels of view ``i`` to frame pixels (homography part)."""
        if self.mode == "aligned":
            return self._H[i].copy()
        v = self.views[i]
        return scale_between(v.size, v.work_size)

    def frame_key(self, i: int) -> str:
        """Short hex digest of the geometry of frame ``i`` (changes whenever its pixels' map can)."""
        H = np.round(np.asarray(self.H_frame_from_orig(i), dtype=np.float64), 9)
        m = self._maps[i] if self.mode == "aligned" else None
        extra = b"" if m is None or m.residual is None else m.residual.key()
        return hashlib.sha256(H.tobytes() + extra).hexdigest()[:16]

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
        fill = tuple(float(c) for c in img.reshape(-1, 3).mean(0))
        m = self._maps[i]
        if m is not None:
            out, valid = m.warp_image_to_ref(img, self._aligned_canvas(), geometry="work", fill=fill)
            return Frame(i, v.id, out, valid, self._H[i].copy(), True)
        H_f_from_w = compose(self._H[i], scale_between(v.work_size, v.size))
        out, valid = warp_image(img, H_f_from_w, self.frame_size(i), fill)
        return Frame(i, v.id, out, valid, self._H[i].copy(), False)

    def points_to_frame(self, i: int, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) original-pixel points of view ``i`` to (N, 2) frame pixels."""
        m = self._maps[i] if self.mode == "aligned" else None
        if m is not None:
            return m.to_ref(points, "orig", self.canvas)
        return apply_h(self.H_frame_from_orig(i), points)

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
        vm = self._maps[i]
        if vm is not None:
            out, _ = vm.warp_to_ref(m, self.canvas, geometry="orig")
        else:
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

        Convention: the frame-to-photo map is the inverse of the view's map onto the
        canvas; the soft mask is interpolated bilinearly (pass probabilities, not
        thresholded masks).
        """
        v = self.views[i]
        if self.mode != "aligned":
            p = resize_prob(np.asarray(prob, dtype=np.float32), v.work_size)
            return np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8), None
        vm = self._maps[i]
        if vm is not None:
            p, valid = vm.warp_from_ref(np.asarray(prob, dtype=np.float32), self.canvas, geometry="work")
        else:
            H_w_from_f = compose(scale_between(v.size, v.work_size), invert(self._H[i]))
            p, valid = warp_prob(np.asarray(prob, dtype=np.float32), H_w_from_f, v.work_size)
        u8 = np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8)
        return u8, (None if valid.all() else valid)


def pseudo_video(project: Project, mode: str = "unaligned") -> PseudoVideo:
    """The frames trackers see, in pseudo-video order (see :class:`PseudoVideo`)."""
    return PseudoVideo(project, mode)
