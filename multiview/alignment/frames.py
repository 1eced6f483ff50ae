"""Frames of the pseudo-video that trackers see, and the way back to each photo.

Two modes:

* ``"unaligned"``: frame ``i`` is the working copy of view ``i`` (its own size; views
  of one sequence may differ in size).
* ``"aligned"``: every view is warped onto the reference canvas through its
  homography (needs ``multiview align``), so all frames share one size; a validity
  mask marks where the photo has pixels.

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

from ..errors import ValidationError
from ..loading import resize_prob, scale_between

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

MODES = ("unaligned", "aligned")


@dataclass(frozen=True)
class Frame:
    """One frame of the pseudo-video.

    Attributes:
        index: position in the pseudo-video.
        view_id: the view it shows.
        image: (h, w, 3) uint8 RGB.
        valid: (h, w) bool, True where the photo has pixels (all True when unaligned).
        H_frame_from_orig: (3, 3) float64 mapping original photo pixels to frame pixels.
    """

    index: int
    view_id: str
    image: np.ndarray
    valid: np.ndarray
    H_frame_from_orig: np.ndarray


class PseudoVideo:
    """Lazily decoded frames of a project in pseudo-video order.

    Frames are decoded on request and not kept, so memory does not grow with the
    number of views. ``len(video)`` is the number of views; ``video[i]`` a :class:`Frame`.
    """

    def __init__(self, project: "Project", mode: str = "unaligned") -> None:
        if mode not in MODES:
            raise ValidationError(f"frame mode '{mode}' is unknown; use one of {', '.join(MODES)}")
        if mode == "aligned":
            raise ValidationError("aligned frames are not available yet; use mode 'unaligned'")
        self.project = project
        self.mode = mode
        self.views: tuple["View", ...] = project.views
        self.view_ids = tuple(v.id for v in self.views)

    def __len__(self) -> int:
        return len(self.views)

    def index_of(self, view: str) -> int:
        return self.view_ids.index(self.project.view(view).id)

    def frame_size(self, i: int) -> tuple[int, int]:
        """``(w, h)`` of frame ``i``."""
        return self.views[i].work_size

    def H_frame_from_orig(self, i: int) -> np.ndarray:
        """(3, 3) float64 mapping original pixels of view ``i`` to frame pixels."""
        v = self.views[i]
        return scale_between(v.size, v.work_size)

    def __getitem__(self, i: int) -> Frame:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        v = self.views[i]
        img = self.project.working_image(v)
        return Frame(i, v.id, img, np.ones(img.shape[:2], dtype=bool), self.H_frame_from_orig(i))

    def points_to_frame(self, i: int, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) original-pixel points of view ``i`` to (N, 2) frame pixels."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        H = self.H_frame_from_orig(i)
        ph = np.c_[pts, np.ones(len(pts))] @ H.T
        return ph[:, :2] / ph[:, 2:3]

    def mask_to_frame(self, i: int, mask: np.ndarray) -> np.ndarray:
        """Bring an (H, W) original-size mask of view ``i`` to frame geometry: (h, w) float32 0..1."""
        w, h = self.frame_size(i)
        return resize_prob(np.asarray(mask, dtype=np.float32), (w, h))

    def to_view(self, i: int, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Bring a soft mask from frame ``i`` back to the view's working geometry.

        Args:
            prob: (h, w) float32 object probability 0..1 in frame geometry.

        Returns:
            ``(prob_u8, valid)``: (work_h, work_w) uint8 0..255 and a (work_h, work_w)
            bool validity mask, or None when every pixel is known.
        """
        v = self.views[i]
        p = resize_prob(np.asarray(prob, dtype=np.float32), v.work_size)
        return np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8), None


def pseudo_video(project: "Project", mode: str = "unaligned") -> PseudoVideo:
    """The frames trackers see, in pseudo-video order (see :class:`PseudoVideo`)."""
    return PseudoVideo(project, mode)
