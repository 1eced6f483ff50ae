"""Options and parsers shared by the commands (rasterio-style decorators).

Every option used by more than one command is defined here once: the project
argument, ``--overwrite``, ``--obj``, ``--scale``, the drift thresholds and the SAM 2
engine options. Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# The model list lives with the checkpoints; that module imports torch only when loading.
from ..tracking.sam2.checkpoints import MODELS

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale
    from ..project import Project
    from ..review import DriftThresholds

#: SAM 2.1 model names accepted by ``--model`` (the keys of the checkpoint table).
MODEL_NAMES = tuple(MODELS)

project_arg = click.argument("project_dir", metavar="PROJECT_DIR", type=click.Path(file_okay=False, path_type=Path))
overwrite_opt = click.option("--overwrite", is_flag=True, help="Replace existing output.")
obj_opt = click.option(
    "--obj", "obj_ids", type=click.IntRange(1, 255), multiple=True, help="Object id (repeatable; default: all)."
)


def parse_xy(value: str, param_hint: str) -> tuple[float, float]:
    """Parse ``"X,Y"``."""
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 2:
        raise click.BadParameter(f"'{value}' is not X,Y (two numbers separated by a comma)", param_hint=param_hint)
    return parts[0], parts[1]


def parse_box(value: str) -> tuple[float, float, float, float]:
    """Parse ``"X0,Y0,X1,Y1"``."""
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise click.BadParameter(f"'{value}' is not X0,Y0,X1,Y1 (four numbers)", param_hint="--box")
    return parts[0], parts[1], parts[2], parts[3]


def open_project(path: Path, verify: bool = True) -> Project:
    """Open a project (errors are mapped to clean messages by the main group)."""
    from ..project import Project

    return Project.open(path, verify=verify)


def _parse_scale(ctx: click.Context, param: click.Parameter, value: str | None) -> Scale | None:
    if value is None:
        return None
    from ..errors import ValidationError
    from ..plane import Scale

    try:
        return Scale.parse(value)
    except ValidationError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


scale_opt = click.option(
    "--scale",
    "scale",
    metavar="PX_PER_CM|X1,Y1,X2,Y2,DIST",
    callback=_parse_scale,
    help="Physical scale on the reference view: pixels per cm, or two points (reference pixels) and "
    "their distance (cm, or with a unit: 25cm, 300mm, 1.2m). Adds areas in cm². "
    "Overrides the scale stored with `multiview scale`.",
)


def drift_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that set the drift thresholds (see :class:`multiview.review.DriftThresholds`)."""
    from ..review import DriftThresholds

    d = DriftThresholds()
    opts = [
        click.option(
            "--min-iou",
            type=click.FloatRange(0, 1),
            default=d.min_iou,
            show_default=True,
            help="Flag a tracked view whose reference-plane IoU with the prompted view is below this.",
        ),
        click.option(
            "--max-area-ratio",
            type=click.FloatRange(1, min_open=True),
            default=d.max_area_ratio,
            show_default=True,
            help="Flag an area change vs the neighbouring views beyond this ratio.",
        ),
        click.option(
            "--min-score",
            type=click.FloatRange(0, 1),
            default=d.min_score,
            show_default=True,
            help="Flag a predicted mask score below this.",
        ),
        click.option(
            "--min-present",
            type=click.FloatRange(0, 1),
            default=d.min_present,
            show_default=True,
            help="Count the object as lost below this object-present score.",
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def thresholds_from(min_iou: float, max_area_ratio: float, min_score: float, min_present: float) -> DriftThresholds:
    """The :class:`~multiview.review.DriftThresholds` of the options given by :func:`drift_options`."""
    from ..review import DriftThresholds

    return DriftThresholds(min_iou=min_iou, max_area_ratio=max_area_ratio, min_score=min_score, min_present=min_present)


def sam2_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--model --checkpoint --device --image-size --precision`` (all default None = engine default)."""
    opts = [
        click.option(
            "--model", type=click.Choice(MODEL_NAMES), default=None, help="SAM 2.1 model [default: sam2.1_hiera_tiny]."
        ),
        click.option(
            "--checkpoint",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Checkpoint file [default: checkpoints/<model>.pt].",
        ),
        click.option(
            "--device",
            type=click.Choice(("auto", "cpu", "cuda")),
            default=None,
            help="Where the model runs [default: auto = cuda if available].",
        ),
        click.option(
            "--image-size",
            type=click.IntRange(128, 4096),
            default=None,
            help="Model input size, multiple of 32 [default: 1024, native; 512 is ~6x faster on CPU, coarser].",
        ),
        click.option(
            "--precision",
            type=click.Choice(("fp32", "bf16")),
            default=None,
            help="Arithmetic precision [default: fp32].",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def sam2_kwargs(
    model: str | None, checkpoint: Path | None, device: str | None, image_size: int | None, precision: str | None
) -> dict[str, Any]:
    """The options the user gave, as keyword arguments of the sam2 tracker."""
    if image_size is not None and image_size % 32:
        raise click.BadParameter(f"{image_size} is not a multiple of 32", param_hint="--image-size")
    given = {
        "model": model,
        "checkpoint": checkpoint,
        "device": device,
        "image_size": image_size,
        "precision": precision,
    }
    return {k: v for k, v in given.items() if v is not None}
