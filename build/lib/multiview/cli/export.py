"""``multiview export``: write the per-view masks in one or more formats."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale

from ..export import EXPORTERS, KEEP_CHOICES
from .options import obj_opt, open_project, project_arg, scale_opt


@click.command("export")
@project_arg
@click.argument("out", type=click.Path(path_type=Path), required=False)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(list(EXPORTERS)),
    help="Output format (repeatable): png (mask per object and view), labels (indexed PNG per view), "
    "h5 (HDF5 stack), coco (COCO RLE JSON), metashape, colmap, realitycapture (photogrammetry masks) "
    "[default: png; realitycapture with --beside-photos].",
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
@click.option(
    "--beside-photos",
    is_flag=True,
    help="Add the realitycapture/metashape masks to the photo folder itself, next to each photo (instead of OUT). "
    "Only adds files: replaces only masks it wrote earlier, unchanged.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace OUT if it is a previous multiview export, unchanged (nothing else is ever replaced).",
)
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    out: Path,
    formats: tuple[str, ...],
    obj_ids: tuple[int, ...],
    keep: str,
    scale: Scale | None,
    canvas_max_side: int | None,
    beside_photos: bool,
    overwrite: bool,
) -> None:
    """Export masks of PROJECT_DIR into the folder OUT (written complete or not at all).

    OUT must be new, empty, or (with --overwrite) a previous multiview export that
    nobody changed; the photo folder, the project and any folder holding other files
    are refused. With --beside-photos (and no OUT) the photogrammetry masks are added
    next to the photos instead.
    """
    from ..export import ExportOptions, export

    if beside_photos == (out is not None):
        raise click.UsageError("give an output folder OUT, or --beside-photos (not both)")
    if beside_photos and overwrite:
        raise click.UsageError("--beside-photos never replaces files it did not write; drop --overwrite")
    proj = open_project(project_dir)
    options = ExportOptions(keep=keep, scale=proj.scale(scale), canvas_max_side=canvas_max_side)
    if beside_photos:
        from ..export.photogrammetry import export_beside_photos

        counts = export_beside_photos(
            proj, formats or ("realitycapture",), obj_ids=list(obj_ids) or None, options=options
        )
        where = proj.state.photos_dir
    else:
        counts = export(
            proj, out, formats or ("png",), obj_ids=list(obj_ids) or None, overwrite=overwrite, options=options
        )
        where = str(out)
    if not ctx.obj.get("quiet"):
        click.echo(", ".join(f"{fmt}: {n} file(s)" for fmt, n in counts.items()) + f" -> {where}")
