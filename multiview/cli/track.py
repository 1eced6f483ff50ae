"""``multiview track``: propagate every object from its prompted views to all views."""

from __future__ import annotations

from pathlib import Path

import click

from .options import obj_opt, open_project, project_arg


@click.command("track")
@project_arg
@click.option("--tracker", default="homography", show_default=True, help="Tracker to run.")
@obj_opt
@click.option("--full", is_flag=True, help="Recompute every view, not only those new prompts govern.")
@click.pass_context
def command(ctx: click.Context, project_dir: Path, tracker: str, obj_ids: tuple[int, ...], full: bool) -> None:
    """Track the prompted objects through every view and store the masks."""
    from ..tracking import get_tracker, run_tracking

    proj = open_project(project_dir)
    trk = get_tracker(tracker)
    n = run_tracking(proj, trk, obj_ids=list(obj_ids) or None, full=full)
    if not ctx.obj.get("quiet"):
        click.echo(f"{tracker}: stored {n} mask(s)")
