"""What multiview may replace or delete: only what it wrote itself.

A restorer's photos, a project and any other file are never replaced or deleted
by an output written with ``--overwrite``. Every command that replaces something
asks this module first:

* :func:`protected_paths` lists what an output must never replace or contain:
  the photo files (as they appear in the photo folder *and* the files links there
  point to), the photo folder, the project folder;
* :func:`refuse_protected` refuses a target that *is* one of them, *contains* one
  of them, or is reached through a symbolic link (whatever the link points to);
* :func:`file_records` / :func:`changed_files` prove that a folder is unchanged
  since multiview wrote it: each file's size and SHA-256 are recorded when it is
  written, and a folder is replaced only if it holds exactly those files, unchanged.

Convention:
    Paths are compared after :func:`os.path.realpath` (links resolved, ``..``
    removed), so ``out -> photos`` and ``photos/..`` are caught like ``photos``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import TMP_PREFIX, file_sha256
from .errors import Hint, ProjectExistsError

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project


@dataclass(frozen=True)
class Protected:
    """Paths an output must never replace, delete or contain (all real paths).

    Attributes:
        photos: every photo file of the project (as listed, and the files links point to).
        photo_dirs: folders holding the photos.
        projects: project folders.
    """

    photos: frozenset[Path] = frozenset()
    photo_dirs: frozenset[Path] = frozenset()
    projects: frozenset[Path] = frozenset()


def real(path: str | os.PathLike[str]) -> Path:
    """Absolute path with every link resolved (the path need not exist)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def is_within(path: Path, folder: Path) -> bool:
    """True if real path ``path`` is ``folder`` or lies inside it (both real paths)."""
    return path == folder or folder in path.parents


def protected_paths(project: Project | None = None, photos_dir: str | os.PathLike[str] | None = None) -> Protected:
    """What an output of ``project`` (or of a project being made from ``photos_dir``) must never touch."""
    photos: set[Path] = set()
    dirs: set[Path] = set()
    projects: set[Path] = set()
    if project is not None:
        projects.add(real(project.root))
        for v in project.state.views:
            photos.add(Path(os.path.abspath(v.path)))
            photos.add(real(v.path))
            dirs.add(real(Path(v.path).parent))
        if project.state.photos_dir:
            dirs.add(real(project.state.photos_dir))
    if photos_dir is not None:
        dirs.add(real(photos_dir))
    return Protected(frozenset(photos), frozenset(dirs), frozenset(projects))


def refuse_protected(target: str | os.PathLike[str], protected: Protected, what: str = "output") -> None:
    """Refuse an output ``target`` that would replace or contain the user's photos or project.

    Args:
        target: the file or folder about to be written or replaced.
        what: how the message names the target, e.g. ``"export folder"``.

    Raises:
        ProjectExistsError: ``target`` is a symbolic link, a photo, the photo folder,
            the project, or a folder containing any of them.
    """
    path = Path(target)
    if path.is_symlink():
        raise ProjectExistsError(
            f"{what} '{path}' is a symbolic link; give a real folder or file name instead of a link"
        )
    r = real(path)
    abs_path = Path(os.path.abspath(path))
    for p in sorted(protected.photos):
        if p in (r, abs_path):
            raise ProjectExistsError(f"{what} '{path}' is one of the project's photos; choose another name")
    for d in sorted(protected.photo_dirs):
        if r == d:
            raise ProjectExistsError(
                f"{what} '{path}' is the project's photo folder; choose another folder "
                "(masks go beside the photos with the beside-photos export, which only adds files)",
                hint=Hint(option="--beside-photos", field="beside_photos"),
            )
        if is_within(d, r):
            raise ProjectExistsError(f"{what} '{path}' contains the project's photo folder '{d}'; choose another one")
    for p in sorted(protected.projects):
        if r == p:
            raise ProjectExistsError(f"{what} '{path}' is the project folder; choose another one")
        if is_within(p, r):
            raise ProjectExistsError(f"{what} '{path}' contains the project '{p}'; choose another one")
    for p in sorted(protected.photos):
        if is_within(p, r):
            raise ProjectExistsError(f"{what} '{path}' contains the project's photo '{p.name}'; choose another one")


def file_records(folder: Path, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of files under ``folder``: ``{relative posix path: {"size", "sha256"}}``.

    Args:
        names: relative paths to record (default: every regular file under ``folder``).
    """
    if names is None:
        names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        f = folder / name
        out[name] = {"size": f.stat().st_size, "sha256": file_sha256(f)}
    return out


def changed_files(folder: Path, records: dict[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    """What makes ``folder`` differ from ``records`` (see :func:`file_records`); empty if it holds exactly them.

    Returns:
        Human-readable findings, at most a few: files not recorded (someone else's),
        recorded files that changed, links and other non-regular entries. Empty
        folders and missing recorded files are fine (nothing of anyone's is lost).
    """
    ignored = set(ignore)
    found: list[str] = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if rel in ignored:
            continue
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            found.append(f"'{rel}' is not a file multiview wrote")
        elif p.is_dir():
            continue
        elif rel not in records:
            found.append(f"'{rel}' was not written by multiview")
        else:
            rec = records[rel]
            if not isinstance(rec, dict) or p.stat().st_size != rec.get("size") or file_sha256(p) != rec.get("sha256"):
                found.append(f"'{rel}' changed since multiview wrote it")
        if len(found) >= 3:
            break
    return found


def is_temporary(name: str) -> bool:
    """True for the temporary names :mod:`multiview.atomic` uses (``.tmp-*``)."""
    return name.startswith(TMP_PREFIX)


#: Record, in a photo folder, of the mask files multiview added there (``export --beside-photos``).
BESIDE_PHOTOS_MANIFEST = ".multiview-masks.json"


def beside_photos_files(folder: str | os.PathLike[str]) -> frozenset[str]:
    """Names of the files multiview recorded adding to photo folder ``folder`` (empty if none)."""
    import json

    try:
        data = json.loads((Path(folder) / BESIDE_PHOTOS_MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(str(k) for k in files) if isinstance(files, dict) else frozenset()
