"""Options of the SAM 2 engine shared by ``track`` and ``prompt`` (imported without torch)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

MODEL_NAMES = ("sam2.1_hiera_tiny", "sam2.1_hiera_small", "sam2.1_hiera_base_plus", "sam2.1_hiera_large")


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
