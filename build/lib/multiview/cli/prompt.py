"""``multiview prompt``: record points, a box or a mask for an object on a view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

from .options import open_project, parse_box, parse_xy, project_arg, sam2_kwargs, sam2_options


@click.command("prompt")
@project_arg
@click.option("--view", "view", required=True, metavar="PHOTO", help="Photo file name or stem.")
@click.option("--obj", "obj_id", type=click.IntRange(1, 255), required=True, help="Object id (created if new).")
@click.option("--name", help="Name of a new object (e.g. 'left hand').")
@click.option(
    "--category",
    metavar="NAME",
    help="Condition-mapping category of the object (e.g. loss, flaking, crack; "
    "`multiview category PROJECT_DIR` lists them). Sets it on an existing object too.",
)
@click.option("--point", "points", multiple=True, metavar="X,Y", help="Positive click, original pixels (repeatable).")
@click.option("--neg", "negs", multiple=True, metavar="X,Y", help="Negative click (repeatable).")
@click.option("--box", metavar="X0,Y0,X1,Y1", help="Box around the object.")
@click.option(
    "--mask",
    "mask_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="8-bit image the size of the photo, non-zero = object.",
)
@click.option(
    "--candidate",
    type=click.IntRange(0, 2),
    default=None,
    help="First single click: keep SAM 2's candidate mask K (0..2) instead of the best-scored one.",
)
@click.option(
    "--preview-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write one picture per candidate [default: PROJECT_DIR/cache/sam2/candidates].",
)
@sam2_options
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    view: str,
    obj_id: int,
    name: str | None,
    category: str | None,
    points: tuple[str, ...],
    negs: tuple[str, ...],
    box: str | None,
    mask_path: Path | None,
    candidate: int | None,
    preview_dir: Path | None,
    model: str | None,
    checkpoint: Path | None,
    device: str | None,
    image_size: int | None,
    precision: str | None,
) -> None:
    """Add a prompt in original-photo pixels (x to the right, y down, origin top-left).

    A single positive click on an object that has no prompt yet shows SAM 2's three
    candidate masks with their predicted scores (when a SAM 2 checkpoint is present)
    and writes one preview picture per candidate; --candidate K keeps candidate K.
    """
    import cv2

    proj = open_project(project_dir)
    if category is not None:
        from ..categories import resolve

        category = resolve(category, proj.state.categories).key
    pts = [parse_xy(p, "--point") for p in points] + [parse_xy(p, "--neg") for p in negs]
    labels = [1] * len(points) + [0] * len(negs)
    mask = None
    if mask_path is not None:
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise click.BadParameter(f"cannot read '{mask_path}' as an image", param_hint="--mask")
    if not pts and box is None and mask is None:
        raise click.UsageError("give at least one --point, --neg, --box or --mask")
    single_click = len(points) == 1 and not negs and box is None and mask is None
    if candidate is not None and not single_click:
        raise click.UsageError("--candidate applies to a single --point (no --neg, --box or --mask)")
    quiet = ctx.obj.get("quiet")
    first = not proj.prompts_for(obj_id) if any(o.id == obj_id for o in proj.objects) else True
    if candidate is not None and not first:
        raise click.UsageError(
            f"--candidate applies to the first click on an object; object {obj_id} already has prompts"
        )
    if single_click and first:
        _show_candidates(
            proj,
            view,
            obj_id,
            pts[0],
            candidate,
            preview_dir,
            sam2_kwargs(model, checkpoint, device, image_size, precision),
            quiet,
        )
    p = proj.add_prompt(
        view,
        obj_id,
        points=pts,
        labels=labels,
        box=parse_box(box) if box else None,
        mask=mask,
        object_name=name,
        object_category=category,
        candidate=candidate,
    )
    if category is not None and proj.object(obj_id).category != category:
        proj.set_category(obj_id, category)
    if not quiet:
        extra = f", candidate {p.candidate}" if p.candidate is not None else ""
        click.echo(f"prompt {p.id}: object {p.obj_id} on {p.view_id} ({p.kind}{extra})")


def _show_candidates(
    proj: Project,
    view: str,
    obj_id: int,
    point: tuple[float, float],
    candidate: int | None,
    preview_dir: Path | None,
    options: dict[str, Any],
    quiet: bool,
) -> None:
    """Print SAM 2's three candidates for a first click and write their pictures (if a model is usable)."""
    from ..tracking.sam2.checkpoints import DEFAULT_MODEL, missing_checkpoint, resolve_checkpoint

    name = options.get("model", DEFAULT_MODEL)
    ckpt = resolve_checkpoint(name, options.get("checkpoint"))
    if not ckpt.is_file():
        if candidate is not None:
            raise missing_checkpoint(name, ckpt, given=options.get("checkpoint") is not None)
        if not quiet:
            click.echo(
                f"(no SAM 2 candidates: checkpoint '{ckpt}' is missing; "
                f"`multiview checkpoints download {name}` enables them)",
                err=True,
            )
        return
    from .. import atomic
    from ..draw import click_preview
    from ..geometry import apply_h
    from ..raster import scale_between
    from ..tracking.interactive import candidates
    from ..tracking.sam2.tracker import Sam2Tracker

    v = proj.view(view)
    cands = candidates(proj, v.id, point, Sam2Tracker(**options))
    out = preview_dir or proj.cache_dir("sam2") / "candidates"
    image = proj.working_image(v)
    wx, wy = apply_h(scale_between(v.size, v.work_size), np.array([point]))[0]
    color = proj.object(obj_id).color if any(o.id == obj_id for o in proj.objects) else (230, 25, 75)
    for c in cands:
        f = out / f"{v.stem}_obj{obj_id}_c{c.index}.png"
        atomic.write_image(f, click_preview(image, c.prob, color, (wx, wy)))
        if not quiet:
            tags = [t for t, on in (("best", c.best), ("chosen", c.index == candidate)) if on]
            click.echo(
                f"candidate {c.index}: score {c.score:.3f}, {c.area} px{' (' + ', '.join(tags) + ')' if tags else ''}"
                f"  {f}"
            )
