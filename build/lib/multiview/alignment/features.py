"""Local features (SIFT on contrast-equalised grey levels) and their per-project cache.

Weight-free only: OpenCV SIFT, no learned detector or descriptor. Descriptors are
RootSIFT (L1-normalised, square-rooted), which matches better than raw SIFT
with the same L2 nearest-neighbour search.

Convention:
    Keypoint coordinates are stored in the *original* pixels of the photo
    (``(x, y)``, pixel centres at integers), whatever resolution the detector ran
    at, so matches can go straight into ``H_ref_from_view`` estimates.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from ..geometry import apply_h
from ..loading import read_photo
from ..raster import scale_between

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project, View

log = logging.getLogger(__name__)

#: Longer side of the image the detector sees (pixels); larger photos are downscaled first.
FEATURE_MAX_SIDE = 1600
#: Most keypoints kept per view (strongest first).
MAX_FEATURES = 8000
_CACHE_VERSION = 2


@dataclass(frozen=True)
class Features:
    """Keypoints and descriptors of one image.

    Attributes:
        xy: (N, 2) float32 keypoint positions, original-photo pixels.
        scale: (N,) float32 keypoint size (diameter), original-photo pixels.
        angle: (N,) float32 orientation, degrees.
        desc: (N, 128) float32 RootSIFT descriptors (unit L2 norm).
            Rows are sorted by decreasing detector response.
        size: ``(w, h)`` of the original photo.
    """

    xy: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    desc: np.ndarray
    size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.xy)

    def strongest(self, k: int) -> Features:
        """The ``k`` strongest keypoints (features are stored strongest first)."""
        if k >= len(self):
            return self
        return Features(self.xy[:k], self.scale[:k], self.angle[:k], self.desc[:k], self.size)


def to_grey(image: np.ndarray, *, clahe: bool = True) -> np.ndarray:
    """Contrast-equalised grey levels for matching under changing light.

    Args:
        image: (h, w, 3) uint8 RGB or (h, w) uint8.
        clahe: apply CLAHE (tiles of about 128 px) to even out lighting differences.

    Returns:
        (h, w) uint8.
    """
    import cv2

    g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else np.asarray(image, np.uint8)
    if clahe:
        tiles = max(2, min(16, round(max(g.shape) / 128)))
        g = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(tiles, tiles)).apply(g)
    return g


def root_sift(desc: np.ndarray) -> np.ndarray:
    """RootSIFT: L1-normalise, square-root (result has unit L2 norm). (N, 128) float32."""
    d = np.asarray(desc, dtype=np.float32)
    d = d / np.maximum(d.sum(axis=1, keepdims=True), 1e-7)
    return np.sqrt(d)


def detect(
    grey: np.ndarray,
    *,
    max_features: int = MAX_FEATURES,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run SIFT on a grey image.

    Args:
        grey: (h, w) uint8.
        max_features: keep at most this many keypoints (strongest response first).
        mask: optional (h, w) uint8/bool, non-zero where keypoints may lie.

    Returns:
        ``(xy, size, angle, desc)``: (N, 2), (N,), (N,) float32 in the pixels of ``grey``,
        and (N, 128) float32 RootSIFT.
    """
    import cv2

    sift = cv2.SIFT_create(  # type: ignore[attr-defined]  # opencv-python stubs omit SIFT_create
        nfeatures=max_features, contrastThreshold=0.02
    )
    m = None if mask is None else (np.asarray(mask) > 0).astype(np.uint8) * 255
    kps, desc = sift.detectAndCompute(grey, m)
    if desc is None or not kps:
        return (
            np.zeros((0, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, 128), np.float32),
        )
    resp = np.array([k.response for k in kps], dtype=np.float32)
    order = np.lexsort((np.arange(len(kps)), -resp))
    kps = [kps[i] for i in order]
    desc = desc[order]
    xy = np.array([k.pt for k in kps], dtype=np.float32)
    size = np.array([k.size for k in kps], dtype=np.float32)
    angle = np.array([k.angle for k in kps], dtype=np.float32)
    return xy, size, angle, root_sift(desc)


def extract_features(
    image: np.ndarray,
    orig_size: tuple[int, int] | None = None,
    *,
    max_side: int = FEATURE_MAX_SIDE,
    max_features: int = MAX_FEATURES,
) -> Features:
    """Detect features on an RGB image and express them in original-photo pixels.

    Args:
        image: (h, w, 3) uint8 RGB (any resolution of the photo, e.g. its working copy).
        orig_size: ``(w, h)`` of the original photo; default the image's own size.
        max_side: the image is downscaled (area interpolation) so its longer side is at most this.
        max_features: keypoint budget.
    """
    import cv2

    h, w = image.shape[:2]
    orig_size = orig_size or (w, h)
    s = min(1.0, max_side / max(w, h))
    if s < 1.0:
        image = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    grey = to_grey(image)
    xy, size, angle, desc = detect(grey, max_features=max_features)
    S = scale_between((grey.shape[1], grey.shape[0]), orig_size)
    xy_o = apply_h(S, xy).astype(np.float32) if len(xy) else xy
    # Rounded to float16 like the cache, so fresh and cached features give identical results.
    desc = desc.astype(np.float16).astype(np.float32)
    return Features(xy_o, (size * S[0, 0]).astype(np.float32), angle, desc, (int(orig_size[0]), int(orig_size[1])))


def _cache_key(view: View, max_side: int, max_features: int) -> str:
    h = hashlib.sha1(f"{view.sha256}:{max_side}:{max_features}:{_CACHE_VERSION}".encode()).hexdigest()[:16]
    return f"{Path(view.id).stem}-{h}.npz"


def view_features(
    project: Project,
    view: View,
    *,
    max_side: int = FEATURE_MAX_SIDE,
    max_features: int = MAX_FEATURES,
    image: np.ndarray | None = None,
) -> Features:
    """Features of a view, computed once and cached in ``cache/features/``.

    The cache file name carries the photo's content hash and the parameters, so a
    changed photo or setting is never served stale data.

    Args:
        image: the view's working copy if the caller already decoded it.
    """
    path = project.cache_dir("features") / _cache_key(view, max_side, max_features)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return Features(
                    z["xy"],
                    z["scale"],
                    z["angle"],
                    z["desc"].astype(np.float32),
                    (int(z["size"][0]), int(z["size"][1])),
                )
        except (OSError, ValueError, KeyError):
            log.warning("feature cache %s is damaged; recomputing", path.name)
    if image is None:
        image = read_photo(view.path, max_side=max(max_side, 64))
    f = extract_features(image, view.size, max_side=max_side, max_features=max_features)
    atomic.write_npz(path, xy=f.xy, scale=f.scale, angle=f.angle, desc=f.desc.astype(np.float16), size=np.array(f.size))
    log.debug("features of %s: %d keypoints", view.id, len(f))
    return f
