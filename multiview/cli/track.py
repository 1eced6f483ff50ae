"""``multiview track``: propagate every object from its prompted views to all views."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project
    from ..tracking import TrackEvent
    from ..tracking.sam2.tracker import Sam2Tracker

from .options import obj_opt, open_project, project_arg, sam2_kwargs, sam2_options, speed_kwargs, speed_options


@click.command("track")
@project_arg
@click.option("--tracker", default="homography", show_default=True, help="Tracker to run (homography, sam2).")
@obj_opt
@click.option("--full", is_flag=True, help="Recompute every view, not only those new prompts govern.")
@sam2_options
@speed_options
@click.option(
    "--frames",
    "frame_mode",
    type=click.Choice(("unaligned", "aligned")),
    default=None,
    help="sam2: photos as they are, or warped onto the reference (needs `multiview align`) [default: unaligned].",
)
@click.option("--wait", is_flag=True, help="If another tracking run holds the project, wait for it to end.")
@click.option(
    "--check-speed-preset",
    is_flag=True,
    help="Do not track: run `exact` and the --speed preset (or the project's) on a few of your views with your "
    "checkpoint and report the IoU between their masks. Nothing is stored.",
)
@click.option(
    "--check-views",
    type=click.IntRange(2, 64),
    default=4,
    show_default=True,
    help="Views compared by --check-speed-preset.",
)
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
    speed: str | None,
    max_cond_frames: int | None,
    preview_size: int | None,
    frame_mode: str | None,
    wait: bool,
    check_speed_preset: bool,
    check_views: int,
) -> None:
    """Track the prompted objects through every view and store the masks."""
    from ..tracking import get_tracker, run_tracking

    options = sam2_kwargs(model, checkpoint, device, image_size, precision)
    speed_opts = speed_kwargs(speed, max_cond_frames, preview_size)
    options.update(speed_opts)
    if frame_mode is not None:
        options["frames"] = frame_mode
    if check_speed_preset and tracker != "sam2":
        raise click.UsageError("--check-speed-preset is an option of --tracker sam2")
    if options and tracker != "sam2":
        raise click.UsageError(f"--{next(iter(options)).replace('_', '-')} is an option of --tracker sam2")
    proj = open_project(project_dir)
    trk = get_tracker(tracker, **options)
    quiet = ctx.obj.get("quiet")
    from ..tracking.sam2.tracker import Sam2Tracker  # no torch: the model loads on first use

    sam = trk if isinstance(trk, Sam2Tracker) else None
    if check_speed_preset and sam is not None:
        _check(proj, sam, check_views, list(obj_ids) or None, quiet)
        return
    if sam is not None:
        from ..tracking.sam2.speed import save_settings

        settings = sam.settings(proj)
        _ = sam.predictor  # load the model first: a missing checkpoint is the only line
        if speed_opts:
            save_settings(proj, settings)
        if not quiet:
            click.echo(f"sam2 speed {settings.describe()}", err=True)

    def show(event: TrackEvent) -> None:
        if not quiet:
            r = event.result
            score = "" if r.score is None else f"  score {r.score:.2f}"
            where = f"  ({r.computed_at})" if r.meta.get("pass") == "preview" else ""
            click.echo(f"  object {event.obj_id} on {event.view_id}: {r.area} px{score}{where}", err=True)

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


def _check(proj: Project, trk: Sam2Tracker, views: int, obj_ids: list[int] | None, quiet: bool) -> None:
    from ..tracking.sam2.speedcheck import check_speed

    settings = trk.settings(proj)
    report = check_speed(
        proj,
        trk,
        settings=settings,
        views=views,
        obj_ids=obj_ids,
        on_progress=None if quiet else (lambda msg: click.echo(f"  running {msg}", err=True)),
    )
    click.echo(f"speed check at {report.image_size} px: {settings.describe()}  vs  exact")
    for r in report.rows:
        pv = "" if r.preview_iou is None else f"  preview IoU {r.preview_iou:.3f}"
        tag = "  (prompted)" if r.prompted else ""
        click.echo(
            f"  object {r.obj_id} on {r.view_id}: IoU {r.iou:.3f}{pv}  area {r.preset_area} / {r.exact_area} px{tag}"
        )
    ratio = report.exact_s / report.preset_s if report.preset_s > 0 else float("inf")
    click.echo(
        f"min IoU {report.min_iou:.3f} over {len(report.rows)} view(s); exact {report.exact_s:.1f} s, "
        f"{settings.name} {report.preset_s:.1f} s ({ratio:.2f}x)"
        + (
            ""
            if report.preview_s is None
            else f", preview {report.preview_s:.1f} s (min IoU {report.min_preview_iou:.3f})"
        )
    )
    if not report.corrections:
        click.echo(
            "note: one prompted view in the compared stretch: the prompted-view cap and the early stop of "
            "corrections did not act here"
        )
