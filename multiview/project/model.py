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
#: (objects get the default category, no scale). Version 3 (issue 11): registrations carry ``model``,
#: ``deformation`` (homography + thin-plate spline), ``heldout`` (honest error) and ``note``; older
#: registrations read as homographies without a measured error. Older files are written back as the
#: current version.
SCHEMA_VERSION = 3
#: Versions this multiview reads.
READABLE_VERSIONS = (1, 2, 3)

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
        orientation: EXIF orientation 1-8 of the file (how its stored pixels are turned to
            display geometry, :mod:`multiview.orientation`); None for projects made before
            it was recorded (then read from the photo when needed).
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
    orientation: int | None = None

    @property
    def stem(self) -> str:
        """File name without extension, used to name exported files."""
        return Path(self.id).stem

    @property
    def file_name(self) -> str:
        """The photo's current file name (differs from ``id`` after a relink to renamed files)."""
        return Path(self.path).name

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
            "orientation": self.orientation,
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
            orientation=int(d["orientation"]) if d.get("orientation") is not None else None,
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
        b = d.get("box")
        return cls(
            id=int(d["id"]),
            obj_id=int(d["obj_id"]),
            view_id=str(d["view"]),
            points=tuple((float(p[0]), float(p[1])) for p in pts),
            labels=tuple(int(p[2]) for p in pts),
            box=None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            mask_file=d.get("mask"),
            candidate=d.get("candidate"),
            created=str(d.get("created", "")),
        )


def _kernel(sq_dist: np.ndarray) -> np.ndarray:
    """Thin-plate kernel ``U(r) = r^2 log r`` from squared distances (0 at r = 0), as kornia writes it."""
    safe = np.where(sq_dist > 0, sq_dist, 1.0)
    return np.where(sq_dist > 0, 0.5 * sq_dist * np.log(safe), 0.0)


