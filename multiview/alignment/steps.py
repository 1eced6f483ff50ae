"""How gentle the step between two views is, measured on the homography that maps one onto the other.

A pseudo-video is easiest for a tracker when each view looks like the previous one
seen from a slightly different place: the painted objects keep their shape, their
size and their place in the frame. The homography ``H_b_from_a`` between two views
of a wall says exactly how much of that changes. Its local affine part (the
Jacobian, a 2x2 matrix at every pixel) is decomposed by singular values
``s1 >= s2`` at a grid of points over the part of each photo the other one sees:

- **tilt**: mean ``log(s1 / s2)`` over the overlap, the log of the *transition
  tilt* between the two viewpoints (Morel & Yu, "ASIFT: A New Framework for Fully
  Affine Invariant Image Comparison", SIAM J. Imaging Sciences 2009): how much
  more one view foreshortens the wall than the other;
- **perspective**: standard deviation of the local log scale ``log sqrt(s1 s2)``
  over the overlap: the wall's near side grows while its far side shrinks when
  the camera turns (it is ``3 * |grad log w|`` times the spread of the points for
  ``w`` the homogeneous denominator of ``H``), so two views at -20 deg and +20 deg,
  which foreshorten the wall alike, still differ here;
- **zoom**: ``|mean log scale|``, with pixel coordinates divided by
  ``sqrt(width * height)`` of their photo, so that it compares fields of view, not
  pixel counts (a 50 MP close-up and a 12 MP overview of the same framing have
  zoom 0);
- **shift**: how far the centre of one photo lands from the centre of the other,
  in units of ``sqrt(width * height)``;
- **overlap**: the fraction of each photo the other one sees (mean of both).

Every figure is measured in both directions (``H`` over ``a``'s grid and ``H^-1``
over ``b``'s grid) and averaged, so the step is symmetric.

The step **cost** is ``tilt + perspective + ZOOM_WEIGHT * zoom + SHIFT_WEIGHT * shift``:
a change of viewpoint counts fully, a change of scale or framing less (SIFT and the
SAM 2 memory follow an object through scale and position well, through a change of
its shape much less). With these weights a 2x zoom costs about as much as a 10 deg
turn, so a close-up goes where it was taken along the walk instead of to an end of
the sequence, and a walk parallel to the wall (pure shift) is still ordered. The
weights were chosen on the Oxford ``graf``, ``wall``, ``boat`` and ``bark``
sequences and on the synthetic sample (6 seeds, 6 and 8 views): all come out in
their true order for zoom weights 0.1-0.2 and shift weights 0-0.2 (see
``benchmarks/ordering.py``).

Convention:
    ``H_b_from_a`` maps pixels ``(x, y)`` of image ``a`` (origin at the top-left of
    the pixel grid, pixel centres at integers) to pixels of image ``b``; sizes are
    ``(width, height)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Weight of the zoom (|log of the field-of-view ratio|) in the step cost.
ZOOM_WEIGHT = 0.15
#: Weight of the shift (centre displacement / sqrt(photo area)) in the step cost.
SHIFT_WEIGHT = 0.05
#: Grid of ``GRID x GRID`` sample points over each photo.
GRID = 16
#: Fewest grid points inside the other photo for the step to be measured (per side).
MIN_POINTS = 4


@dataclass(frozen=True)
class ViewStep:
    """How far apart two views are, from the homography between them (see the module doc).

    Attributes:
        tilt: mean log transition tilt ``log(s1 / s2)`` over the overlap, >= 0.
        perspective: standard deviation of the local log scale over the overlap, >= 0.
        zoom: ``|mean local log scale|`` with sizes normalised by ``sqrt(w * h)``, >= 0.
        shift: centre-to-centre displacement in units of ``sqrt(w * h)``, >= 0.
        overlap: mean fraction 0..1 of each photo seen by the other.
    """

    tilt: float
    perspective: float
    zoom: float
    shift: float
    overlap: float

    @property
    def cost(self) -> float:
        """``tilt + perspective + ZOOM_WEIGHT * zoom + SHIFT_WEIGHT * shift`` (dimensionless, >= 0)."""
        return self.tilt + self.perspective + ZOOM_WEIGHT * self.zoom + SHIFT_WEIGHT * self.shift


def _jacobians(H: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jacobian of ``H`` at ``pts``: ``(J (N, 2, 2), mapped (N, 2), w (N,))``."""
    x, y = pts[:, 0], pts[:, 1]
    w = H[2, 0] * x + H[2, 1] * y + H[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (H[0, 0] * x + H[0, 1] * y + H[0, 2]) / w
        v = (H[1, 0] * x + H[1, 1] * y + H[1, 2]) / w
        J = np.empty((len(pts), 2, 2))
        J[:, 0, 0] = (H[0, 0] - u * H[2, 0]) / w
        J[:, 0, 1] = (H[0, 1] - u * H[2, 1]) / w
        J[:, 1, 0] = (H[1, 0] - v * H[2, 0]) / w
        J[:, 1, 1] = (H[1, 1] - v * H[2, 1]) / w
    return J, np.stack([u, v], axis=1), w


def _singular_values(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Singular values ``s1 >= s2 >= 0`` of (K, 2, 2) matrices, in closed form.

    With ``E = (a + d) / 2``, ``F = (a - d) / 2``, ``G = (c + b) / 2``, ``H = (c - b) / 2`` for
    ``[[a, b], [c, d]]``: ``s1 = hypot(E, H) + hypot(F, G)``, ``s2 = |hypot(E, H) - hypot(F, G)|``
    (J. Blinn, "Consider the lowly 2x2 matrix", IEEE CG&A 1996).
    """
    a, b, c, d = J[:, 0, 0], J[:, 0, 1], J[:, 1, 0], J[:, 1, 1]
    q = np.hypot((a + d) / 2, (c - b) / 2)
    r = np.hypot((a - d) / 2, (c + b) / 2)
    return q + r, np.abs(q - r)


def _one_side(
    H_b_from_a: np.ndarray, size_a: tuple[int, int], size_b: tuple[int, int], grid: int
) -> tuple[float, float, float, float, float] | None:
    """``(overlap, tilt, perspective, signed mean log scale, shift)`` over ``a``'s grid, or None."""
    wa, ha = size_a
    wb, hb = size_b
    xs = (np.arange(grid) + 0.5) / grid * wa - 0.5
    ys = (np.arange(grid) + 0.5) / grid * ha - 0.5
    pts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    J, q, w = _jacobians(H_b_from_a, pts)
    inside = (
        (w > 0)
        & np.all(np.isfinite(q), axis=1)
        & (q[:, 0] >= -0.5)
        & (q[:, 0] <= wb - 0.5)
        & (q[:, 1] >= -0.5)
        & (q[:, 1] <= hb - 0.5)
    )
    if int(inside.sum()) < MIN_POINTS:
        return None
    Jn = J[inside] * np.sqrt((wa * ha) / (wb * hb))  # photo sizes normalised to unit area
    s1, s2 = _singular_values(Jn)
    if not (np.all(np.isfinite(s1)) and np.all(s2 > 0)):
        return None
    ls = np.log(np.stack([s1, s2], axis=1))
    log_scale = ls.mean(axis=1)
    _, centre, wc = _jacobians(H_b_from_a, np.array([[(wa - 1) / 2, (ha - 1) / 2]]))
    if not (wc[0] > 0 and np.all(np.isfinite(centre))):
        return None
    shift = float(np.linalg.norm(centre[0] - [(wb - 1) / 2, (hb - 1) / 2]) / np.sqrt(wb * hb))
    tilt = float(np.mean(ls[:, 0] - ls[:, 1]))
    return float(inside.mean()), tilt, float(np.std(log_scale)), float(np.mean(log_scale)), shift


def view_step(
    H_b_from_a: np.ndarray, size_a: tuple[int, int], size_b: tuple[int, int], grid: int = GRID
) -> ViewStep | None:
    """The step between views ``a`` and ``b`` (symmetric: same result for ``H^-1`` and swapped sizes).

    Args:
        H_b_from_a: (3, 3) float homography, ``a`` pixels to ``b`` pixels.
        size_a, size_b: ``(width, height)`` of the photos, pixels.
        grid: sample points per side of each photo's grid.

    Returns:
        the :class:`ViewStep`, or None when the homography is singular or either photo
        sees fewer than :data:`MIN_POINTS` grid points of the other (no usable overlap).
    """
    H = np.asarray(H_b_from_a, np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        return None
    try:
        H_a_from_b = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return None
    fwd = _one_side(H, size_a, size_b, grid)
    bwd = _one_side(H_a_from_b, size_b, size_a, grid)
    if fwd is None or bwd is None:
        return None
    return ViewStep(
        tilt=0.5 * (fwd[1] + bwd[1]),
        perspective=0.5 * (fwd[2] + bwd[2]),
        zoom=0.5 * (abs(fwd[3]) + abs(bwd[3])),
        shift=0.5 * (fwd[4] + bwd[4]),
        overlap=0.5 * (fwd[0] + bwd[0]),
    )
