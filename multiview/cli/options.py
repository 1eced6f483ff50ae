"""Options and parsers shared by the commands (rasterio-style decorators)."""

from __future__ import annotations

from pathlib import Path

import click

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


def open_project(path: Path, verify: bool = True):
    """Open a project (errors are mapped to clean messages by the main group)."""
    from ..project import Project

    return Project.open(path, verify=verify)
