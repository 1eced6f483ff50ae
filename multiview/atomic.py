"""Atomic writes (a file or folder is either the old one or the complete new one), and file content hashes.

Every write of user data in multiview goes through this module. A file is written
to a temporary name in the same folder, flushed to disk, then renamed over the
target with :func:`os.replace`, which is atomic on POSIX and Windows. Killing the
process at any moment leaves either the old content or the new, never a mix;
at worst a stray ``.tmp-*`` file that the next write ignores.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of new files and folders: what ``open()`` / ``mkdir()`` would give
#: (``mkstemp`` / ``mkdtemp`` alone create owner-only entries).
FILE_MODE = 0o666 & ~_umask()
DIR_MODE = 0o777 & ~_umask()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks.

    The one content hash of multiview: photo identity (``View.sha256``), and the records that
    prove an output is unchanged since multiview wrote it (:mod:`multiview.safety`).
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
def replacing(path: str | os.PathLike[str], *, lock: bool = True) -> Iterator[Path]:
    """Yield a temporary file name next to ``path``; rename it over ``path`` when the block succeeds.

    For writers that need a file name rather than a file object (HDF5). If the
    block raises, the temporary file is removed and ``path`` is untouched.

    Args:
        lock: hold an exclusive ``flock`` on the temporary file while the block runs
            (the "being written" mark :func:`clean_stale` respects). HDF5 takes its own
            ``flock`` on the file it writes, which is the same mark: pass False for it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        if lock:
            fcntl.flock(fd, fcntl.LOCK_EX)  # "being written": clean_stale leaves it alone while we live
        try:
            yield Path(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    finally:
        os.close(fd)
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
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # "being written" (see clean_stale)
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
    dfd = os.open(tmp, os.O_RDONLY)
    try:
        fcntl.flock(dfd, fcntl.LOCK_EX)  # "being built" (see clean_stale)
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _swap_in(tmp, final)
    finally:
        os.close(dfd)


def _swap_in(tmp: Path, final: Path) -> None:
    """Rename the complete folder ``tmp`` to ``final``, the previous ``final`` removed after."""
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


def old_name(final: str | os.PathLike[str]) -> Path:
    """Where :func:`staged_dir` parks the previous ``final`` during the swap."""
    final = Path(final)
    return final.with_name(TMP_PREFIX + final.name + ".old")


def recover_swap(final: str | os.PathLike[str]) -> bool:
    """Put back a folder whose replacement was interrupted between the two renames of the swap.

    If the process died after moving the previous ``final`` aside and before moving the
    new one in, ``final`` is missing and the previous one waits under :func:`old_name`:
    it is renamed back (it is the only copy). Returns True if something was restored.
    """
    final, old = Path(final), old_name(final)
    if not os.path.lexists(final) and old.is_dir() and not old.is_symlink():
        os.replace(old, final)
        log.warning("restored '%s' from an interrupted replacement", final)
        return True
    return False


def clean_stale(
    folder: str | os.PathLike[str],
    prefix: str = "",
    *,
    recursive: bool = False,
    owners: Iterable[str] | None = None,
) -> int:
    """Delete the temporary files and folders killed writers left in ``folder`` (``.tmp-<prefix>*``).

    Safe while other processes write: every writer of this module holds an exclusive
    ``flock`` on its temporary file or folder until it is renamed or removed, and the
    kernel drops that lock when the writer dies (even on ``kill -9``); an entry whose
    lock can be taken has no live writer. ``.old`` folders parked by an interrupted swap
    are left to :func:`recover_swap`; links are never followed.

    Args:
        prefix: only names starting with ``.tmp-`` + ``prefix`` (e.g. the output's name).
        recursive: also look in sub-folders (not following links).
        owners: only temporaries of these file names (``.tmp-<owner>.*``), e.g. the masks
            an export writes into a photo folder.

    Returns:
        Number of entries removed.
    """
    folder = Path(folder)
    try:
        entries = list(folder.rglob(TMP_PREFIX + prefix + "*") if recursive else folder.glob(TMP_PREFIX + prefix + "*"))
    except OSError:
        return 0
    allowed = None if owners is None else tuple(TMP_PREFIX + o + "." for o in owners)
    n = 0
    for e in entries:
        if e.name.endswith(".old") or e.is_symlink() or not (e.is_file() or e.is_dir()):
            continue
        if allowed is not None and not e.name.startswith(allowed):
            continue
        try:
            fd = os.open(e, os.O_RDONLY)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer
            if e.is_dir():
                shutil.rmtree(e, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):  # gone meanwhile, or a read-only folder
                    e.unlink()
            n += 0 if os.path.lexists(e) else 1
        finally:
            os.close(fd)
    if n:
        log.info("removed %d temporary leftover(s) of interrupted writes in %s", n, folder)
    return n
