"""Frame sources for a SAM 2 session: images on request, never a folder of JPEGs.

A frame source gives the session, for each index of the pseudo-video, the RGB
frame (decoded only when the image encoder needs it), its size and a key that
identifies its pixels (for the feature cache) (:class:`FrameSource`). A source over a
project's views (:class:`VideoFrames`) also maps each view's prompts into its frame
and the session's masks back to the view (:class:`ViewFrameSource`).

Convention:
    Frame pixels: ``(x, y)``, origin top-left, pixel centres at integer
    coordinates; sizes are ``(width, height)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ...alignment.frames import PseudoVideo


class FrameSource(Protocol):
    """What a session needs from a pseudo-video: frames, their sizes and pixel keys."""

    def __len__(self) -> int: ...

    def image(self, i: int) -> np.ndarray:
        """(h, w, 3) uint8 RGB frame ``i``."""
        ...

    def size(self, i: int) -> tuple[int, int]:
        """``(w, h)`` of frame ``i``."""
        ...

    def key(self, i: int) -> str:
        """String identifying the pixels of frame ``i``."""
        ...


class ViewFrameSource(FrameSource, Protocol):
    """A frame source over a project's views: frame ``i`` shows view ``view_ids[i]``.

    Besides the frames it maps a view's prompts (original-photo pixels) into its frame
    and the session's soft masks back to the view's working geometry.
    """

    @property
    def view_ids(self) -> tuple[str, ...]:
        """View id of each frame, in pseudo-video order."""
        ...

    def index_of(self, view: str) -> int:
        """Frame index of a view (file name or stem)."""
        ...

    def points_to_frame(self, i: int, points: np.ndarray) -> np.ndarray:
        """(N, 2) original-photo points of frame ``i``'s view to (N, 2) frame pixels."""
        ...

    def mask_to_frame(self, i: int, mask: np.ndarray) -> np.ndarray:
        """(H, W) original-size mask of frame ``i``'s view to an (h, w) float32 0..1 frame raster."""
        ...

    def to_view(self, i: int, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(h, w) float32 0..1 frame raster to the view's working geometry: ``(uint8 prob, valid or None)``."""
        ...


class VideoFrames:
    """Frames of a project's :class:`~multiview.alignment.frames.PseudoVideo` (lazy); a :class:`ViewFrameSource`.

    The key of a frame is derived from the view's content hash, its working size,
    the frame mode and the frame geometry (:meth:`PseudoVideo.frame_key`, frame size),
    so it changes whenever the pixels the model sees can change.
    """

    def __init__(self, video: PseudoVideo) -> None:
        self.video = video

    def __len__(self) -> int:
        return len(self.video)

    def image(self, i: int) -> np.ndarray:
        return self.video[i].image

    def size(self, i: int) -> tuple[int, int]:
        return self.video.frame_size(i)

    def key(self, i: int) -> str:
        v = self.video.views[i]
        w_, h_ = self.size(i)
        return f"{v.sha256}|{v.work_width}x{v.work_height}|{self.video.mode}|{w_}x{h_}|{self.video.frame_key(i)}"

    @property
    def view_ids(self) -> tuple[str, ...]:
        return self.video.view_ids

    def index_of(self, view: str) -> int:
        return self.video.index_of(view)

    def points_to_frame(self, i: int, points: np.ndarray) -> np.ndarray:
        return self.video.points_to_frame(i, points)

    def mask_to_frame(self, i: int, mask: np.ndarray) -> np.ndarray:
        return self.video.mask_to_frame(i, mask)

    def to_view(self, i: int, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self.video.to_view(i, prob)


@dataclass(frozen=True)
class ArrayFrames:
    """Frames given as in-memory arrays or as callables that produce them (tests, benchmarks).

    Attributes:
        frames: per frame, an (h, w, 3) uint8 RGB array or a zero-argument callable returning one.
        sizes: per frame ``(w, h)``; needed only when ``frames`` holds callables.
        keys: per frame key; default the sha256 of the array's bytes.
    """

    frames: Sequence[np.ndarray | Callable[[], np.ndarray]]
    sizes: Sequence[tuple[int, int]] | None = None
    keys: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def image(self, i: int) -> np.ndarray:
        f = self.frames[i]
        return f() if callable(f) else f

    def size(self, i: int) -> tuple[int, int]:
        if self.sizes is not None:
            w, h = self.sizes[i]
            return int(w), int(h)
        img = self.image(i)
        return img.shape[1], img.shape[0]

    def key(self, i: int) -> str:
        if self.keys is not None:
            return self.keys[i]
        img = np.ascontiguousarray(self.image(i))
        return hashlib.sha256(img.tobytes() + str(img.shape).encode()).hexdigest()