@dataclass(frozen=True, eq=False)
class ThinPlateSpline:
    """A 2-D thin-plate spline ``f: R^2 -> R^2`` in kornia's parameterisation.

    ``f(p)_d = a[0, d] + p_x a[1, d] + p_y a[2, d] + sum_k w[k, d] U(|p - c_k|)`` with
    ``U(r) = r^2 log r`` (``U(0) = 0``): exactly what ``kornia.geometry.transform.warp_points_tps(
    points, kernel_centers=c, kernel_weights=w, affine_weights=a)`` computes (Bookstein, "Principal
    warps", PAMI 1989). Stored in the pixels of the geometry it maps from and to.

    Attributes:
        centers: (K, 2) float64 kernel centres ``c``, pixels ``(x, y)``.
        kernel_weights: (K, 2) float64 ``w`` (columns: x and y outputs).
        affine_weights: (3, 2) float64 ``a`` (rows: constant, x, y).
    """

    centers: np.ndarray
    kernel_weights: np.ndarray
    affine_weights: np.ndarray

    def __post_init__(self) -> None:
        c = np.asarray(self.centers, np.float64).reshape(-1, 2)
        w = np.asarray(self.kernel_weights, np.float64).reshape(-1, 2)
        a = np.asarray(self.affine_weights, np.float64)
        if len(c) != len(w) or a.shape != (3, 2) or not (np.isfinite(c).all() and np.isfinite(w).all()):
            raise ValidationError(
                f"thin-plate spline needs (K, 2) centres and weights and (3, 2) affine weights, "
                f"got {c.shape}, {w.shape}, {a.shape}"
            )
        object.__setattr__(self, "centers", c)
        object.__setattr__(self, "kernel_weights", w)
        object.__setattr__(self, "affine_weights", a)

    def apply(self, points: np.ndarray, block: int = 65536) -> np.ndarray:
        """Evaluate at (N, 2) points; returns (N, 2) float64 (NaN in, NaN out). Memory bounded by ``block``."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        out = np.empty_like(p)
        a, c, w = self.affine_weights, self.centers, self.kernel_weights
        for s in range(0, len(p), block):
            q = p[s : s + block]
            d2 = ((q[:, None, :] - c[None, :, :]) ** 2).sum(-1)
            out[s : s + block] = a[0] + q @ a[1:] + _kernel(d2) @ w
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "centers": [[float(v) for v in row] for row in self.centers],
            "kernel_weights": [[float(v) for v in row] for row in self.kernel_weights],
            "affine_weights": [[float(v) for v in row] for row in self.affine_weights],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ThinPlateSpline:
        """Raises ValueError (not ValidationError) on damaged data, so the store reports a damaged file."""
        c = np.asarray(d["centers"], np.float64).reshape(-1, 2)
        w = np.asarray(d["kernel_weights"], np.float64).reshape(-1, 2)
        a = np.asarray(d["affine_weights"], np.float64).reshape(3, 2)
        if len(c) != len(w) or not (np.isfinite(c).all() and np.isfinite(w).all() and np.isfinite(a).all()):
            raise ValueError(f"thin-plate spline with {len(c)} centres but {len(w)} weights, or non-finite values")
        return cls(c, w, a)


@dataclass(frozen=True, eq=False)
class Deformation:
    """A smooth correction of a view's homography on the reference plane, for walls that are not one plane.

    A view pixel ``p`` maps to the reference plane by ``q = forward(H_ref_from_view p)`` and a
    reference-plane pixel ``q`` back by ``p = H_ref_from_view^-1 inverse(q)``: ``forward`` moves
    the homography's prediction onto the wall's real position, ``inverse`` moves a real position
    back to where the homography puts it. Both are thin-plate splines on the reference plane,
    fitted (regularised, robust to outliers) to the same correspondences, so each direction is a
    direct evaluation; they agree to ``inverse_error`` (round trip over the matched area).
    It satisfies :class:`multiview.plane.Residual` (``forward``, ``inverse``, ``key``).

    Attributes:
        kind: ``"tps"``.
        forward_tps: spline in reference-plane pixels, ``H_ref_from_view p`` -> true reference pixel.
        inverse_tps: spline in reference-plane pixels, true reference pixel -> ``H_ref_from_view p``.
        smoothing: regularisation weight chosen by cross-validation (normalised units).
        inverse_error: p90 of the round-trip distance ``|inverse(forward(q)) - q|`` over the matches,
            reference-plane pixels.
    """

    kind: str
    forward_tps: ThinPlateSpline
    inverse_tps: ThinPlateSpline
    smoothing: float = 0.0
    inverse_error: float | None = None

    def forward(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) homography-predicted reference-plane points -> true reference-plane points (NaN stays NaN)."""
        return self.forward_tps.apply(points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) true reference-plane points -> where the homography puts them (NaN stays NaN)."""
        return self.inverse_tps.apply(points)

    def key(self) -> bytes:
        """Bytes identifying the parameters (rounded), for cache keys and staleness checks."""
        parts = [self.forward_tps.centers, self.forward_tps.kernel_weights, self.forward_tps.affine_weights]
        parts += [self.inverse_tps.centers, self.inverse_tps.kernel_weights, self.inverse_tps.affine_weights]
        return b"tps" + b"".join(np.round(np.asarray(a, np.float64), 9).tobytes() for a in parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "forward": self.forward_tps.to_json(),
            "inverse": self.inverse_tps.to_json(),
            "smoothing": self.smoothing,
            "inverse_error": self.inverse_error,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Deformation:
        if d.get("kind") != "tps":
            raise ValueError(f"unknown deformation kind {d.get('kind')!r}")
        return cls(
            "tps",
            ThinPlateSpline.from_json(d["forward"]),
            ThinPlateSpline.from_json(d["inverse"]),
            float(d.get("smoothing", 0.0)),
            d.get("inverse_error"),
        )


@dataclass(frozen=True)
class HeldOutError:
    """Registration error measured on matches the model was not fitted to.

    Every correspondence between the view and the reference that agrees with a smooth mapping
    (wrong matches excluded) is held out once (k-fold cross-validation): the model is fitted on the
    other folds the same way registration fits it, and the distance, in reference-plane pixels,
    between where it maps the held-out match and where the match really is, is recorded.

    Attributes:
        median, p90: of the held-out distances, reference-plane pixels.
        n: number of held-out matches.
        coverage: share (0..1) of the grid cells of the view that see the reference and hold
            at least 3 matches.
        grid_p90: ``rows x cols`` p90 per cell of a regular grid over the view (None: no match there).
        grid_n: matches per cell.
        worst: ``(x, y, p90)``: centre of the worst cell, view pixels, and its p90; None without cells.
        method: how it was measured, e.g. ``"5-fold cross-validation"``, ``"propagated via IMG_2.jpg"``.
        models: model name -> ``(median, p90)`` of every model tried, e.g. ``{"homography": ..., "tps": ...}``.
    """

    median: float
    p90: float
    n: int
    coverage: float
    grid_p90: tuple[tuple[float | None, ...], ...] = ()
    grid_n: tuple[tuple[int, ...], ...] = ()
    worst: tuple[float, float, float] | None = None
    method: str = ""
    models: dict[str, tuple[float, float]] = field(default_factory=dict)

    def local_p90(self, view_size: tuple[int, int], box: tuple[float, float, float, float]) -> tuple[float, int] | None:
        """p90 (reference pixels) over the grid cells that meet ``box`` ``(x0, y0, x1, y1)`` (view pixels).

        The worst cell that meets the box and holds matches counts. Returns ``(p90, matches)`` or
        None when no cell under the box holds matches.
        """
        if not self.grid_p90:
            return None
        rows, cols = len(self.grid_p90), len(self.grid_p90[0])
        w, h = view_size
        c0 = int(np.clip(np.floor(box[0] / w * cols), 0, cols - 1))
        c1 = int(np.clip(np.floor(box[2] / w * cols), 0, cols - 1))
        r0 = int(np.clip(np.floor(box[1] / h * rows), 0, rows - 1))
        r1 = int(np.clip(np.floor(box[3] / h * rows), 0, rows - 1))
        vals = [
            (p90, self.grid_n[r][c])
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (p90 := self.grid_p90[r][c]) is not None
        ]
        if not vals:
            return None
        return max(v for v, _ in vals), sum(n for _, n in vals)

    def to_json(self) -> dict[str, Any]:
        """JSON form; non-finite figures (nothing measurable) are written as null."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "median": num(self.median),
            "p90": num(self.p90),
            "n": self.n,
            "coverage": self.coverage,
            "grid_p90": [list(r) for r in self.grid_p90],
            "grid_n": [list(r) for r in self.grid_n],
            "worst": None if self.worst is None else list(self.worst),
            "method": self.method,
            "models": {k: [num(v[0]), num(v[1])] for k, v in self.models.items()},
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HeldOutError:
        w = d.get("worst")

        def num(v: Any) -> float:
            return float("inf") if v is None else float(v)

        return cls(
            median=num(d["median"]),
            p90=num(d["p90"]),
            n=int(d["n"]),
            coverage=float(d.get("coverage", 0.0)),
            grid_p90=tuple(tuple(None if v is None else float(v) for v in r) for r in d.get("grid_p90") or ()),
            grid_n=tuple(tuple(int(v) for v in r) for r in d.get("grid_n") or ()),
            worst=None if w is None else (float(w[0]), float(w[1]), float(w[2])),
            method=str(d.get("method", "")),
            models={str(k): (num(v[0]), num(v[1])) for k, v in (d.get("models") or {}).items()},
        )


