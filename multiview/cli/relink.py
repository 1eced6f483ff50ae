"""``multiview relink``: point a project to its photos after the folder moved."""

from __future__ import annotations

from pathlib import Path

import click

from .options import open_project, project_arg


@click.command("relink")
@project_arg
@click.argument("photos_dir", metavar="NEW_PHOTOS_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def command(ctx: click.Context, project_dir: Path, photos_dir: Path) -> None:
    """Point PROJECT_DIR to its photos in NEW_PHOTOS_DIR.

    Photos are found by their content (SHA-256), so renamed files are found too; the
    project changes only if every photo is there, unchanged.
    """
    proj = open_project(project_dir, verify=False)
    renamed = proj.relink(photos_dir)
    if not ctx.obj.get("quiet"):
        click.echo(f"relinked {len(proj.views)} photo(s) to {proj.state.photos_dir}")
        for old, new in renamed.items():
            click.echo(f"  {old} is now {new}")
