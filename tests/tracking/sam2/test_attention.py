"""The blocked bf16 attention kernel against torch's fused attention, and its use in the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sam2_helpers import blob_frames

from multiview.tracking.sam2 import attention
from multiview.tracking.sam2.frames import ArrayFrames
from multiview.tracking.sam2.session import Sam2Session
from multiview.tracking.sam2.speed import PRESETS, SpeedSettings


def qkv(lead=(1, 2), lq=300, lk=333, d=64, dv=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(*lead, lq, d, generator=g),
        torch.randn(*lead, lk, d, generator=g),
        torch.randn(*lead, lk, dv, generator=g),
    )


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


@pytest.mark.parametrize("max_chunk_bytes", [attention.DEFAULT_MAX_CHUNK_BYTES, 1])
def test_blocked_attention_is_attention(max_chunk_bytes):
    """In fp32 the blocking (query blocks, and key chunks with online softmax) changes only rounding."""
    q, k, v = qkv()
    ref = F.scaled_dot_product_attention(q, k, v)
    got = attention.blocked_attention(q, k, v, block_q=128, max_chunk_bytes=max_chunk_bytes)
    assert got.shape == ref.shape and got.dtype == torch.float32
    torch.testing.assert_close(got, ref, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("max_chunk_bytes", [attention.DEFAULT_MAX_CHUNK_BYTES, 1])
def test_bf16_error_is_the_size_of_bf16_rounding(max_chunk_bytes):
    """bf16 GEMMs with an fp32 softmax: error within bf16's own (2^-8 relative), like torch's bf16 kernel."""
    q, k, v = qkv(lq=512, lk=700, d=64, dv=64)
    qb, kb, vb = (t.bfloat16() for t in (q, k, v))
    ref = F.scaled_dot_product_attention(*(t.float() for t in (qb, kb, vb)))  # fp32 on the same inputs
    got = attention.blocked_attention(qb, kb, vb, max_chunk_bytes=max_chunk_bytes)
    torch_bf16 = F.scaled_dot_product_attention(qb, kb, vb)
    assert got.dtype == torch.bfloat16
    assert rel_l2(got, ref) < 1e-2
    assert rel_l2(got, ref) < 3 * rel_l2(torch_bf16, ref) + 1e-3


def test_shapes_are_checked():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="do not fit"):
        attention.blocked_attention(q, k[..., :10, :], v)
    with pytest.raises(ValueError, match="empty set of keys"):
        attention.blocked_attention(q, k[..., :0, :], v[..., :0, :])
    with pytest.raises(ValueError, match="unknown"):
        with attention.attention_kernel("flash9"):
            pass


def test_kernel_modules_are_installed_and_default_to_sam2s_code(predictor):
    mods = [m for m in predictor.modules() if isinstance(m, attention.KernelRoPEAttention)]
    assert len(mods) == 8  # 4 memory-attention layers x (self, cross)
    assert sum(isinstance(m, attention.KernelMultiScaleAttention) for m in predictor.modules()) == 3
    assert attention.current_kernel() == "sdpa"
    mod = mods[1]  # a cross-attention: 64-channel keys, object-pointer tokens without rotary encoding
    g = torch.Generator().manual_seed(1)
    q = torch.randn(1, 256, 256, generator=g)
    k = torch.randn(1, 2 * 256 + 4, 64, generator=g)
    with torch.inference_mode():
        ours = mod(q, k.clone(), k.clone(), num_k_exclude_rope=4)
        mod.__class__ = attention.RoPEAttention
        try:
            stock = mod(q, k.clone(), k.clone(), num_k_exclude_rope=4)
        finally:
            mod.__class__ = attention.KernelRoPEAttention
        with torch.autocast("cpu", dtype=torch.bfloat16), attention.attention_kernel("blocked"):
            fast = mod(q, k.clone(), k.clone(), num_k_exclude_rope=4)
    assert torch.equal(ours, stock)  # default kernel: sam2's own computation, bit for bit
    assert fast.dtype == torch.bfloat16 and rel_l2(fast, stock) < 2e-2


def test_bf16_engine_uses_the_kernel_and_stays_within_iou_099_of_fp32(predictor, monkeypatch):
    """The equivalence sequence (5 frames, click on the middle one) in bf16 vs fp32."""
    calls = []
    real = attention.blocked_attention

    def counting(*a, **kw):
        calls.append(a[0].shape)
        return real(*a, **kw)

    monkeypatch.setattr(attention, "blocked_attention", counting)
    frames = ArrayFrames(blob_frames(5))
    masks = {}
    for name, speed in (("fp32", PRESETS["exact"]), ("bf16", SpeedSettings("custom", precision="bf16"))):
        sess = Sam2Session(predictor, frames, speed=speed)
        sess.add_points(1, 2, [(80.0, 60.0)], [1])
        masks[name] = {m.frame: m.prob > 0.5 for m in sess.propagate()}
        if name == "fp32":
            assert not calls  # exact never takes the bf16 kernel
    assert calls  # memory attention and encoder global attention went through the blocked kernel
    for f, a in masks["fp32"].items():
        assert 0.02 < a.mean() < 0.98, f"frame {f}: fp32 mask is degenerate"
        b = masks["bf16"][f]
        iou = np.logical_and(a, b).sum() / np.logical_or(a, b).sum()
        assert iou >= 0.99, f"frame {f}: IoU {iou:.4f}"


def test_exact_preset_is_the_default_path_bit_for_bit(predictor):
    frames = ArrayFrames(blob_frames(4))
    out = []
    for speed in (None, PRESETS["exact"]):
        sess = Sam2Session(predictor, frames, speed=speed)
        sess.add_points(1, 1, [(70.0, 60.0)], [1])
        out.append({m.frame: m.prob for m in sess.propagate()})
    for f in out[0]:
        np.testing.assert_array_equal(out[0][f], out[1][f])
