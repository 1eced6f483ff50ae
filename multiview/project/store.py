"""The project store: one folder that holds everything about one photo sequence.

Layout of a project folder::

    project.json                 views, order, reference, objects (with categories), user categories,
                                 scale, prompts, registrations (schema v2; v1 is read)
    prompts/<prompt-id>.png      mask prompts, original photo size, 255 = object
    results/<obj-id>/<view>.npz  one tracker result per object and view (see MaskResult)
    occlusion/<view>.npz         where each view does not show the wall (see OcclusionLayer)
    cache/                       re-computable data (features, embeddings); safe to delete
    .lock                        advisory lock taken while writing

``project.json`` is rewritten atomically under an exclusive lock by every change:
the change is applied to the freshly re-read file, so two processes (a CLI call
during a long ``track``, a second browser tab) never lose each other's edits, and
killing a process at any moment leaves the previous complete file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import atomic
from ..atomic import file_sha256
from ..categories import Category, resolve
from ..errors import (
    OVERWRITE,
    TRACK,
    Hint,
    PhotoError,
    ProjectBusyError,
    ProjectError,
    ProjectExistsError,
    ValidationError,
)
from ..loading import probe_photos, read_photo, scan_photos
from ..raster import working_size
from .model import (
    FORMAT,
    OCCLUSION_FORMAT,
    OCCLUSION_VERSION,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    MaskResult,
    ObjectInfo,
    OcclusionLayer,
    Ordering,
    Prompt,
    Registration,
    StoredScale,
    View,
    default_color,
)

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
#: Default bound on the longer side of the working copy of each photo.
DEFAULT_WORK_MAX_SIDE = 2048


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class ProjectState:
    """Everything ``project.json`` holds, as immutable data.

    Attributes:
        views: every view, in natural file-name order.
        ordering: the pseudo-video order.
        reference: id of the reference view (its pixel grid is the reference plane).
        objects: objects by increasing id.
        prompts: prompts by increasing id.
        registrations: view id -> registration; empty until ``multiview align``.
        work_max_side: bound on the working copies' longer side, pixels.
        photos_dir: folder the photos were read from.
        sections: per-stage JSON data (e.g. ``"alignment"``, ``"tracking"``) that the
            stages own; the store keeps it opaque.
        created, tool_version: provenance.
        categories: user-defined condition-mapping categories (the default vocabulary of
            :mod:`multiview.categories` is not stored).
        scale: physical scale of the reference plane, or None (``multiview scale``).
    """

    views: tuple[View, ...]
    ordering: Ordering
    reference: str
    objects: tuple[ObjectInfo, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    registrations: dict[str, Registration] = field(default_factory=dict)
    work_max_side: int = DEFAULT_WORK_MAX_SIDE
    photos_dir: str = ""
    sections: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    tool_version: str = ""
    categories: tuple[Category, ...] = ()
    scale: StoredScale | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "created": self.created,
            "photos_dir": self.photos_dir,
            "work_max_side": self.work_max_side,
            "reference": self.reference,
            "order": self.ordering.to_json(),
            "views": [v.to_json() for v in self.views],
            "objects": [o.to_json() for o in self.objects],
            "categories": [c.to_json() for c in self.categories],
            "scale": None if self.scale is None else self.scale.to_json(),
            "prompts": [p.to_json() for p in self.prompts],
            "registrations": [self.registrations[v.id].to_json() for v in self.views if v.id in self.registrations],
            "sections": self.sections,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], where: Path) -> ProjectState:
        """Read and validate the parsed ``project.json``.

        Raises:
            ProjectError: not a project file, an unreadable version, or of the wrong shape
                (``damaged at KEY``, see :mod:`.schema`) or inconsistent.
        """
        from .schema import first_problem

        if isinstance(d, dict) and d.get("format") != FORMAT:
            raise ProjectError(f"'{where}' is not a multiview project file (format {d.get('format')!r})")
        problem = first_problem(d)
        if problem is not None:
            raise ProjectError(f"'{where}' is damaged at {problem}; restore it from a backup")
        version = d.get("version")
        if version not in READABLE_VERSIONS:
            raise ProjectError(
                f"'{where}' has schema version {version}; this multiview reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}: "
                "upgrade multiview or recreate the project"
            )
        try:
            views = tuple(View.from_json(v) for v in d["views"])
            regs = (Registration.from_json(r) for r in d.get("registrations") or [])
            state = cls(
                views=views,
                ordering=Ordering.from_json(d["order"]),
                reference=str(d["reference"]),
                objects=tuple(ObjectInfo.from_json(o) for o in d.get("objects") or []),
                prompts=tuple(Prompt.from_json(p) for p in d.get("prompts") or []),
                registrations={r.view_id: r for r in regs},
                work_max_side=int(d.get("work_max_side", DEFAULT_WORK_MAX_SIDE)),
                photos_dir=str(d.get("photos_dir", "")),
                sections=dict(d.get("sections") or {}),
                created=str(d.get("created", "")),
                tool_version=str(d.get("tool_version", "")),
                categories=tuple(Category.from_json(c) for c in d.get("categories") or []),
                scale=StoredScale.from_json(d["scale"]) if d.get("scale") else None,
            )
        except (KeyError, TypeError, ValueError, IndexError, ValidationError) as exc:
            raise ProjectError(f"'{where}' is damaged ({type(exc).__name__}: {exc}); restore it from a backup") from exc
        state.check(where)
        return state

    def check(self, where: Path) -> None:
        """Raise ProjectError if the state is inconsistent."""
        ids = [v.id for v in self.views]
        if len(set(ids)) != len(ids):
            raise ProjectError(f"'{where}' lists a view twice")
        if sorted(self.ordering.view_ids) != sorted(ids):
            raise ProjectError(f"'{where}': the order does not list every view exactly once")
        if self.reference not in ids:
            raise ProjectError(f"'{where}': reference view '{self.reference}' is not a view of the project")
        obj_ids = {o.id for o in self.objects}
        for p in self.prompts:
            if p.view_id not in ids or p.obj_id not in obj_ids:
                raise ProjectError(f"'{where}': prompt {p.id} refers to an unknown view or object")
        for o in self.objects:
            try:
                resolve(o.category, self.categories)
            except ValidationError:
                raise ProjectError(f"'{where}': object {o.id} has unknown category '{o.category}'") from None


class Project:
    """An open project folder.

    The object caches the last state it read; every mutating method re-reads
    ``project.json`` under the project lock, applies the change and writes it
    atomically, so its view of the project is always a complete, saved state.
    """

    def __init__(self, root: Path, state: ProjectState) -> None:
        self.root = Path(root)
        self._state = state
        self._lock_depth = 0

    # ------------------------------------------------------------------ create / open
    @classmethod
    def create(
        cls,
        photos_dir: str | os.PathLike[str],
        root: str | os.PathLike[str],
        *,
        reference: str | None = None,
        work_max_side: int = DEFAULT_WORK_MAX_SIDE,
        overwrite: bool = False,
        progress: Callable[[int, int, Path], None] | None = None,
    ) -> Project:
        """Create a project from a folder of photos, in file-name order.

        The project folder is assembled under a temporary name and renamed when
        complete: a failure (bad photo, duplicate, Ctrl-C) leaves nothing behind.

        Args:
            photos_dir: folder with at least two photos.
            root: project folder to create; must not exist or be empty (unless ``overwrite``).
            reference: file name or stem of the reference view; default the middle view.
            work_max_side: longer side of the working copies, pixels (>= 256).
            progress: ``progress(i, n, path)`` while photos are checked.

        Raises:
            PhotoSetError, PhotoError: bad photo folder or photo.
            ProjectExistsError: ``root`` is not empty and ``overwrite`` is False.
        """
        from .._version import __version__
        from ..safety import Protected, protected_paths, real, refuse_protected

        if work_max_side < 256:
            raise ValidationError(f"work_max_side {work_max_side} is too small; use at least 256")
        refuse_protected(root, protected_paths(photos_dir=photos_dir), "project folder")
        root = Path(root).resolve()
        atomic.recover_swap(root)  # an `init --overwrite` killed mid-swap: the previous project is back
        atomic.clean_stale(root.parent, root.name + ".")  # folders of killed `init` runs
        if root.exists() and not root.is_dir():
            raise ProjectExistsError(f"project folder '{root}' is a file; choose a folder name")
        if root.exists() and any(root.iterdir()):
            if not overwrite:
                raise ProjectExistsError(
                    f"project folder '{root}' already exists and is not empty; "
                    "choose another folder or replace that previous project",
                    hint=OVERWRITE,
                )
            problem = previous_project_problem(root)
            if problem is not None:
                raise ProjectExistsError(
                    f"project folder '{root}' {problem}; nothing was replaced: choose another folder "
                    "(overwrite replaces only a previous multiview project)"
                )
        scan = scan_photos(photos_dir)
        files = frozenset(p for f in scan.photos for p in (Path(os.path.abspath(f)), real(f)))
        refuse_protected(root, Protected(photos=files), "project folder")
        if scan.skipped:
            log.info("skipped %d non-photo file(s): %s", len(scan.skipped), ", ".join(p.name for p in scan.skipped))
        infos = probe_photos(scan.photos, progress)
        views = []
        for info in infos:
            ww, wh = working_size(info.width, info.height, work_max_side)
            views.append(
                View(
                    id=info.path.name,
                    path=info.path,
                    sha256=info.sha256,
                    width=info.width,
                    height=info.height,
                    work_width=ww,
                    work_height=wh,
                    file_size=info.file_size,
                    mtime_ns=info.mtime_ns,
                    orientation=info.orientation,
                )
            )
        ids = tuple(v.id for v in views)
        notes = [f"{i.path.name} has {i.pages} pages; multiview uses the first" for i in infos if i.pages > 1]
        state = ProjectState(
            views=tuple(views),
            ordering=Ordering("name", ids, tuple(None for _ in ids[1:])),
            reference=ids[len(ids) // 2],
            work_max_side=work_max_side,
            photos_dir=os.path.abspath(photos_dir),
            sections={"skipped_files": [p.name for p in scan.skipped], "photo_notes": notes},
            created=_now(),
            tool_version=__version__,
        )
        if reference is not None:
            state = replace(state, reference=_find_view(state.views, reference).id)
        with atomic.staged_dir(root, overwrite=True) as tmp:
            atomic.write_json(tmp / PROJECT_FILE, state.to_json())
        log.info("created project %s with %d views", root, len(views))
        return cls(root, state)

    @classmethod
    def open(cls, root: str | os.PathLike[str], *, verify: bool = True, need_photos: bool = True) -> Project:
        """Open and validate a project.

        Args:
            verify: check that every photo is still where it was and unchanged
                (size and time first; the content hash only if those differ).
            need_photos: False for work on stored data only (status, exporting stored
                masks): missing photos are then allowed (logged), changed ones still refused.

        Raises:
            ProjectError: missing or damaged project.
            PhotoError: a photo was moved, deleted or changed since the project was created.
        """
        root = Path(root).resolve()
        proj = cls(root, cls._read_state(root))
        atomic.clean_stale(root, recursive=True)  # temporaries of killed writers (partial results, prompts...)
        if verify:
            missing = proj.verify_photos(missing_ok=not need_photos)
            if missing:
                log.warning(
                    "%d photo(s) of %s are missing (e.g. %s); working from the stored data only "
                    "(`multiview relink` points the project to their new folder)",
                    len(missing),
                    root,
                    missing[0],
                )
        return proj

    @staticmethod
    def _read_state(root: Path) -> ProjectState:
        f = root / PROJECT_FILE
        if not f.is_file():
            raise ProjectError(
                f"'{root}' is not a multiview project (no {PROJECT_FILE}); create a project from the photos first",
                hint=Hint(command="multiview init PHOTOS_DIR PROJECT_DIR"),
            )
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProjectError(f"'{f}' is damaged ({exc}); restore it from a backup") from exc
        return ProjectState.from_json(data, f)

    def verify_photos(self, *, missing_ok: bool = False) -> list[str]:
        """Raise PhotoError if any photo moved or changed since the project was created.

        Args:
            missing_ok: for work that needs no pixels (status, exporting stored masks):
                missing photos are returned instead of refused; changed ones are still refused.

        Returns:
            Ids of the missing views (empty unless ``missing_ok``).
        """
        missing = []
        for v in self._state.views:
            try:
                st = v.path.stat()
            except FileNotFoundError:
                if missing_ok:
                    missing.append(v.id)
                    continue
                raise PhotoError(
                    f"photo '{v.id}' is missing from '{v.path.parent}' "
                    "(moved or deleted since the project was created); "
                    "put it back there, or relink the project to the folder the photos are in now",
                    hint=relink_hint(self.root),
                ) from None
            if st.st_size == v.file_size and st.st_mtime_ns == v.mtime_ns:
                continue
            if st.st_size != v.file_size or file_sha256(v.path) != v.sha256:
                raise PhotoError(
                    f"photo '{v.id}' changed since the project was created (content differs); "
                    "restore the original file or create a new project"
                )
        return missing

    def reload(self) -> Project:
        """Re-read ``project.json`` (after another process changed it)."""
        self._state = self._read_state(self.root)
        return self

    def relink(
        self, photos_dir: str | os.PathLike[str], progress: Callable[[int, int, Path], None] | None = None
    ) -> dict[str, str]:
        """Point the project to its photos in a new folder, found by content (SHA-256), whatever their names.

        Every view must be found (its file content is what the project recorded); a renamed
        file is found by its hash and keeps its view (results, prompts, order stay). Nothing
        is changed unless every view is found.

        Returns:
            view id -> the file name it has now (only views whose file was renamed).

        Raises:
            PhotoSetError: the folder is missing or holds too few photos.
            PhotoError: a view's content is in none of the files (names the first ones).
        """
        from ..loading import probe_photo

        folder = Path(os.path.abspath(photos_dir))
        scan = scan_photos(folder, min_photos=1)
        by_hash: dict[str, Path] = {}
        files = list(scan.photos)
        for i, f in enumerate(files):
            if progress is not None:
                progress(i, len(files), f)
            by_hash.setdefault(file_sha256(f), f)
        views = self._state.views
        missing = [v.id for v in views if v.sha256 not in by_hash]
        if missing:
            raise PhotoError(
                f"'{folder}' does not hold photo '{missing[0]}'"
                + (f" (nor {len(missing) - 1} other(s))" if len(missing) > 1 else "")
                + " with the content the project recorded; relink to the folder that has all of them"
            )
        renamed: dict[str, str] = {}
        new_views = []
        for v in views:
            f = by_hash[v.sha256]
            info = probe_photo(f)
            if (info.width, info.height) != v.size:
                raise PhotoError(f"photo '{f.name}' decodes to {info.width}x{info.height}, not {v.width}x{v.height}")
            if f.name != v.id:
                renamed[v.id] = f.name
            new_views.append(replace(v, path=f, file_size=info.file_size, mtime_ns=info.mtime_ns))
        by_id = {v.id: v for v in new_views}
        self.update(lambda s: replace(s, views=tuple(by_id.get(v.id, v) for v in s.views), photos_dir=str(folder)))
        log.info("relinked %s to %s (%d renamed)", self.root, folder, len(renamed))
        return renamed

    # ------------------------------------------------------------------ state access
    @property
    def state(self) -> ProjectState:
        return self._state

    @property
    def views(self) -> tuple[View, ...]:
        """Views in pseudo-video order."""
        by_id = {v.id: v for v in self._state.views}
        return tuple(by_id[i] for i in self._state.ordering.view_ids)

    @property
    def ordering(self) -> Ordering:
        return self._state.ordering

    @property
    def reference(self) -> View:
        return self.view(self._state.reference)

    @property
    def objects(self) -> tuple[ObjectInfo, ...]:
        return self._state.objects

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        return self._state.prompts

    @property
    def registrations(self) -> dict[str, Registration]:
        return dict(self._state.registrations)

    @property
    def categories(self) -> dict[str, Category]:
        """Key -> category: the default vocabulary then the project's own (legend order)."""
        from ..categories import vocabulary

        return vocabulary(self._state.categories)

    def category_of(self, obj_id: int) -> Category:
        """The category of object ``obj_id``."""
        return resolve(self.object(obj_id).category, self._state.categories)

    def scale(self, override: Any = None) -> Any:
        """The physical scale of the reference plane (a :class:`multiview.plane.Scale`), or None.

        Args:
            override: a ``Scale`` given on the command line (``--scale``); it wins over the stored one.
        """
        if override is not None:
            return override
        st = self._state.scale
        if st is None:
            return None
        from ..plane.scale import Scale

        return Scale(st.px_per_cm, st.source)

    def section(self, name: str) -> dict[str, Any]:
        """Per-stage JSON data stored under ``sections[name]`` (a copy; empty if absent)."""
        return json.loads(json.dumps(self._state.sections.get(name, {})))

    def view(self, key: str) -> View:
        """Find a view by file name or stem (case-insensitive).

        Raises:
            ValidationError: no such view, or an ambiguous stem.
        """
        return _find_view(self._state.views, key)

    def view_index(self, key: str) -> int:
        """Position of a view in the pseudo-video order."""
        return self._state.ordering.view_ids.index(self.view(key).id)

    def object(self, obj_id: int) -> ObjectInfo:
        for o in self._state.objects:
            if o.id == obj_id:
                return o
        known = ", ".join(str(o.id) for o in self._state.objects) or "none yet"
        raise ValidationError(f"object {obj_id} does not exist (known: {known}); add it with a prompt first")

    def prompts_for(self, obj_id: int | None = None, view_id: str | None = None) -> tuple[Prompt, ...]:
        return tuple(
            p
            for p in self._state.prompts
            if (obj_id is None or p.obj_id == obj_id) and (view_id is None or p.view_id == view_id)
        )

    def prompt_mask(self, prompt: Prompt) -> np.ndarray | None:
        """(H, W) bool mask of a mask prompt at the view's original size, or None."""
        if prompt.mask_file is None:
            return None
        import cv2

        m = cv2.imread(str(self.root / prompt.mask_file), cv2.IMREAD_GRAYSCALE)
        if m is None:
            raise ProjectError(f"mask of prompt {prompt.id} ('{prompt.mask_file}') is missing; re-add the prompt")
        return m > 0

    def working_image(self, view: View | str) -> np.ndarray:
        """(h, w, 3) uint8 RGB working copy of a view (longer side <= work_max_side)."""
        v = view if isinstance(view, View) else self.view(view)
        img = read_photo(v.path, max_side=self._state.work_max_side)
        if (img.shape[1], img.shape[0]) != v.work_size:
            raise PhotoError(
                f"photo '{v.id}' decodes to a different size than recorded; it changed: recreate the project"
            )
        return img

    def cache_dir(self, name: str) -> Path:
        """A folder under ``cache/`` for re-computable data of one stage (created)."""
        d = self.root / "cache" / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    # ------------------------------------------------------------------ mutation
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive advisory lock on the project (re-entrant within one Project object)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        import fcntl

        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def tracking_lock(
        self, *, wait: bool = False, holder: str = "", on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Exclusive right to write tracker results, across processes (CLI ``track``, the workbench).

        One tracking run per project at a time: two runs would interleave their results
        view by view (homography and SAM 2 masks mixed) and could share SAM 2 state folders.
        The lock is an advisory ``flock`` on ``.tracking.lock``, released by the kernel
        when the holder exits, even on ``kill -9``; the file names the holder for the message.

        Args:
            wait: block until the other run ends instead of refusing.
            holder: what takes the lock, e.g. ``"multiview track"`` (shown to the one refused).
            on_wait: called once with the holder's description before blocking (``wait`` only).

        Raises:
            ProjectBusyError: another run holds the lock and ``wait`` is False.
        """
        import fcntl
        import socket

        path = self.root / TRACKING_LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = _lock_holder(path)
                if not wait:
                    raise ProjectBusyError(
                        f"another tracking run ({other}) is writing masks in project '{self.root}'; "
                        "wait for it to finish, or let this run wait for it",
                        hint=Hint(option="--wait"),
                    ) from None
                if on_wait is not None:
                    on_wait(other)
                fcntl.flock(fd, fcntl.LOCK_EX)
            info = {"holder": holder or "a tracking run", "pid": os.getpid(), "host": socket.gethostname()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps({**info, "since": _now()}) + "\n").encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def update(self, change: Callable[[ProjectState], ProjectState]) -> ProjectState:
        """Apply ``change`` to the freshly read state and save it atomically."""
        with self.lock():
            fresh = self._read_state(self.root)
            new = change(fresh)
            new.check(self.root / PROJECT_FILE)
            atomic.write_json(self.root / PROJECT_FILE, new.to_json())
            self._state = new
            return new

    def set_section(self, name: str, data: dict[str, Any]) -> None:
        """Replace ``sections[name]`` (must be JSON-serialisable)."""
        json.dumps(data)
        self.update(lambda s: replace(s, sections={**s.sections, name: data}))

    def set_ordering(self, ordering: Ordering) -> None:
        self.update(lambda s: replace(s, ordering=ordering))

    def set_reference(self, key: str) -> None:
        vid = self.view(key).id
        self.update(lambda s: replace(s, reference=vid))

    def set_registrations(self, regs: dict[str, Registration]) -> None:
        """Replace all registrations (one per view id)."""
        self.update(lambda s: replace(s, registrations=dict(regs)))

    def set_scale(self, scale: Any) -> None:
        """Store the physical scale of the reference plane (a ``Scale``), or remove it with None."""
        st = None if scale is None else StoredScale(float(scale.px_per_cm), str(scale.source))
        self.update(lambda s: replace(s, scale=st))

    def define_category(
        self, key: str, *, label: str | None = None, color: tuple[int, int, int], hatch: str = "none"
    ) -> Category:
        """Add or replace a user category (see :func:`multiview.categories.define`).

        Raises:
            ValidationError: invalid key, colour or hatch, or a key of the default vocabulary.
        """
        from ..categories import define

        cat = define(key, label, color, hatch)
        self.update(lambda s: replace(s, categories=(*(c for c in s.categories if c.key != cat.key), cat)))
        return cat

    def set_category(self, obj_id: int, category: str) -> ObjectInfo:
        """Set the condition-mapping category of an object (a key or label of :attr:`categories`).

        Raises:
            ValidationError: unknown object or category.
        """
        self.object(obj_id)
        key = resolve(category, self._state.categories).key

        def change(s: ProjectState) -> ProjectState:
            resolve(key, s.categories)
            return replace(s, objects=tuple(replace(o, category=key) if o.id == obj_id else o for o in s.objects))

        self.update(change)
        return self.object(obj_id)

    def add_object(
        self,
        obj_id: int | None = None,
        name: str | None = None,
        color: tuple[int, int, int] | None = None,
        category: str | None = None,
    ) -> ObjectInfo:
        """Create an object (next free id by default; category default ``"figure"``)."""
        out: list[ObjectInfo] = []
        cat_key = resolve(category, self._state.categories).key if category is not None else None

        def change(s: ProjectState) -> ProjectState:
            oid = obj_id if obj_id is not None else max((o.id for o in s.objects), default=0) + 1
            _check_obj_id(oid)
            if any(o.id == oid for o in s.objects):
                raise ValidationError(f"object {oid} already exists; choose another id")
            obj = ObjectInfo(oid, name or f"object {oid}", color or default_color(oid))
            if cat_key is not None:
                obj = replace(obj, category=resolve(cat_key, s.categories).key)
            out.append(obj)
            return replace(s, objects=tuple(sorted((*s.objects, obj), key=lambda o: o.id)))

        self.update(change)
        return out[0]

    def edit_object(
        self, obj_id: int, *, name: str | None = None, color: tuple[int, int, int] | None = None
    ) -> ObjectInfo:
        self.object(obj_id)

        def change(s: ProjectState) -> ProjectState:
            objs = tuple(
                replace(o, name=name if name is not None else o.name, color=color if color is not None else o.color)
                if o.id == obj_id
                else o
                for o in s.objects
            )
            return replace(s, objects=objs)

        self.update(change)
        return self.object(obj_id)

    def remove_object(self, obj_id: int) -> None:
        """Delete an object, its prompts and its results."""
        self.object(obj_id)
        self.update(
            lambda s: replace(
                s,
                objects=tuple(o for o in s.objects if o.id != obj_id),
                prompts=tuple(p for p in s.prompts if p.obj_id != obj_id),
            )
        )
        self.clear_results(obj_id)

    def add_prompt(
        self,
        view: str,
        obj_id: int,
        *,
        points: list[tuple[float, float]] | tuple[tuple[float, float], ...] = (),
        labels: list[int] | tuple[int, ...] = (),
        box: tuple[float, float, float, float] | None = None,
        mask: np.ndarray | None = None,
        candidate: int | None = None,
        create_object: bool = True,
        object_name: str | None = None,
        object_category: str | None = None,
    ) -> Prompt:
        """Validate and record a prompt.

        Args:
            view: file name or stem of the view.
            points: ((x, y), ...) original-photo pixels, inside the photo.
            labels: 1 (positive) or 0 (negative) per point.
            box: (x0, y0, x1, y1) inside the photo with x0 < x1 and y0 < y1.
            mask: (H, W) array of the photo's original size; non-zero = object.
            candidate: which of the model's candidate masks (0..2) to keep for a single click.
            create_object: create ``obj_id`` if it does not exist yet.
            object_name, object_category: name and category key of an object created here.

        Raises:
            ValidationError: unknown view, bad object id, coordinates outside the photo,
                wrong mask size, empty prompt.
        """
        v = self.view(view)
        _check_obj_id(obj_id)
        pts = tuple((float(x), float(y)) for x, y in points)
        labs = tuple(int(lab) for lab in labels)
        if len(labs) != len(pts):
            raise ValidationError(f"{len(pts)} points but {len(labs)} labels")
        for (x, y), lab in zip(pts, labs):
            if lab not in (0, 1):
                raise ValidationError(f"point label {lab} must be 1 (positive) or 0 (negative)")
            if not (0 <= x < v.width and 0 <= y < v.height) or not (np.isfinite(x) and np.isfinite(y)):
                raise ValidationError(
                    f"point ({x:g}, {y:g}) is outside photo '{v.id}' ({v.width}x{v.height}); "
                    f"use 0 <= x < {v.width} and 0 <= y < {v.height}"
                )
        if box is not None:
            x0, y0, x1, y1 = (float(b) for b in box)
            if not (0 <= x0 < x1 <= v.width and 0 <= y0 < y1 <= v.height):
                raise ValidationError(
                    f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) must satisfy 0 <= x0 < x1 <= {v.width} "
                    f"and 0 <= y0 < y1 <= {v.height} on photo '{v.id}'"
                )
            box = (x0, y0, x1, y1)
        if candidate is not None and candidate not in (0, 1, 2):
            raise ValidationError(f"candidate {candidate} must be 0, 1 or 2")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 3:
                mask = np.asarray(mask.any(axis=2))
            if mask.shape != (v.height, v.width):
                raise ValidationError(
                    f"mask is {mask.shape[1]}x{mask.shape[0]} but photo '{v.id}' is {v.width}x{v.height}; "
                    "draw the mask at the photo's size"
                )
            if not mask.any():
                raise ValidationError(f"mask for photo '{v.id}' is empty (no non-zero pixel)")
        if not pts and box is None and mask is None:
            raise ValidationError("empty prompt: give at least one point, a box or a mask")
        if box is None and mask is None and 1 not in labs and not self.prompts_for(obj_id):
            # a first prompt must say where the object is: negative clicks only say where it is not
            raise ValidationError(
                f"the first prompt of object {obj_id} has only negative clicks; "
                "add a positive click, a box or a mask showing the object"
            )
        if create_object and not any(o.id == obj_id for o in self._state.objects):
            with self.lock():
                self.reload()
                if not any(o.id == obj_id for o in self._state.objects):
                    self.add_object(obj_id, object_name, category=object_category)
        else:
            self.object(obj_id)
        out: list[Prompt] = []

        def change(s: ProjectState) -> ProjectState:
            pid = max((p.id for p in s.prompts), default=0) + 1
            mask_file = None
            if mask is not None:
                mask_file = f"prompts/{pid}.png"
                atomic.write_image(self.root / mask_file, np.where(mask != 0, 255, 0).astype(np.uint8))
            p = Prompt(pid, obj_id, v.id, pts, labs, box, mask_file, candidate, _now())
            out.append(p)
            return replace(s, prompts=(*s.prompts, p))

        self.update(change)
        return out[0]

    def remove_prompts(self, prompt_ids: list[int] | tuple[int, ...]) -> None:
        ids = set(prompt_ids)
        unknown = ids - {p.id for p in self._state.prompts}
        if unknown:
            raise ValidationError(f"unknown prompt id(s): {', '.join(map(str, sorted(unknown)))}")
        self.update(lambda s: replace(s, prompts=tuple(p for p in s.prompts if p.id not in ids)))

    # ------------------------------------------------------------------ results
    def result_path(self, obj_id: int, view_id: str) -> Path:
        """File of the stored result of ``obj_id`` on view ``view_id`` (a view id; it may not exist)."""
        return self.root / "results" / str(obj_id) / f"{view_id}.npz"

    def write_result(self, result: MaskResult) -> None:
        """Store a tracker result atomically (replacing the previous one)."""
        v = self.view(result.view_id)
        if result.prob.shape != (v.work_height, v.work_width) or result.prob.dtype != np.uint8:
            raise ValidationError(
                f"result for '{v.id}' has shape {result.prob.shape} {result.prob.dtype}; "
                f"expected ({v.work_height}, {v.work_width}) uint8"
            )
        meta = {
            "obj_id": result.obj_id,
            "view": result.view_id,
            "score": result.score,
            "present_score": result.present_score,
            "tracker": result.tracker,
            "source_view": result.source_view,
            "meta": result.meta,
            "written": _now(),
        }
        arrays: dict[str, np.ndarray] = {"prob": result.prob, "meta": np.array(json.dumps(meta))}
        if result.valid is not None:
            arrays["valid"] = np.asarray(result.valid, dtype=bool)
        atomic.write_npz(self.result_path(result.obj_id, result.view_id), **arrays)

    def read_result(self, obj_id: int, view: str) -> MaskResult | None:
        """The stored result of an object on a view, or None if there is none."""
        vid = self.view(view).id
        f = self.result_path(obj_id, vid)
        if not f.is_file():
            return None
        try:
            with np.load(f, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                prob = z["prob"]
                valid = z["valid"] if "valid" in z.files else None
        except (OSError, ValueError, KeyError) as exc:
            raise ProjectError(f"result file '{f}' is damaged ({exc}); track the object again", hint=TRACK) from exc
        return MaskResult(
            obj_id=obj_id,
            view_id=vid,
            prob=prob,
            valid=valid,
            score=meta.get("score"),
            present_score=meta.get("present_score"),
            tracker=meta.get("tracker", ""),
            source_view=meta.get("source_view"),
            meta=meta.get("meta") or {},
        )

    def has_result(self, obj_id: int, view: str) -> bool:
        return self.result_path(obj_id, self.view(view).id).is_file()

    def clear_results(self, obj_id: int | None = None) -> None:
        """Delete stored results (of one object, or all)."""
        import shutil

        base = self.root / "results"
        target = base if obj_id is None else base / str(obj_id)
        if target.exists():
            shutil.rmtree(target)

    # ------------------------------------------------------------------ occlusion layers
    def occlusion_path(self, view_id: str) -> Path:
        """File of the occlusion layer of view ``view_id`` (a view id; it may not exist)."""
        return self.root / "occlusion" / f"{view_id}.npz"

    def write_occlusion(self, layer: OcclusionLayer) -> None:
        """Store an occlusion layer atomically (replacing the previous one).

        Raises:
            ValidationError: maps of different shapes or wrong dtypes.
        """
        v = self.view(layer.view_id)
        shape = layer.occluded.shape
        if (
            layer.occluded.dtype != np.uint8
            or layer.occluded.ndim != 2
            or layer.known.shape != shape
            or layer.support.shape != shape
            or layer.support.dtype != np.uint8
        ):
            raise ValidationError(
                f"occlusion layer of '{v.id}' must hold (h, w) uint8 occluded and support maps and a bool known "
                f"map of one shape; got {layer.occluded.shape} {layer.occluded.dtype}, {layer.known.shape}, "
                f"{layer.support.shape} {layer.support.dtype}"
            )
        meta = {**layer.meta, "format": OCCLUSION_FORMAT, "version": OCCLUSION_VERSION, "view": v.id}
        atomic.write_npz(
            self.occlusion_path(v.id),
            occluded=layer.occluded,
            known=np.asarray(layer.known, dtype=bool),
            support=layer.support,
            meta=np.array(json.dumps(meta)),
        )

    def read_occlusion(self, view: str) -> OcclusionLayer | None:
        """The stored occlusion layer of a view, or None if there is none (or of a newer version).

        Raises:
            ProjectError: the file is damaged.
        """
        vid = self.view(view).id
        f = self.occlusion_path(vid)
        if not f.is_file():
            return None
        try:
            with np.load(f, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                occ, known, support = z["occluded"], z["known"], z["support"]
        except (OSError, ValueError, KeyError) as exc:
            raise ProjectError(f"occlusion file '{f}' is damaged ({exc}); run `multiview align` again") from exc
        if meta.get("format") != OCCLUSION_FORMAT or meta.get("version") != OCCLUSION_VERSION:
            log.warning(
                "occlusion file %s has format %s version %s; ignored", f, meta.get("format"), meta.get("version")
            )
            return None
        return OcclusionLayer(vid, occ, known.astype(bool), support, meta)

    def clear_occlusion(self) -> None:
        """Delete every stored occlusion layer."""
        import shutil

        d = self.root / "occlusion"
        if d.exists():
            shutil.rmtree(d)


#: Lock file held while a tracking run writes results (see :meth:`Project.tracking_lock`).
TRACKING_LOCK = ".tracking.lock"
#: What a project folder holds (besides ``.tmp-*`` leftovers of interrupted writes).
PROJECT_ENTRIES = frozenset({PROJECT_FILE, ".lock", TRACKING_LOCK, "prompts", "results", "cache", "exports"})


def relink_hint(root: Path) -> Hint:
    """The command that points a project to its moved photos."""
    return Hint(command=f"multiview relink {root} NEW_PHOTOS_DIR")


def _lock_holder(path: Path) -> str:
    """Who holds a tracking lock, in words (from the lock file; best effort)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        return f"{info['holder']}, process {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "started by another process"


def previous_project_problem(root: Path) -> str | None:
    """Why folder ``root`` is not a previous multiview project that ``init --overwrite`` may replace (None if it is).

    A previous project has a ``project.json`` with multiview's format tag and holds
    nothing but the project's own entries (:data:`PROJECT_ENTRIES`); its
    ``exports/`` folder must be empty, since exports are the restorer's deliverables.
    """
    from ..safety import is_temporary

    f = root / PROJECT_FILE
    if not f.is_file():
        return f"is not a multiview project (no {PROJECT_FILE})"
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"is not a multiview project (its {PROJECT_FILE} was not written by multiview)"
    others = sorted(e.name for e in root.iterdir() if e.name not in PROJECT_ENTRIES and not is_temporary(e.name))
    if others:
        return f"holds files that are not the project's ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''})"
    exports = root / "exports"
    if exports.is_symlink() or (exports.is_dir() and any(exports.iterdir())):
        return "holds exports (in its exports/ folder); move them out first"
    return None


def _check_obj_id(obj_id: int) -> None:
    if not isinstance(obj_id, (int, np.integer)) or isinstance(obj_id, bool) or not (1 <= int(obj_id) <= 255):
        raise ValidationError(f"object id {obj_id!r} must be an integer from 1 to 255")


def name_key(name: str) -> str:
    """How view names are compared: Unicode NFC (a name typed on one system matches the same
    accented name stored decomposed, NFD, as copied from a Mac) and case-folded."""
    import unicodedata

    return unicodedata.normalize("NFC", str(name)).casefold()


def _find_view(views: tuple[View, ...], key: str) -> View:
    key_l = name_key(key)
    for v in views:
        if name_key(v.id) == key_l:
            return v
    matches = [v for v in views if name_key(v.stem) == key_l]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(v.id for v in views[:8]) + (", ..." if len(views) > 8 else "")
    raise ValidationError(f"no view named '{key}' in the project; use a photo file name or stem ({names})")
