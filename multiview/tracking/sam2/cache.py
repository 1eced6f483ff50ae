"""Backbone-feature cache: each view is encoded by SAM 2's image encoder once.

Only the image encoder is expensive (seconds per frame on CPU; the mask decoder
takes tens of milliseconds), and sam2 keeps the features of a single frame, so
every pass and every correction re-encodes. :class:`FeatureCache` keeps the
encoder's output per view in memory (LRU, byte budget) and on disk inside the
project (``cache/sam2/features``, byte budget, least recently used files removed
first), so a correction, a new object or a new process never re-encodes a view
that was already encoded.

Entries are keyed by the frame's identity (view content hash, working size,
frame mode and geometry) and the model identity (model name, checkpoint
fingerprint, image size, precision, device type). Features are stored exactly
(no lossy compression) and every path hands the model the same tensors: the
encoder's output is brought to one canonical form (:func:`canonical`: detached,
dense row-major) *before* it is used, cached or saved, and whatever comes back
from memory or disk is in that form too. The image encoder returns some levels
in channels-last layout, and PyTorch's CPU kernels sum in a layout-dependent
order, so without this a feature reloaded from disk (saved row-major) gave masks
1 ulp away from the freshly encoded one. With it, results with and without the
cache, in this process or a new one, are bit-identical (on one machine and
thread count: the encoder itself is not bit-reproducible across CPUs).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import atomic

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

IMG_MEAN = (0.485, 0.456, 0.406)
IMG_STD = (0.229, 0.224, 0.225)
DEFAULT_MEMORY_MB = 128
DEFAULT_DISK_MB = 4096


def canonical(feats: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Features in the one form every path uses: detached, contiguous (row-major, NCHW).

    Args:
        feats: the encoder's feature pyramid, (1, C_l, H_l, W_l) tensors of any layout.

    Returns:
        The same values as new row-major tensors (no copy when already row-major).
    """
    return [t.detach().contiguous() for t in feats]


def feature_key(frame_key: str, model_key: str) -> str:
    """Cache key (hex) of one frame under one model configuration."""
    return hashlib.sha256(f"{frame_key}|{model_key}".encode()).hexdigest()


