"""``multiview prompt``: record points, a box or a mask for an object on a view."""

from __future__ import annotations

from pathlib import Path

import click

from .options import open_project, parse_box, parse_xy, project_arg


@click.command("prompt")
@project_arg
@click.option("--view", "view", required=True, metavar="PHOTO", help="Photo file name or stem.")
@click.option("--obj", "obj_id", type=click.IntRange(1, 255), required=True, help="Object id (created if new).")
@click.option("--name", help="Name of a new object (e.g. 'left hand').")
@click.option("--point", "points", multiple=True, metavar="X,Y", help="Positive click, original pixels (repeatable).")
@click.option("--neg", "negs", multiple=True, metavar="X,Y", help="Negative click (repeatable).")
@click.option("--box", metavar="X0,Y0,X1,Y1", help="Box around the object.")
@click.option("--mask", "mask_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="8-bit image the size of the photo, non-zero = object.")
@click.pass_context
def command(ctx: click.Context, project_dir: Path, view: str, obj_id: int, name: str | None,
            points: tuple[str, ...], negs: tuple[str, ...], box: str | None, mask_path: Path | None) -> None:
    """Add a prompt in original-photo pixels (x to the right, y down, origin top-left)."""
    import cv2

    proj = open_project(project_dir)
    pts = [parse_xy(p, "--point") for p in points] + [parse_xy(p, "--neg") for p in negs]
    labels = [1] * len(points) + [0] * len(negs)
    mask = None
    if mask_path is not None:
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise click.BadParameter(f"cannot read '{mask_path}' as an image", param_hint="--mask")
    if not pts and box is None and mask is None:
        raise click.UsageError("give at least one --point, --neg, --box or --mask")
    p = proj.add_prompt(view, obj_id, points=pts, labels=labels,
                        box=parse_box(box) if box else None, mask=mask, object_name=name)
    if not ctx.obj.get("quiet"):
        click.echo(f"prompt {p.id}: object {p.obj_id} on {p.view_id} ({p.kind})")
