"""Download and verify official SAM 2.1 checkpoints (``multiview checkpoints download|verify``).

A download is streamed to a temporary name beside the target, checked (it must load with
``weights_only=True`` and fit a freshly built model, :func:`verify_checkpoint`) and only then
renamed into place. The model names, files and addresses are in :mod:`.checkpoints`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ...errors import CheckpointError, Hint
from .checkpoints import CheckpointStatus, checkpoint_dir, load_into, model_spec
from .model import build_model

log = logging.getLogger(__name__)

__all__ = ["download_checkpoint", "verify_checkpoint"]


def verify_checkpoint(name: str, path: str | os.PathLike[str]) -> CheckpointStatus:
    """Load a checkpoint into a freshly built (CPU) model of ``name``; report whether it fits."""
    spec = model_spec(name)
    path = Path(path)
    if not path.is_file():
        return CheckpointStatus(spec, path, False, 0, False, "missing")
    try:
        model = build_model(name, checkpoint=None, device="cpu")
        load_into(model, path)
    except CheckpointError as exc:
        return CheckpointStatus(spec, path, True, path.stat().st_size, False, str(exc))
    return CheckpointStatus(spec, path, True, path.stat().st_size, True, "")


def download_checkpoint(
    name: str,
    directory: str | os.PathLike[str] | None = None,
    *,
    url: str | None = None,
    overwrite: bool = False,
    verify: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download a model's checkpoint into ``directory`` atomically.

    The file is streamed to a temporary name in the same folder, checked (it must
    load with ``weights_only=True`` and fit the model when ``verify``), and only
    then renamed to its final name: an interrupted or bad download leaves nothing.

    Args:
        url: address to fetch instead of the official one (a mirror, ``file://``).
        progress: ``progress(bytes_done, bytes_total_or_None)`` while downloading.

    Returns:
        Path of the checkpoint.

    Raises:
        CheckpointError: network error, or the downloaded file is not a valid checkpoint.
    """
    spec = model_spec(name)
    final = checkpoint_dir(directory) / spec.filename
    if final.is_file() and not overwrite:
        log.info("checkpoint %s already present", final)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    src = url or spec.url
    fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{spec.filename}.", dir=final.parent)
    tmp = Path(tmp_name)
    try:
        try:
            with urllib.request.urlopen(src, timeout=60) as resp, os.fdopen(fd, "wb") as f:
                total = resp.headers.get("Content-Length")
                total_i = int(total) if total and total.isdigit() else None
                done = 0
                while True:
                    block = resp.read(1 << 20)
                    if not block:
                        break
                    f.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total_i)
                f.flush()
                os.fsync(f.fileno())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise CheckpointError(
                f"could not download {src} ({exc}); check the network or download from a mirror",
                hint=Hint(option="--url URL"),
            ) from exc
        if total_i is not None and done != total_i:
            raise CheckpointError(f"download of {src} stopped at {done} of {total_i} bytes; run the command again")
        if verify:
            status = verify_checkpoint(name, tmp)
            if not status.ok:
                raise CheckpointError(f"downloaded file from {src} is not a valid {name} checkpoint: {status.message}")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("downloaded %s (%d bytes) to %s", name, final.stat().st_size, final)
    return final
