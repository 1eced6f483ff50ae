"""Give freed heap memory back to the operating system between frames.

glibc keeps memory freed by large, short-lived tensors (encoder and attention
activations) in its heap, so a long propagation's resident memory creeps up with
the number of views although nothing is retained. ``malloc_trim(0)`` after each
frame returns it (measured: peak RSS 1347 -> 1217 MB for 24 views at 1024 px, no
measurable time cost). A no-op where glibc is not the allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # pragma: no cover
        return None


def release_free_memory() -> None:
    """Return free heap pages to the OS (glibc ``malloc_trim``); nothing elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
