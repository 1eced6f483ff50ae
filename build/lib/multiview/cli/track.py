"""``multiview track``: propagate every object from its prompted views to all views."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..tracking import TrackEvent

from .options import obj_opt, open_project, project_arg, sam2_kwargs, sam2_options


@click.command("track")
@project_arg
@click.option("--tracker", default="homography", show_default=True, help="Tracker to run (homography, sam2).")
@obj_opt
@click.option("--full", is_flag=True, help="Recompute every view, not only those new prompts govern.")
@sam2_options
@click.option(
    "--frames",
    "frame_mode",
    type=click.Choice(("unaligned", "aligned")),
    default=None,
    help="sam2: photos as they are, or warped onto the reference (needs `multiview align`) [default: unaligned].",
)
@click.option("--wait", is_flag=True, help="If another tracking run holds the project, wait for it to end.")
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    tracker: str,
    obj_ids: tuple[int, ...],
    full: bool,
    model: str | None,
    checkpoint: Path | None,
    device: str | None,
    image_size: int | None,
    precision: str | None,
    frame_mode: str | None,
    wait: bool,
) -> None:
    """Track the prompted objects through every view and store the masks."""
    from ..tracking import get_tracker, run_tracking

    options = sam2_kwargs(model, checkpoint, device, image_size, precision)
    if frame_mode is not None:
        options["frames"] = frame_mode
    if options and tracker != "sam2":
        raise click.UsageError(f"--{next(iter(options)).replace('_', '-')} is an option of --tracker sam2")
    proj = open_project(project_dir)
    trk = get_tracker(tracker, **options)
    quiet = ctx.obj.get("quiet")

    def show(event: TrackEvent) -> None:
        if not quiet:
            r = event.result
            score = "" if r.score is None else f"  score {r.score:.2f}"
            click.echo(f"  object {event.obj_id} on {event.view_id}: {r.area} px{score}", err=True)

    def waiting(other: str) -> None:
        if not quiet:
            click.echo(f"waiting for the other tracking run to finish ({other})", err=True)

    n = run_tracking(
        proj,
        trk,
        obj_ids=list(obj_ids) or None,
        full=full,
        on_result=show,
        wait=wait,
        holder="multiview track",
        on_wait=waiting,
    )
    if not quiet:
        click.echo(f"{tracker}: stored {n} mask(s)")
