"""Atomic writes: a file or folder is either the old one or the complete new one.

Every write of user data in multiview goes through this module. A file is written
to a temporary name in the same folder, flushed to disk, then renamed over the
target with :func:`os.replace`, which is atomic on POSIX and Windows. Killing the
process at any moment leaves either the old content or the new, never a mix;
at worst a stray ``.tmp-*`` file that the next write ignores.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

TMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of new files and folders: what ``open()`` / ``mkdir()`` would give
#: (``mkstemp`` / ``mkdtemp`` alone create owner-only entries).
FILE_MODE = 0o666 & ~_umask()
DIR_MODE = 0o777 & ~_umask()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + rename)."""
    write_with(path, lambda f: f.write(data))


def write_with(path: str | os.PathLike[str], writer: Callable[[Any], Any]) -> None:
    """Call ``writer(fileobj)`` on a temporary binary file, then rename it to ``path``.

    If ``writer`` raises, the temporary file is removed and ``path`` is untouched.
    """
    with replacing(path) as tmp, open(tmp, "wb") as f:
        writer(f)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file name next to ``path``; rename it over ``path`` when the block succeeds.

    For writers that need a file name rather than a file object (HDF5). If the
    block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def create_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a *new* file ``path`` atomically; never replace an existing file.

    The complete file is written under a temporary name and hard-linked to ``path``
    (``link`` fails if ``path`` exists, atomically), so a file that appeared in the
    meantime is never replaced. Where the file system has no hard links (FAT/exFAT
    drives, some network shares) the name is checked just before an ordinary rename.

    Raises:
        FileExistsError: ``path`` exists.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system
            if os.path.lexists(path):
                raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, human-readable UTF-8 JSON atomically."""
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Write compressed ``.npz`` atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, allow_pickle=False, **arrays)
    write_bytes(path, buf.getvalue())


def write_image(path: str | os.PathLike[str], image: np.ndarray, ext: str | None = None) -> None:
    """Encode ``image`` (:func:`multiview.raster.encode_image`) and write it atomically.

    Args:
        image: (H, W) uint8, (H, W, 3) uint8 **RGB** or (H, W, 4) uint8 RGBA.
        ext: encoder extension such as ``".png"``; default from ``path``.
    """
    from .raster import encode_image

    write_bytes(path, encode_image(image, ext or Path(path).suffix or ".png"))


@contextlib.contextmanager
def staged_dir(final: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and rename it to ``final`` when done.

    Yields the temporary folder. On success it replaces ``final`` (the old one is
    removed only after the new one is complete); on error the temporary folder is
    deleted and ``final`` is untouched.

    Raises:
        FileExistsError: ``final`` exists and ``overwrite`` is False.
    """
    final = Path(final)
    if final.exists() and not overwrite:
        raise FileExistsError(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + final.name + ".", dir=final.parent))
    os.chmod(tmp, DIR_MODE)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.with_name(TMP_PREFIX + final.name + ".old")
        if old.exists():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        os.replace(final, old)
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()
