"""Attention for SAM 2's memory attention in bf16 at the CPU's matrix-multiply speed.

SAM 2's memory attention (4 layers of RoPE self-attention over the frame's
``(S/16)^2`` tokens and cross-attention to every memory frame's tokens, one head of
256 channels) is more than half of a tracked frame's cost. In fp32, torch's fused CPU
attention kernel runs it near the fp32 matmul peak; in bf16 the same kernel reaches
only about 40 % of the bf16 matmul peak (measured with torch 2.13 on a 2-core
AVX-512-bf16 CPU: about 200 GFLOP/s against 500-900 for a plain bf16 matmul),
so bf16 autocast gains little there.

:func:`blocked_attention` computes the same attention as a few large bf16 GEMMs per
block of queries (the flash-attention scheme of Dao et al. 2022, "FlashAttention:
Fast and Memory-Efficient Exact Attention with IO-Awareness", section 3.1, written
with torch operators):

* ``S = (scale * Q_b) @ K_c^T``: bf16 inputs, fp32 accumulation inside the GEMM;
* ``P = softmax(S)`` row by row, computed in fp32 (torch's softmax upcasts bf16);
* ``O_c = P @ V_c``: bf16 inputs, fp32 accumulation inside the GEMM;
* across key chunks ``c`` (only when a row of ``S`` would exceed ``max_chunk_bytes``),
  the chunks are combined with fp32 running log-sum-exp statistics (online softmax),
  so memory stays bounded however many memory frames there are.

:class:`KernelRoPEAttention` is sam2's ``RoPEAttention`` with the attention call
routed through :func:`attention` (sam2's own ``F.scaled_dot_product_attention``
unless a kernel is selected with :func:`attention_kernel`). The predictor installs it
on its memory-attention layers; with the default kernel (``"sdpa"``) it executes
exactly sam2's code, so results stay bit-identical to the stock predictor.

Convention:
    Tensors are ``(..., L, D)`` as in ``torch.nn.functional.scaled_dot_product_attention``
    (batch and heads first, then tokens, then channels).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import torch
import torch.nn.functional as F
from sam2.modeling.backbones.hieradet import MultiScaleAttention, do_pool
from sam2.modeling.position_encoding import apply_rotary_enc
from sam2.modeling.sam.transformer import RoPEAttention

KERNELS = ("sdpa", "blocked")
#: queries per block: large enough for GEMM efficiency, small enough that a block's scores stay in cache.
DEFAULT_BLOCK_Q = 512
#: bytes of one block of scores (bf16) above which the keys are processed in chunks (online softmax).
DEFAULT_MAX_CHUNK_BYTES = 64 * 2**20

_KERNEL: ContextVar[str] = ContextVar("multiview_sam2_attention_kernel", default="sdpa")


@contextlib.contextmanager
def attention_kernel(kernel: str) -> Iterator[None]:
    """Select the attention kernel of :class:`KernelRoPEAttention` modules in this thread/context.

    Args:
        kernel: ``"sdpa"`` (sam2's own call: torch's fused kernel; bit-identical to the stock
            predictor) or ``"blocked"`` (:func:`blocked_attention` for bf16/fp16 inputs on CPU;
            on other devices torch's fused kernel, which already runs at the matrix units there).

    Raises:
        ValueError: unknown kernel.
    """
    if kernel not in KERNELS:
        raise ValueError(f"attention kernel '{kernel}' is unknown; use one of {', '.join(KERNELS)}")
    token = _KERNEL.set(kernel)
    try:
        yield
    finally:
        _KERNEL.reset(token)


def current_kernel() -> str:
    """The kernel selected by :func:`attention_kernel` in this context (default ``"sdpa"``)."""
    return _KERNEL.get()


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(D)) v`` with the kernel selected in this context.

    Args:
        q: (..., Lq, D); k: (..., Lk, D); v: (..., Lk, Dv); same leading dims.

    Returns:
        (..., Lq, Dv), dtype of ``q``.
    """
    if _KERNEL.get() == "blocked" and q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
        return blocked_attention(q, k, v)
    return F.scaled_dot_product_attention(q, k, v)


def blocked_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    scale: float | None = None,
    block_q: int = DEFAULT_BLOCK_Q,
    max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES,
) -> torch.Tensor:
    """Scaled dot-product attention as blocked GEMMs in the inputs' dtype, softmax in fp32.

    Method: see the module doc (flash-attention's blocked online softmax, Dao et al. 2022).
    No mask, no dropout, no causal option (SAM 2's memory attention uses none).

    Args:
        q: (..., Lq, D) queries; k: (..., Lk, D) keys; v: (..., Lk, Dv) values; same leading
            dims and dtype (bf16 on CPU is what this is for; fp32 works, for tests).
        scale: factor on ``q k^T`` (default ``1 / sqrt(D)``, as torch's SDPA).
        block_q: queries per block.
        max_chunk_bytes: largest block of scores held at once; longer key ranges are split
            into chunks combined by online softmax.

    Returns:
        (..., Lq, Dv) tensor of ``q.dtype``.

    Raises:
        ValueError: shapes that do not fit together, or an empty key set.
    """
    *lead, Lq, D = q.shape
    Lk = k.shape[-2]
    Dv = v.shape[-1]
    if tuple(k.shape) != (*lead, Lk, D) or tuple(v.shape) != (*lead, Lk, Dv):
        raise ValueError(f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} do not fit together")
    if Lk == 0:
        raise ValueError("attention over an empty set of keys")
    dt = q.dtype
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    nb = math.prod(lead) if lead else 1
    with torch.autocast(q.device.type, enabled=False):
        q3 = (q.reshape(nb, Lq, D).float() * scale).to(dt)
        k3 = k.reshape(nb, Lk, D).to(dt)
        v3 = v.reshape(nb, Lk, Dv).to(dt)
        out = torch.empty(nb, Lq, Dv, dtype=dt, device=q.device)
        bq = max(1, min(block_q, Lq))
        esize = torch.finfo(dt).bits // 8
        chunk = max(64, min(Lk, max_chunk_bytes // (bq * esize)))
        # one buffer each for the scores and the probabilities of a block, reused (large
        # fresh allocations cost page faults on every block)
        s_buf = torch.empty(bq * chunk, dtype=dt, device=q.device)
        p_buf = torch.empty_like(s_buf)
        for b in range(nb):
            kt = k3[b].t()
            for i in range(0, Lq, bq):
                n = min(bq, Lq - i)
                if chunk >= Lk:
                    s = s_buf[: n * Lk].view(n, Lk)
                    p = p_buf[: n * Lk].view(n, Lk)
                    torch.mm(q3[b, i : i + n], kt, out=s)
                    torch.softmax(s, dim=-1, out=p)
                    torch.mm(p, v3[b], out=out[b, i : i + n])
                else:
                    out[b, i : i + n] = _online_block(q3[b, i : i + n], k3[b], v3[b], chunk, s_buf, p_buf)
    return out.reshape(*lead, Lq, Dv)


def _online_block(
    qb: torch.Tensor, k: torch.Tensor, v: torch.Tensor, chunk: int, s_buf: torch.Tensor, p_buf: torch.Tensor
) -> torch.Tensor:
    """One block of queries against keys in chunks, combined with fp32 log-sum-exp statistics.

    Per chunk ``c``: ``m_c = max S_c`` and ``P_c = softmax(S_c)``; since the largest entry of
    ``P_c`` is ``1 / sum(exp(S_c - m_c))``, the chunk's log-sum-exp is
    ``m_c - log(max P_c)`` (as precise as ``P_c`` itself). The chunk outputs
    ``O_c = P_c V_c`` are then weighted by ``exp(lse_c - lse)`` in fp32.
    """
    n = qb.shape[0]
    Lk = k.shape[0]
    acc = None
    lse = None
    for j in range(0, Lk, chunk):
        m = min(chunk, Lk - j)
        s = s_buf[: n * m].view(n, m)
        p = p_buf[: n * m].view(n, m)
        torch.mm(qb, k[j : j + m].t(), out=s)
        torch.softmax(s, dim=-1, out=p)
        o = torch.mm(p, v[j : j + m]).float()
        lse_c = s.amax(dim=-1).float() - torch.log(p.amax(dim=-1).float())
        if acc is None or lse is None:
            acc, lse = o, lse_c
            continue
        new = torch.logaddexp(lse, lse_c)
        acc.mul_(torch.exp(lse - new).unsqueeze(-1)).add_(o.mul_(torch.exp(lse_c - new).unsqueeze(-1)))
        lse = new
    assert acc is not None
    return acc.to(qb.dtype)


class KernelRoPEAttention(RoPEAttention):
    """sam2's ``RoPEAttention`` whose attention call goes through :func:`attention`.

    The projections, head split and rotary encoding are sam2 1.1.0's
    (``sam2/modeling/sam/transformer.py``); with the ``"sdpa"`` kernel the forward is
    sam2's own method, unchanged.
    """

    freqs_cis: torch.Tensor  # sam2's rotary table (set by RoPEAttention.__init__)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, num_k_exclude_rope: int = 0) -> torch.Tensor:
        if _KERNEL.get() == "sdpa" or self.training:
            return super().forward(q, k, v, num_k_exclude_rope=num_k_exclude_rope)
        q = self._separate_heads(self.q_proj(q), self.num_heads)
        k = self._separate_heads(self.k_proj(k), self.num_heads)
        v = self._separate_heads(self.v_proj(v), self.num_heads)
        side = math.sqrt(q.shape[-2])
        self.freqs_cis = self.freqs_cis.to(q.device)
        if self.freqs_cis.shape[0] != q.shape[-2]:
            self.freqs_cis = self.compute_cis(end_x=side, end_y=side).to(q.device)
        if q.shape[-2] != k.shape[-2] and not self.rope_k_repeat:
            raise ValueError("cross-attention with a different key length needs rope_k_repeat")
        num_k_rope = k.size(-2) - num_k_exclude_rope
        q, k[:, :, :num_k_rope] = apply_rotary_enc(
            q, k[:, :, :num_k_rope], freqs_cis=self.freqs_cis, repeat_freqs_k=self.rope_k_repeat
        )
        out = attention(q, k, v)
        return self.out_proj(self._recombine_heads(out))


class KernelMultiScaleAttention(MultiScaleAttention):
    """sam2's Hiera ``MultiScaleAttention`` whose attention call goes through :func:`attention`.

    Installed on the encoder's global-attention blocks only (window attention is many
    small problems, which torch's fused kernel handles well). With the ``"sdpa"`` kernel
    the forward is sam2's own method, unchanged.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _KERNEL.get() == "sdpa" or self.training:
            return super().forward(x)
        B, H, W, _ = x.shape
        q, k, v = torch.unbind(self.qkv(x).reshape(B, H * W, 3, self.num_heads, -1), 2)
        if self.q_pool:
            q = do_pool(q.reshape(B, H, W, -1), self.q_pool)
            H, W = q.shape[1:3]
            q = q.reshape(B, H * W, self.num_heads, -1)
        out = attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.proj(out.transpose(1, 2).reshape(B, H, W, -1))


def install(model: Any) -> int:
    """Route the big attention calls of a SAM 2 model through :func:`attention`.

    Every ``RoPEAttention`` of ``model.memory_attention`` becomes a
    :class:`KernelRoPEAttention`, and the attention of every global-attention block of the
    Hiera encoder (``window_size == 0``) a :class:`KernelMultiScaleAttention`. The modules
    keep their weights and state (only their class changes); with the default kernel they
    compute exactly what they computed before.

    Returns:
        Number of modules changed.
    """
    n = 0
    for mod in model.memory_attention.modules():
        if type(mod) is RoPEAttention:
            mod.__class__ = KernelRoPEAttention
            n += 1
    trunk = getattr(model.image_encoder, "trunk", None)
    for block in getattr(trunk, "blocks", ()):
        if getattr(block, "window_size", None) == 0 and type(block.attn) is MultiScaleAttention:
            block.attn.__class__ = KernelMultiScaleAttention
            n += 1
    return n
