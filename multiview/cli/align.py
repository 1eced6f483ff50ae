"""``multiview align``: register every view to the reference view (homographies)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import open_project, project_arg


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
@click.pass_context
def command(ctx: click.Context, project_dir: Path, reference: str | None, refine: bool, ecc: bool) -> None:
    """Register every view of PROJECT_DIR to the reference plane and show the quality per view."""
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

    res = align_project(proj, AlignOptions(refine=refine, ecc=ecc), progress)
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
    for i, v in enumerate(proj.views):
        r = res.registrations[v.id]
        err = "" if r.reproj_error is None else f"{r.reproj_error:.2f}"
        ov = "" if r.overlap is None else f"{r.overlap:.2f}"
        info = r.method if r.ok else f"UNREGISTERED: {r.reason}"
        rows.append(
            (str(i), v.id, r.status, str(r.inliers) if r.ok else "", err, ov, f"{res.seconds.get(v.id, 0.0):.1f}", info)
        )
    header = ("#", "view", "status", "inliers", "err px", "overlap", "s", "method")
    widths = [max(len(row[k]) for row in (*rows, header)) for k in range(len(header) - 1)]
    for row in (header, *rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1])
    n_ok = sum(r.ok for r in res.registrations.values())
    click.echo(f"{n_ok} of {len(proj.views)} views registered to {proj.reference.id}")