class FeatureCache:
    """Backbone features in memory (LRU) and on disk, each within a byte budget.

    Args:
        directory: folder for the disk cache, or None for memory only.
        memory_mb: budget of the in-memory part, MiB (0 disables it).
        disk_mb: budget of the disk part, MiB (0 disables it).

    Entries are lists of tensors (the encoder's feature pyramid).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        memory_mb: float = DEFAULT_MEMORY_MB,
        disk_mb: float = DEFAULT_DISK_MB,
    ) -> None:
        self.directory = Path(directory) if directory is not None and disk_mb > 0 else None
        self.memory_budget = int(memory_mb * 2**20)
        self.disk_budget = int(disk_mb * 2**20)
        self._mem: OrderedDict[str, tuple[list[torch.Tensor], int]] = OrderedDict()
        self._mem_bytes = 0
        self._disk_bytes: int | None = None
        self.hits_memory = self.hits_disk = self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.pt"

    def get(self, key: str, device: torch.device | str) -> list[torch.Tensor] | None:
        """The cached features of ``key`` on ``device``, or None."""
        import torch

        item = self._mem.get(key)
        if item is not None:
            self._mem.move_to_end(key)
            self.hits_memory += 1
            return [t.to(device) for t in item[0]]
        if self.directory is not None:
            p = self._path(key)
            if p.is_file():
                try:
                    feats = torch.load(p, map_location="cpu", weights_only=True)
                    os.utime(p)
                except Exception as exc:  # damaged file: drop it and recompute
                    log.warning("dropping damaged feature cache file %s (%s)", p, exc)
                    p.unlink(missing_ok=True)
                else:
                    self.hits_disk += 1
                    feats = canonical(t.to(device) for t in feats)
                    self._remember(key, feats)
                    return feats
        self.misses += 1
        return None

    def put(self, key: str, feats: Sequence[torch.Tensor]) -> None:
        """Store features under ``key`` (memory and disk), in :func:`canonical` form."""
        import torch

        feats = canonical(feats)
        self._remember(key, feats)
        if self.directory is None:
            return
        p = self._path(key)
        cpu = [t.to("cpu") for t in feats]
        atomic.write_with(p, lambda f: torch.save(cpu, f))
        size = p.stat().st_size
        if self._disk_bytes is None:
            self._disk_bytes = sum(f.stat().st_size for f in self.directory.rglob("*.pt"))
        else:
            self._disk_bytes += size
        if self._disk_bytes > self.disk_budget:
            self._trim_disk(keep=p)

    def _remember(self, key: str, feats: list[torch.Tensor]) -> None:
        if self.memory_budget <= 0:
            return
        nbytes = sum(t.numel() * t.element_size() for t in feats)
        if key in self._mem:
            return
        self._mem[key] = (feats, nbytes)
        self._mem_bytes += nbytes
        while self._mem_bytes > self.memory_budget and len(self._mem) > 1:
            _, (_, n) = self._mem.popitem(last=False)
            self._mem_bytes -= n

    def _trim_disk(self, keep: Path) -> None:
        assert self.directory is not None
        files = sorted(self.directory.rglob("*.pt"), key=lambda f: f.stat().st_mtime_ns)
        total = sum(f.stat().st_size for f in files)
        for f in files:
            if total <= self.disk_budget:
                break
            if f == keep:
                continue
            total -= f.stat().st_size
            f.unlink(missing_ok=True)
        self._disk_bytes = total

    @property
    def memory_bytes(self) -> int:
        return self._mem_bytes

    def clear_memory(self) -> None:
        self._mem.clear()
        self._mem_bytes = 0


class FeatureProvider:
    """Image features of the frames of one pseudo-video for one predictor.

    Frames are decoded only on a cache miss, preprocessed exactly like sam2's
    JPEG loader (Pillow bicubic resize to ``S x S``, scale to 0..1, ImageNet
    mean/std) and encoded under the session's autocast setting.

    Args:
        predictor: the SAM 2 model.
        frame_image: ``frame_image(i)`` -> (h, w, 3) uint8 RGB frame ``i``.
        frame_key: ``frame_key(i)`` -> string identifying frame ``i``'s pixels.
        model_key: string identifying the model configuration.
        cache: feature cache shared between sessions.
        autocast: context-manager factory applied around the encoder.
    """

    def __init__(
        self,
        predictor: Any,
        frame_image: Callable[[int], np.ndarray],
        frame_key: Callable[[int], str],
        model_key: str,
        cache: FeatureCache,
        autocast: Callable[[], AbstractContextManager[Any]],
    ) -> None:
        self.predictor = predictor
        self.frame_image = frame_image
        self.frame_key = frame_key
        self.model_key = model_key
        self.cache = cache
        self.autocast = autocast
        self._keys: dict[int, str] = {}
        self._pos: list[torch.Tensor] | None = None
        self.encoded = 0

    def key(self, i: int) -> str:
        k = self._keys.get(i)
        if k is None:
            k = self._keys[i] = feature_key(self.frame_key(i), self.model_key)
        return k

    def image_tensor(self, i: int) -> torch.Tensor:
        """(1, 3, S, S) float32 normalised model input of frame ``i`` on the model's device."""
        return preprocess(self.frame_image(i), self.predictor.image_size, self.predictor.device)

    def backbone(self, i: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(fpn, pos)``: the encoder's feature pyramid of frame ``i`` (batch 1) and its position encodings."""
        import torch

        key = self.key(i)
        fpn = self.cache.get(key, self.predictor.device)
        if fpn is None:
            with torch.inference_mode(), self.autocast():
                out = self.predictor.forward_image(self.image_tensor(i))
            # the model computes with exactly what a later cache hit returns
            fpn = canonical(out["backbone_fpn"])
            self.encoded += 1
            self.cache.put(key, fpn)
            if self._pos is None:
                self._pos = canonical(out["vision_pos_enc"])
        if self._pos is None:
            neck = self.predictor.image_encoder.neck
            with torch.inference_mode():
                self._pos = canonical(neck.position_encoding(f).to(f.dtype) for f in fpn)
        return fpn, self._pos


def preprocess(image: np.ndarray, size: int, device: torch.device | str) -> torch.Tensor:
    """sam2's frame preprocessing for an in-memory RGB image.

    Args:
        image: (h, w, 3) uint8 RGB.
        size: model input size S.

    Returns:
        (1, 3, S, S) float32 tensor, ImageNet-normalised.
    """
    import torch
    from PIL import Image

    arr = np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((size, size)), dtype=np.float64) / 255.0
    t = torch.from_numpy(arr).permute(2, 0, 1).float()
    mean = torch.tensor(IMG_MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(IMG_STD, dtype=torch.float32)[:, None, None]
    t = (t - mean) / std
    return t.unsqueeze(0).to(device)