@dataclass(frozen=True, eq=False)
class Registration:
    """How one view maps onto the reference view.

    Attributes:
        view_id: the view.
        status: ``"reference"``, ``"registered"`` or ``"unregistered"``.
        H_ref_from_view: (3, 3) float64 mapping view pixels to reference pixels
            (original geometry of both photos), or None when unregistered. With a
            ``deformation`` it is the base homography the spline corrects.
        inliers: number of inlier correspondences supporting it.
        reproj_error: median distance of the matches it was fitted to, reference pixels
            (a fit residual, optimistic; ``heldout`` is the honest figure).
        overlap: fraction of the view's area that lands inside the reference photo, 0..1.
        method: how it was found, e.g. ``"sift+magsac, chained via IMG_2.jpg"``.
        reason: why a view is unregistered (None otherwise).
        deformation: the smooth correction of the homography for a wall that is not one plane,
            or None (the homography alone maps the view).
        heldout: the error on held-out matches (None: not measured, e.g. projects aligned by
            multiview < 0.2, or the reference view).
        note: why the model is what it is, e.g. ``"homography kept: too few matches for a
            deformable model (31 < 60)"`` (empty when nothing to say).
    """

    view_id: str
    status: str
    H_ref_from_view: np.ndarray | None = None
    inliers: int = 0
    reproj_error: float | None = None
    overlap: float | None = None
    method: str = ""
    reason: str | None = None
    deformation: Deformation | None = None
    heldout: HeldOutError | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("reference", "registered") and self.H_ref_from_view is not None

    @property
    def model(self) -> str:
        """``"homography"``, ``"tps"`` (homography + thin-plate spline) or ``""`` when unregistered."""
        if not self.ok:
            return ""
        return "homography" if self.deformation is None else self.deformation.kind

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
            "model": self.model,
            "deformation": None if self.deformation is None else self.deformation.to_json(),
            "heldout": None if self.heldout is None else self.heldout.to_json(),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Registration:
        H = d.get("H_ref_from_view")
        dfm = d.get("deformation")
        ho = d.get("heldout")
        return cls(
            view_id=str(d["view"]),
            status=str(d["status"]),
            H_ref_from_view=None if H is None else np.asarray(H, dtype=np.float64).reshape(3, 3),
            inliers=int(d.get("inliers", 0)),
            reproj_error=d.get("reproj_error"),
            overlap=d.get("overlap"),
            method=str(d.get("method", "")),
            reason=d.get("reason"),
            deformation=None if dfm is None else Deformation.from_json(dfm),
            heldout=None if ho is None else HeldOutError.from_json(ho),
            note=str(d.get("note", "")),
        )


