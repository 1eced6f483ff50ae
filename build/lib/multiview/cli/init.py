"""``multiview init``: create a project from a folder of photos."""

from __future__ import annotations

from pathlib import Path

import click

from .options import overwrite_opt


@click.command("init")
@click.argument("photos_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("project_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--order",
    type=click.Choice(["name", "auto"]),
    default="name",
    show_default=True,
    help="Pseudo-video order: file names, or by visual overlap of the views.",
)
@click.option(
    "--reference",
    metavar="PHOTO",
    help=(
        "Reference view (file name or stem); default the middle view, "
        "or with --order auto the view that overlaps the others most."
    ),
)
@click.option(
    "--work-size",
    "work_max_side",
    type=click.IntRange(256, 16384),
    default=2048,
    show_default=True,
    help="Longer side of the working copies, pixels (exports keep the original size).",
)
@overwrite_opt
@click.pass_context
def command(
    ctx: click.Context,
    photos_dir: Path,
    project_dir: Path,
    order: str,
    reference: str | None,
    work_max_side: int,
    overwrite: bool,
) -> None:
    """Create a project in PROJECT_DIR from the photos in PHOTOS_DIR."""
    from ..project import Project

    proj = Project.create(
        photos_dir, project_dir, reference=reference, work_max_side=work_max_side, overwrite=overwrite
    )
    if order == "auto":
        from ..alignment.ordering import auto_order, best_connected_view

        proj.set_ordering(auto_order(proj))
        if reference is None:
            proj.set_reference(best_connected_view(proj))
    quiet = ctx.obj.get("quiet")
    skipped = proj.section("skipped_files")
    if not quiet:
        click.echo(f"created {proj.root} with {len(proj.views)} views (order: {order}, reference: {proj.reference.id})")
        if skipped:
            click.echo(f"skipped {len(skipped)} file(s) that are not photos: {', '.join(skipped)}")
        for note in proj.section("photo_notes") or []:
            click.echo(note)
