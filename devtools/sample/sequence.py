"""The sample on disk: :class:`SampleObject`, :class:`SampleSequence` and mask warping.

Convention:
    Pixel ``(x, y)``, origin at the top-left of the pixel grid, pixel centres
    at integer coordinates (OpenCV).  Sizes are ``(width, height)``; arrays are
    ``(height, width[, channels])``; colour images are RGB ``uint8``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devtools.sample.errors import SampleFormatError, SampleValueError

__all__ = ["SAMPLE_OBJECTS", "SampleObject", "SampleSequence"]


@dataclass(frozen=True)
class SampleObject:
    """A painted object of the sample panel.

    Convention:
        ``id`` is the key of :attr:`SampleSequence.panel_masks` and the folder
        name under ``ground_truth/masks/``.

    Attributes:
        id: object id, ``1..3``; the key of the masks.
        name: short English name (``"figure"``, ``"rosette"``, ``"lacuna"``).
    """

    id: int
    name: str


SAMPLE_OBJECTS: tuple[SampleObject, ...] = (
    SampleObject(1, "figure"),
    SampleObject(2, "rosette"),
    SampleObject(3, "lacuna"),
)


@dataclass(frozen=True, eq=False)
class SampleSequence:
    """A sample sequence on disk with its ground truth.

    Convention:
        Pixel ``(x, y)``, origin at the top-left of the pixel grid, pixel
        centres at integer coordinates (OpenCV).  Sizes are ``(width, height)``.
        ``H_view_from_panel[name] @ (x, y, 1)`` gives the view pixel of panel
        pixel ``(x, y)`` (after dividing by the third coordinate).

    Attributes:
        photos_dir: folder holding the photos (and nothing else).
        panel_size: ``(width, height)`` of the panel (the reference plane), pixels.
        H_view_from_panel: photo file name -> ``(3, 3)`` ``float64`` homography.
            Its keys are in file-name order, which is the order of the
            viewpoints along the wall (left to right).
        objects: the painted objects, ids ``1..3``.
        panel_masks: object id -> ``(H_panel, W_panel)`` ``bool`` mask on the
            panel.  Masks of different objects are disjoint.
        view_sizes: photo file name -> ``(width, height)`` of that photo.
        occluder_masks: photo file name -> ``(H_view, W_view)`` ``bool`` mask
            of the occluder in front of the wall, for the occluded photos only.
        ground_truth_dir: folder holding ``panel.png``, masks and
            ``homographies.json``.
    """

    photos_dir: Path
    panel_size: tuple[int, int]
    H_view_from_panel: dict[str, np.ndarray]
    objects: tuple[SampleObject, ...]
    panel_masks: dict[int, np.ndarray]
    view_sizes: dict[str, tuple[int, int]]
    occluder_masks: dict[str, np.ndarray]
    ground_truth_dir: Path

    @property
    def view_names(self) -> list[str]:
        """Photo file names in wall order (= file-name order), e.g. ``["IMG_0101.jpg", ...]``.

        Convention:
            ``IMG_0101.jpg`` is the leftmost camera position; names are the
            keys of :attr:`H_view_from_panel`, :attr:`view_sizes`.
        """
        return list(self.H_view_from_panel)

    def photo_path(self, name: str) -> Path:
        """Path of photo ``name`` (a file name such as ``"IMG_0101.jpg"``).

        Convention:
            ``name`` is a bare file name, a key of :attr:`H_view_from_panel`.
        """
        self._check_view(name)
        return self.photos_dir / name

    def read_photo(self, name: str) -> np.ndarray:
        """Read photo ``name``.

        Convention:
            RGB channel order (not OpenCV's BGR); pixel ``(x, y)`` is ``img[y, x]``.

        Returns:
            ``(H_view, W_view, 3)`` ``uint8`` RGB image.
        """
        path = self.photo_path(name)
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise SampleFormatError(f"cannot read photo {path}; regenerate the sample")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def read_panel(self) -> np.ndarray:
        """Read the clean panel image ``ground_truth/panel.png``.

        Convention:
            RGB channel order; panel pixel ``(x, y)`` is ``img[y, x]``; this is
            the reference plane of :attr:`H_view_from_panel`.

        Returns:
            ``(H_panel, W_panel, 3)`` ``uint8`` RGB image.
        """
        path = self.ground_truth_dir / "panel.png"
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise SampleFormatError(f"cannot read {path}; regenerate the sample")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def view_mask(self, name: str, obj_id: int) -> np.ndarray:
        """Mask of object ``obj_id`` in photo ``name``: the panel mask warped into the view.

        Convention:
            Warped with ``cv2.warpPerspective`` (bilinear on 0/255, then
            ``>= 128``), so a view pixel centre ``p`` is in the mask when
            ``H^-1 p`` falls inside the panel mask.  The occluder does NOT cut
            the mask: it is where the object is on the wall, seen or hidden.
            These are exactly the masks written to
            ``ground_truth/masks/<obj_id>/<stem>.png``.

        Returns:
            ``(H_view, W_view)`` ``bool`` mask.
        """
        self._check_view(name)
        if obj_id not in self.panel_masks:
            known = sorted(self.panel_masks)
            raise SampleValueError(f"unknown object id {obj_id!r}; known ids: {known}")
        return _warp_mask(self.panel_masks[obj_id], self.H_view_from_panel[name], self.view_sizes[name])

    def occluder_mask(self, name: str) -> np.ndarray:
        """Occluder mask of photo ``name``; all ``False`` when the photo has no occluder.

        Convention:
            ``True`` where something in front of the wall hides it (alpha of the
            rendered occluder ``>= 0.5``); pixel ``(x, y)`` is ``mask[y, x]``.

        Returns:
            ``(H_view, W_view)`` ``bool`` mask.
        """
        self._check_view(name)
        if name in self.occluder_masks:
            return self.occluder_masks[name].copy()
        w, h = self.view_sizes[name]
        return np.zeros((h, w), dtype=bool)

    def panel_coverage(self, name: str) -> np.ndarray:
        """Where the panel is in photo ``name`` (occluders ignored).

        Convention:
            The all-ones panel mask warped like :meth:`view_mask`; pixel
            ``(x, y)`` is ``mask[y, x]``.

        Returns:
            ``(H_view, W_view)`` ``bool`` mask.
        """
        self._check_view(name)
        w, h = self.panel_size
        return _warp_mask(np.ones((h, w), dtype=bool), self.H_view_from_panel[name], self.view_sizes[name])

    def project(self, name: str, points: np.ndarray) -> np.ndarray:
        """Map panel points into photo ``name``.

        Convention:
            ``(x, y)`` pixels, pixel centres at integer coordinates, on both
            sides; ``p_view ~ H_view_from_panel[name] @ (x, y, 1)``.

        Args:
            points: ``(N, 2)`` panel pixels ``(x, y)``.

        Returns:
            ``(N, 2)`` ``float64`` view pixels ``(x, y)``.
        """
        self._check_view(name)
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        hom = np.column_stack([pts, np.ones(len(pts))]) @ self.H_view_from_panel[name].T
        return hom[:, :2] / hom[:, 2:3]

    def _check_view(self, name: str) -> None:
        if name not in self.H_view_from_panel:
            raise SampleValueError(f"unknown photo {name!r}; known photos: {', '.join(self.H_view_from_panel)}")


def _warp_mask(mask: np.ndarray, H: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp a ``(h, w)`` bool mask by ``H`` into a ``size=(width, height)`` bool mask."""
    src = mask.astype(np.uint8) * 255
    out = cv2.warpPerspective(
        src, H, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return out >= 128
