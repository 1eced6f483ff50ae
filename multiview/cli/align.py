"""``multiview align``: register every view to the reference plane and say, honestly, how well."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import open_project, project_arg

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project


@click.command("align")
@project_arg
@click.option("--reference", metavar="PHOTO", help="Change the reference view first (file name or stem).")
@click.option(
    "--refine/--no-refine",
    default=True,
    show_default=True,
    help="Re-match each view after warping it onto the reference (more accurate).",
)
@click.option(
    "--ecc/--no-ecc",
    default=False,
    show_default=True,
    help="Also refine photometrically (ECC); kept per view only if it improves the fit.",
)
@click.option(
    "--model",
    type=click.Choice(["auto", "homography"]),
    default="auto",
    show_default=True,
    help="auto: per view, the homography, or homography + thin-plate spline where the wall is not one "
    "plane (chosen by the error on held-out matches); homography: never bend.",
)
@click.option(
    "--occluders/--no-occluders",
    default=True,
    show_default=True,
    help="Then find what stands in front of the wall in each view (scaffolding, a beam, a person) "
    "by comparing it with the other views; status, export and the workbench use it.",
)
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    reference: str | None,
    refine: bool,
    ecc: bool,
    model: str,
    occluders: bool,
) -> None:
    """Register every view of PROJECT_DIR to the reference plane and show the quality per view.

    The error columns are measured on matches the model was not fitted to (5-fold
    cross-validation over the whole overlap), in reference-plane pixels: median, 90th
    percentile, and the worst cell of an 8 x 8 grid over the photo (its centre in the
    photo's pixels and its p90)."""
    from ..alignment.pipeline import align_project
    from ..alignment.register import AlignOptions

    proj = open_project(project_dir)
    if reference is not None:
        proj.set_reference(reference)
    quiet = ctx.obj.get("quiet")
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet or last.get(stage) == done:
            return
        last[stage] = done
        if done == total or done % 10 == 0:
            click.echo(f"  {stage}: {done}/{total}", err=True)

    res = align_project(proj, AlignOptions(refine=refine, ecc=ecc, model=model), progress, occluders=occluders)
    if quiet:
        return
    order = proj.ordering
    click.echo(
        f"order ({order.mode}): "
        + " ".join(
            v
            if k == 0 or k - 1 >= len(order.neighbour_scores) or order.neighbour_scores[k - 1] is None
            else f"-{order.neighbour_scores[k - 1]:.2f}- {v}"
            for k, v in enumerate(order.view_ids)
        )
    )
    rows = []
    notes = []
    for i, v in enumerate(proj.views):
        r = res.registrations[v.id]
        ho = r.heldout
        med = p90 = worst = cover = ""
        if ho is not None:
            med, p90, cover = f"{ho.median:.2f}", f"{ho.p90:.2f}", f"{ho.coverage:.0%}"
            if ho.worst is not None:
                worst = f"{ho.worst[2]:.1f} at {ho.worst[0]:.0f},{ho.worst[1]:.0f}"
        elif r.status == "reference":
            med = p90 = "0"
        ov = "" if r.overlap is None else f"{r.overlap:.2f}"
        info = r.method if r.ok else f"UNREGISTERED: {r.reason}"
        if r.ok and r.deformation is not None and ho is not None and "homography" in ho.models:
            info += f" (homography alone: p90 {ho.models['homography'][1]:.1f} px)"
        if r.note:
            notes.append(f"  {v.id}: {r.note}")
        rows.append(
            (
                str(i),
                v.id,
                r.status,
                r.model,
                str(r.inliers) if r.ok else "",
                med,
                p90,
                worst,
                cover,
                ov,
                f"{res.seconds.get(v.id, 0.0):.1f}",
                info,
            )
        )
    header = (
        "#",
        "view",
        "status",
        "model",
        "inliers",
        "err px",
        "p90",
        "worst px at x,y",
        "cover",
        "overlap",
        "s",
        "method",
    )
    widths = [max(len(row[k]) for row in (*rows, header)) for k in range(len(header) - 1)]
    for row in (header, *rows):
        click.echo(("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]).rstrip())
    for line in notes:
        click.echo(line)
    n_ok = sum(r.ok for r in res.registrations.values())
    n_tps = sum(r.ok and r.deformation is not None for r in res.registrations.values())
    bent = f"; {n_tps} bent by a thin-plate spline (the wall is not one plane there)" if n_tps else ""
    click.echo(f"{n_ok} of {len(proj.views)} views registered to {proj.reference.id}{bent}")
    click.echo(
        "err px, p90: error on held-out matches, reference-plane pixels (5-fold cross-validation); "
        "cover: share of the photo's grid cells over the reference with matches"
    )
    if occluders:
        _echo_occluders(proj)


def _echo_occluders(proj: Project) -> None:
    from ..occlusion import stored_layers

    layers = stored_layers(proj)
    if not layers.fresh:
        click.echo(f"occluders: {layers.note()}")
        return
    found = [
        f"{vid} {o.occluded_share:.1%}" + (" (1 other view: weaker)" if len(o.sources) == 1 else "")
        for vid, o in layers.views.items()
        if o.occluded_share
    ]
    n = sum(1 for o in layers.views.values() if o.occluded_share is not None)
    none = [vid for vid, o in layers.views.items() if o.occluded_share is None]
    line = f"occluders: {', '.join(found) if found else 'none found'} (share of the wall other views see; "
    line += f"{n} view(s) compared"
    line += f", no layer for {', '.join(none)}" if none else ""
    click.echo(line + ")")
