"""Frame sources for a SAM 2 session: images on request, never a folder of JPEGs.

A frame source gives the session, for each index of the pseudo-video, the RGB
frame (decoded only when the image encoder needs it), its size and a key that
identifies its pixels (for the feature cache).

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
    """What a session needs from a pseudo-video."""

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


class VideoFrames:
    """Frames of a project's :class:`~multiview.alignment.frames.PseudoVideo` (lazy).

    The key of a frame is derived from the view's content hash, its working size,
    the frame mode and the frame geometry (``H_frame_from_orig``, frame size), so it
    changes whenever the pixels the model sees can change.
    """

    def __init__(self, video: PseudoVideo) -> None:
        self.video = video

    def __len__(self) -> int:
        return len(self.video)

    def image(self, i: int) -> np.ndarray:
        return self.video[i].image

    def size(self, i: int) -> tuple[int, int]:
        return tuple(self.video.frame_size(i))  # type: ignore[return-value]

    def key(self, i: int) -> str:
        v = self.video.views[i]
        H = np.round(np.asarray(self.video.H_frame_from_orig(i), dtype=np.float64), 9)
        h = hashlib.sha256(H.tobytes()).hexdigest()[:16]
        w_, h_ = self.size(i)
        return f"{v.sha256}|{v.work_width}x{v.work_height}|{self.video.mode}|{w_}x{h_}|{h}"


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
            return tuple(self.sizes[i])  # type: ignore[return-value]
        img = self.image(i)
        return img.shape[1], img.shape[0]

    def key(self, i: int) -> str:
        if self.keys is not None:
            return self.keys[i]
        img = np.ascontiguousarray(self.image(i))
        return hashlib.sha256(img.tobytes() + str(img.shape).encode()).hexdigest()
