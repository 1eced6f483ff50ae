"""``multiview scale``: store the physical scale of the reference plane in the project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale

from .options import open_project, project_arg


@click.command("scale")
@project_arg
@click.argument("value", metavar="PX_PER_CM|X1,Y1,X2,Y2,DIST", required=False)
@click.option("--clear", is_flag=True, help="Remove the stored scale.")
@click.pass_context
def command(ctx: click.Context, project_dir: Path, value: str | None, clear: bool) -> None:
    """Store the scale of the reference plane: pixels of the reference photo per centimetre on the
    wall (e.g. 12.5), or two points on the reference photo and their distance on the wall
    (X1,Y1,X2,Y2,DIST; DIST in cm or with a unit: 25cm, 300mm, 1.2m).

    Every command then reports areas in cm² and exports in real units; --scale on a command
    still overrides it. Without VALUE, print the stored scale.
    """
    from ..plane.scale import Scale

    proj = open_project(project_dir, verify=False)
    quiet = ctx.obj.get("quiet")
    if clear:
        if value is not None:
            raise click.UsageError("give either a VALUE or --clear, not both")
        proj.set_scale(None)
        if not quiet:
            click.echo("scale removed; areas are reported in reference-plane pixels")
        return
    if value is None:
        s = proj.scale()
        click.echo("no scale set; set one with `multiview scale PROJECT_DIR PX_PER_CM`" if s is None else _describe(s))
        return
    try:
        s = Scale.parse(value)
    except Exception as exc:  # ValidationError: shown as a usage error on VALUE
        raise click.BadParameter(str(exc), param_hint="PX_PER_CM|X1,Y1,X2,Y2,DIST") from exc
    proj.set_scale(s)
    if not quiet:
        click.echo(_describe(s))


def _describe(s: Scale) -> str:
    return f"scale {s.px_per_cm:.4g} px/cm ({10 / s.px_per_cm:.4g} mm per pixel), from {s.source}"
