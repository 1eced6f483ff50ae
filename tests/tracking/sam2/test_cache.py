"""The feature cache hands the model the same tensors on every path (miss, memory hit, disk hit)."""

from __future__ import annotations

import torch

from multiview.tracking.sam2.cache import FeatureCache, canonical


def pyramid() -> list[torch.Tensor]:
    """Features laid out like the image encoder's: one row-major level, two channels-last ones."""
    g = torch.Generator().manual_seed(0)
    levels = [torch.randn(1, 8, 16, 16, generator=g), torch.randn(1, 16, 8, 8, generator=g)]
    levels.append(torch.randn(1, 32, 4, 4, generator=g).to(memory_format=torch.channels_last))
    levels[1] = levels[1].to(memory_format=torch.channels_last)
    return levels


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(x.stride() == y.stride() and x.dtype == y.dtype and torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_memory_and_disk_hits_return_the_canonical_tensors(tmp_path):
    feats = pyramid()
    want = canonical(feats)
    assert all(t.is_contiguous() for t in want) and any(not t.is_contiguous() for t in feats)
    cache = FeatureCache(tmp_path / "f", memory_mb=1)
    cache.put("k", feats)
    assert same(cache.get("k", "cpu"), want)  # memory
    fresh = FeatureCache(tmp_path / "f", memory_mb=0)  # a new process: disk only
    assert same(fresh.get("k", "cpu"), want)
    assert fresh.hits_disk == 1 and cache.hits_memory == 1


def test_canonical_keeps_values_and_dtype():
    feats = [t.to(torch.bfloat16) for t in pyramid()]
    out = canonical(feats)
    assert all(torch.equal(a, b) and b.dtype == torch.bfloat16 and b.is_contiguous() for a, b in zip(feats, out))
