"""``multiview export``: write the per-view masks in one or more formats."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import EXPORTERS
from .options import obj_opt, open_project, overwrite_opt, project_arg


@click.command("export")
@project_arg
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "formats", multiple=True, type=click.Choice(sorted(EXPORTERS)), default=("png",),
              show_default=True, help="Output format (repeatable).")
@obj_opt
@overwrite_opt
@click.pass_context
def command(ctx: click.Context, project_dir: Path, out: Path, formats: tuple[str, ...], obj_ids: tuple[int, ...],
            overwrite: bool) -> None:
    """Export masks of PROJECT_DIR into OUT (written complete or not at all)."""
    from ..export import export

    proj = open_project(project_dir)
    counts = export(proj, out, formats, obj_ids=list(obj_ids) or None, overwrite=overwrite)
    if not ctx.obj.get("quiet"):
        click.echo(", ".join(f"{fmt}: {n} file(s)" for fmt, n in counts.items()) + f" -> {out}")
