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
    "h5 (HDF5 stack), coco (COCO RLE JSON), metashape, colmap, realitycapture (photogrammetry masks); "
    "damage map: ortho (orthophoto GeoTIFF + JPEG), gpkg (GeoPackage), geojson, dxf (CAD, cm), "
    "svg (over the orthophoto, with legend), summary (areas per category: CSV + PNG) "
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
@click.option(
    "--visible/--amodal",
    "visible",
    default=None,
    help="Visible masks (the object minus what stands in front of the wall in that photo) or amodal "
    "masks (the whole object, hidden parts included). Default: visible for metashape, colmap and "
    "realitycapture, amodal for the others; h5 stores both.",
)
@scale_opt
@click.option(
    "--canvas-size",
    "canvas_max_side",
    type=click.IntRange(16, 16384),
    help="Longer side of the reference-plane stack in the h5 file (default: reference working size).",
)
@click.option(
    "--ortho-res",
    type=float,
    metavar="PX_PER_CM",
    help="Orthophoto resolution in pixels per cm on the wall (needs a scale) [default: the reference photo's].",
)
@click.option("--ortho-overlay", is_flag=True, help="Also write the orthophoto with the outlines drawn over it.")
@click.option(
    "--tolerance",
    "tolerance_px",
    type=click.FloatRange(0, 100),
    default=0.5,
    show_default=True,
    help="Simplification tolerance of the damage-map outlines, reference-plane pixels (topology kept).",
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
    visible: bool | None,
    scale: Scale | None,
    canvas_max_side: int | None,
    ortho_res: float | None,
    ortho_overlay: bool,
    tolerance_px: float,
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
    proj = open_project(project_dir, need_photos=False)  # stored masks need no pixels (orthophotos do)
    quiet = ctx.obj.get("quiet")
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet or last.get(stage) == done:
            return
        last[stage] = done
        if done == total or done % max(1, total // 4) == 0:
            click.echo(f"  {stage}: {done}/{total}", err=True)

    options = ExportOptions(
        keep=keep,
        scale=proj.scale(scale),
        canvas_max_side=canvas_max_side,
        tolerance_px=tolerance_px,
        ortho_res=ortho_res,
        ortho_overlay=ortho_overlay,
        progress=progress,
        visible=visible,
    )
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
    if not quiet:
        click.echo(", ".join(f"{fmt}: {n} file(s)" for fmt, n in counts.items()) + f" -> {where}")
