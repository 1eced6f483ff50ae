"""``multiview show``: a contact sheet of every view, or one view large with its prompts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale

from .options import (
    drift_options,
    obj_opt,
    open_project,
    overwrite_opt,
    project_arg,
    scale_opt,
    thresholds_from,
)


@click.command("show")
@project_arg
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--view", "view", metavar="PHOTO", help="Draw this view large with its prompts instead of the sheet.")
@obj_opt
@click.option(
    "--tile",
    type=click.IntRange(96, 1024),
    default=240,
    show_default=True,
    help="Thumbnail width on the contact sheet, pixels.",
)
@click.option(
    "--per-page",
    type=click.IntRange(1, 1000),
    default=48,
    show_default=True,
    help="Thumbnails per page; more views give OUT-1.png, OUT-2.png...",
)
@click.option("--columns", type=click.IntRange(1, 50), help="Thumbnails per row (default: up to 8).")
@click.option(
    "--size",
    "max_side",
    type=click.IntRange(128, 8192),
    default=1600,
    show_default=True,
    help="Longer side of the photo with --view, pixels.",
)
@scale_opt
@drift_options
@overwrite_opt
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    out: Path,
    view: str | None,
    obj_ids: tuple[int, ...],
    tile: int,
    per_page: int,
    columns: int | None,
    max_side: int,
    scale: Scale | None,
    min_iou: float,
    max_area_ratio: float,
    min_score: float,
    min_present: float,
    overwrite: bool,
) -> None:
    """Draw the masks of PROJECT_DIR into the picture OUT (PNG).

    Without --view: every view in order with coloured, outlined masks, names, scores and
    drift marks (red frame and reason). With --view: that view large, with its masks and
    prompts (green + positive clicks, red - negative clicks, boxes in the object colour).
    """
    from ..review import review, write_contact_sheet, write_view_picture

    if out.suffix and out.suffix.lower() != ".png":
        raise click.BadParameter(f"'{out}' must be a .png file name (pictures are PNG)", param_hint="OUT")
    proj = open_project(project_dir)
    ids = list(obj_ids) or None
    scale = proj.scale(scale)
    report = review(proj, ids, thresholds_from(min_iou, max_area_ratio, min_score, min_present), scale)
    if view is not None:
        path = write_view_picture(proj, view, out, report, ids, max_side=max_side, overwrite=overwrite)
        paths = [path]
    else:
        paths = write_contact_sheet(
            proj, out, report, ids, tile=tile, per_page=per_page, columns=columns, overwrite=overwrite
        )
    if not ctx.obj.get("quiet"):
        click.echo(f"wrote {', '.join(str(p) for p in paths)}")
