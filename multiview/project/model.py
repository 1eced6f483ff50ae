"""Data types of a multiview project, and their JSON form.

Convention:
    All coordinates are pixels of the *original photo* in display geometry
    (EXIF orientation applied): ``(x, y)``, origin at the top-left, pixel centres at
    integer coordinates. Homographies are named by direction: ``H_ref_from_view``
    maps homogeneous view pixels ``(x, y, 1)`` to reference-view pixels.
    Masks stored in a project live in each view's *working geometry* (the photo
    downscaled so its longer side is at most ``Project.work_max_side``); use
    :meth:`MaskResult.at_size` to bring them to the original (or any) size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..categories import DEFAULT_CATEGORY, check_key
from ..errors import ValidationError
from ..raster import resize_prob

#: Format tag and schema version of ``project.json``.
FORMAT = "multiview-project"
#: Version 2 added object categories, user categories and the stored scale; version 1 files are read
#: (objects get the default category, no scale) and written back as version 2.
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)

#: Default colours of objects 1, 2, 3, ... (RGB), the DAVIS palette order.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (255, 225, 25),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
)


def default_color(obj_id: int) -> tuple[int, int, int]:
    """Colour of object ``obj_id`` (1-based) when none was chosen."""
    return PALETTE[(obj_id - 1) % len(PALETTE)]


@dataclass(frozen=True)
class View:
    """One photo of the sequence.

    Attributes:
        id: the photo's file name (unique within the project), e.g. ``"IMG_0101.jpg"``.
        path: absolute path of the photo.
        sha256: hex digest of the file content when the project was created.
        width, height: original size in display geometry, pixels.
        work_width, work_height: size of the working copy trackers see, pixels.
        file_size, mtime_ns: cheap change detection before re-hashing.
    """

    id: str
    path: Path
    sha256: str
    width: int
    height: int
    work_width: int
    work_height: int
    file_size: int
    mtime_ns: int

    @property
    def stem(self) -> str:
        """File name without extension, used to name exported files."""
        return Path(self.id).stem

    @property
    def size(self) -> tuple[int, int]:
        """Original ``(width, height)``."""
        return self.width, self.height

    @property
    def work_size(self) -> tuple[int, int]:
        """Working-copy ``(width, height)``."""
        return self.work_width, self.work_height

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "work_width": self.work_width,
            "work_height": self.work_height,
            "file_size": self.file_size,
            "mtime_ns": self.mtime_ns,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> View:
        return cls(
            id=str(d["id"]),
            path=Path(d["path"]),
            sha256=str(d["sha256"]),
            width=int(d["width"]),
            height=int(d["height"]),
            work_width=int(d["work_width"]),
            work_height=int(d["work_height"]),
            file_size=int(d["file_size"]),
            mtime_ns=int(d["mtime_ns"]),
        )


@dataclass(frozen=True)
class ObjectInfo:
    """A painted object to segment (a figure, a hand, an ornament, a lacuna).

    Attributes:
        id: positive integer, also the pixel value in label exports.
        name: free text.
        color: (r, g, b) 0..255 used in pictures.
        category: key of its condition-mapping category (:mod:`multiview.categories`);
            default ``"figure"`` (neutral).
    """

    id: int
    name: str
    color: tuple[int, int, int]
    category: str = DEFAULT_CATEGORY

    def __post_init__(self) -> None:
        check_key(self.category)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "color": "#{:02x}{:02x}{:02x}".format(*self.color),
            "category": self.category,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ObjectInfo:
        c = str(d["color"]).lstrip("#")
        rgb = (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))
        return cls(int(d["id"]), str(d["name"]), rgb, str(d.get("category") or DEFAULT_CATEGORY))


@dataclass(frozen=True)
class StoredScale:
    """The physical scale of the reference plane kept in ``project.json`` (``"scale"``).

    Attributes:
        px_per_cm: reference-photo original pixels per centimetre on the wall (> 0).
        source: how it was given (e.g. ``"(10,20)-(410,20) = 25 cm"``).

    Use :meth:`multiview.project.Project.scale` to get it as a ``Scale``.
    """

    px_per_cm: float
    source: str = ""

    def __post_init__(self) -> None:
        v = self.px_per_cm
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise ValidationError(f"scale {v!r} px/cm must be a positive number")

    def to_json(self) -> dict[str, Any]:
        return {"px_per_cm": float(self.px_per_cm), "source": self.source}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StoredScale:
        return cls(float(d["px_per_cm"]), str(d.get("source", "")))


@dataclass(frozen=True)
class Prompt:
    """User input on one view for one object.

    Attributes:
        id: serial number within the project (later prompts have larger ids).
        obj_id: the object it is about.
        view_id: the view it was given on.
        points: ((x, y), ...) clicked points, original-photo pixels.
        labels: one per point, 1 = positive (object), 0 = negative (not object).
        box: (x0, y0, x1, y1) or None, original-photo pixels, x0 < x1, y0 < y1.
        mask_file: path relative to the project of an 8-bit PNG at the original size,
            255 = object; or None.
        candidate: index 0..2 of the candidate mask chosen for a single click, or None
            (the model's best).
        created: ISO 8601 time.
    """

    id: int
    obj_id: int
    view_id: str
    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None
    mask_file: str | None = None
    candidate: int | None = None
    created: str = ""

    def __post_init__(self) -> None:
        if len(self.points) != len(self.labels):
            raise ValidationError(f"prompt {self.id}: {len(self.points)} points but {len(self.labels)} labels")
        if not self.points and self.box is None and self.mask_file is None:
            raise ValidationError(f"prompt {self.id} is empty: give at least a point, a box or a mask")

    @property
    def kind(self) -> str:
        """Short description such as ``"2 points + box"``."""
        parts = []
        if self.points:
            pos = sum(self.labels)
            neg = len(self.labels) - pos
            parts.append(f"{pos}+/{neg}-" if neg else f"{pos} point{'s' if pos != 1 else ''}")
        if self.box is not None:
            parts.append("box")
        if self.mask_file is not None:
            parts.append("mask")
        return " + ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "obj_id": self.obj_id,
            "view": self.view_id,
            "points": [[float(x), float(y), int(lab)] for (x, y), lab in zip(self.points, self.labels)],
            "box": list(self.box) if self.box is not None else None,
            "mask": self.mask_file,
            "candidate": self.candidate,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Prompt:
        pts = d.get("points") or []
        return cls(
            id=int(d["id"]),
            obj_id=int(d["obj_id"]),
            view_id=str(d["view"]),
            points=tuple((float(p[0]), float(p[1])) for p in pts),
            labels=tuple(int(p[2]) for p in pts),
            box=tuple(float(v) for v in d["box"]) if d.get("box") is not None else None,  # type: ignore[arg-type]
            mask_file=d.get("mask"),
            candidate=d.get("candidate"),
            created=str(d.get("created", "")),
        )


@dataclass(frozen=True, eq=False)
class Registration:
    """How one view maps onto the reference view.

    Attributes:
        view_id: the view.
        status: ``"reference"``, ``"registered"`` or ``"unregistered"``.
        H_ref_from_view: (3, 3) float64 mapping view pixels to reference pixels
            (original geometry of both photos), or None when unregistered.
        inliers: number of inlier correspondences supporting it.
        reproj_error: median reprojection error of the inliers, reference pixels.
        overlap: fraction of the view's area that lands inside the reference photo, 0..1.
        method: how it was found, e.g. ``"sift+magsac, chained via IMG_2.jpg"``.
        reason: why a view is unregistered (None otherwise).
    """

    view_id: str
    status: str
    H_ref_from_view: np.ndarray | None = None
    inliers: int = 0
    reproj_error: float | None = None
    overlap: float | None = None
    method: str = ""
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("reference", "registered") and self.H_ref_from_view is not None

    def to_json(self) -> dict[str, Any]:
        H = None if self.H_ref_from_view is None else [[float(v) for v in row] for row in self.H_ref_from_view]
        return {
            "view": self.view_id,
            "status": self.status,
            "H_ref_from_view": H,
            "inliers": self.inliers,
            "reproj_error": self.reproj_error,
            "overlap": self.overlap,
            "method": self.method,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Registration:
        H = d.get("H_ref_from_view")
        return cls(
            view_id=str(d["view"]),
            status=str(d["status"]),
            H_ref_from_view=None if H is None else np.asarray(H, dtype=np.float64).reshape(3, 3),
            inliers=int(d.get("inliers", 0)),
            reproj_error=d.get("reproj_error"),
            overlap=d.get("overlap"),
            method=str(d.get("method", "")),
            reason=d.get("reason"),
        )


@dataclass(frozen=True)
class Ordering:
    """Order of the views in the pseudo-video.

    Attributes:
        mode: ``"name"`` (natural file-name order) or ``"auto"`` (by visual overlap).
        view_ids: all view ids in pseudo-video order.
        neighbour_scores: ``len(view_ids) - 1`` similarity scores 0..1 between
            consecutive views, or None where not measured.
    """

    mode: str
    view_ids: tuple[str, ...]
    neighbour_scores: tuple[float | None, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "views": list(self.view_ids), "neighbour_scores": list(self.neighbour_scores)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Ordering:
        return cls(str(d["mode"]), tuple(d["views"]), tuple(d.get("neighbour_scores") or ()))


@dataclass(frozen=True, eq=False)
class MaskResult:
    """A tracker's answer for one object on one view.

    Attributes:
        obj_id, view_id: what it is about.
        prob: (h, w) uint8 object probability 0..255 in the view's *working geometry*
            (``h, w = view.work_height, view.work_width``); the mask is ``prob >= 128``.
        valid: (h, w) bool, False where the tracker could not see the photo (e.g. outside
            the aligned canvas): "unknown", not background. None means all known.
        score: predicted mask quality (SAM 2's predicted IoU) 0..1, or None.
        present_score: probability 0..1 that the object is visible in the view, or None.
        tracker: name of the tracker that made it, e.g. ``"homography"`` or ``"sam2"``.
        source_view: the prompted view this result was propagated from (None if
            the view carries the prompt itself).
        meta: free-form JSON-safe details (model, image size, ...).
    """

    obj_id: int
    view_id: str
    prob: np.ndarray
    valid: np.ndarray | None = None
    score: float | None = None
    present_score: float | None = None
    tracker: str = ""
    source_view: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def mask(self) -> np.ndarray:
        """(h, w) bool mask in working geometry."""
        return self.prob >= 128

    @property
    def area(self) -> int:
        """Mask area in working-geometry pixels."""
        return int(np.count_nonzero(self.mask))

    def at_size(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
        """The mask and its known pixels resampled to a raster of the whole photo at ``size``.

        The soft mask is interpolated bilinearly (:func:`~multiview.raster.resize_prob`)
        and thresholded at 0.5, never nearest-neighbour on a binary mask; ``valid`` is
        resampled the same way, and unknown pixels are not object.

        Args:
            size: ``(w, h)``, e.g. ``View.size`` for the original photo.

        Returns:
            ``(mask, known)``: (h, w) bool, and (h, w) bool or None when every pixel is known.
        """
        mask = resize_prob(self.prob, size) >= 128
        known = None
        if self.valid is not None:
            known = resize_prob(self.valid.astype(np.uint8) * 255, size) >= 128
            mask &= known
        return mask, known