@dataclass(frozen=True)
class Ordering:
    """Order of the views in the pseudo-video.

    Attributes:
        mode: ``"name"`` (natural file-name order) or ``"auto"`` (the gentlest viewpoint steps,
            :mod:`multiview.alignment.ordering`).
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

    @property
    def computed_at(self) -> str:
        """How the mask was computed, e.g. ``"sam2 1024 px"``, ``"sam2 512 px preview"`` or ``"homography"``.

        The model input size comes from ``meta["image_size"]``; ``meta["pass"] == "preview"``
        marks a quick preview that a full-size pass has not replaced yet.
        """
        size = self.meta.get("image_size")
        out = self.tracker or "unknown"
        if isinstance(size, int):
            out += f" {size} px"
        if self.meta.get("pass") == "preview":
            out += " preview"
        return out


#: Format tag and version of an occlusion layer file (``occlusion/<view>.npz``).
OCCLUSION_FORMAT = "multiview-occlusion"
OCCLUSION_VERSION = 1


@dataclass(frozen=True, eq=False)
class OcclusionLayer:
    """Where one view does not show the wall: something in front of it hides it.

    Computed by :mod:`multiview.occlusion` from photometric consistency with the other
    registered views; a property of the view (the photo and the geometry), shared by every
    object on it.

    Attributes:
        view_id: the view.
        occluded: (h, w) uint8 0..255 soft map at the layer's *analysis size* (the view's
            working copy downscaled, ``size``); occluded where ``>= 128``.
        known: (h, w) bool, False where no other view sees that part of the wall (or the views
            contradict each other, or the photo is clipped): unknown, never occluded.
        support: (h, w) uint8, how many other views the verdict rests on (0 = unknown; an
            occluded pixel with support 1 rests on a single other view: weaker evidence).
        meta: JSON-safe details: ``format``, ``version``, ``fingerprint`` (of the photos, the
            geometry and the settings it was computed from), ``sources`` (views compared),
            ``occluded_share`` and ``weak_share`` (of the known pixels), ``known_share``,
            ``seconds``.

    Convention:
        Analysis pixels map to original photo pixels by :func:`multiview.raster.scale_between`
        of the sizes (the whole photo, pixel centres at integers). Bring the maps to another
        size with :meth:`at_size`.
    """

    view_id: str
    occluded: np.ndarray
    known: np.ndarray
    support: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """``(w, h)`` of the stored maps (the analysis size)."""
        return int(self.occluded.shape[1]), int(self.occluded.shape[0])

    def at_size(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """``(occluded, known)`` as (H, W) bool at ``size = (W, H)`` (bilinear, then >= 0.5).

        Unknown pixels are never occluded.
        """
        if tuple(size) == self.size:
            occ, known = self.occluded >= 128, self.known.copy()
        else:
            occ = resize_prob(self.occluded, size) >= 128
            known = resize_prob(self.known.astype(np.uint8) * 255, size) >= 128
        return occ & known, known
