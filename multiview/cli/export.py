"""``multiview export``: write the per-view masks in one or more formats."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import EXPORTERS, KEEP_CHOICES
from .options import obj_opt, open_project, overwrite_opt, project_arg
from .status import scale_opt


@click.command("export")
@project_arg
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(list(EXPORTERS)),
    default=("png",),
    show_default=True,
    help="Output format (repeatable): png (mask per object and view), labels (indexed PNG per view), "
    "h5 (HDF5 stack), coco (COCO RLE JSON), metashape, colmap, realitycapture (photogrammetry masks).",
)
@obj_opt
@click.option(
    "--keep",
    type=click.Choice(KEEP_CHOICES),
    default="object",
    show_default=True,
    help="Photogrammetry masks keep the painted object, or the background (mask out an occluder).",
)
@scale_opt
@click.option(
    "--canvas-size",
    "canvas_max_side",
    type=click.IntRange(16, 16384),
    help="Longer side of the reference-plane stack in the h5 file (default: reference working size).",
)
@overwrite_opt
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    out: Path,
    formats: tuple[str, ...],
    obj_ids: tuple[int, ...],
    keep: str,
    scale,
    canvas_max_side: int | None,
    overwrite: bool,
) -> None:
    """Export masks of PROJECT_DIR into the folder OUT (written complete or not at all)."""
    from ..export import ExportOptions, export

    proj = open_project(project_dir)
    options = ExportOptions(keep=keep, scale=proj.scale(scale), canvas_max_side=canvas_max_side)
    counts = export(proj, out, formats, obj_ids=list(obj_ids) or None, overwrite=overwrite, options=options)
    if not ctx.obj.get("quiet"):
        click.echo(", ".join(f"{fmt}: {n} file(s)" for fmt, n in counts.items()) + f" -> {out}")
