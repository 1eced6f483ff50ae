"""``multiview category``: list the condition-mapping categories, define one, or set an object's."""

from __future__ import annotations

from pathlib import Path

import click

from ..categories import HATCHES
from .options import open_project, project_arg


@click.command("category")
@project_arg
@click.argument("name", required=False)
@click.option("--obj", "obj_ids", type=click.IntRange(1, 255), multiple=True, help="Set NAME on this object.")
@click.option("--color", metavar="#RRGGBB", help="Define NAME as a project category with this legend colour.")
@click.option("--hatch", type=click.Choice(list(HATCHES)), default="none", show_default=True, help="Legend hatch.")
@click.option("--label", help="Legend label of a defined category (default: NAME).")
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    name: str | None,
    obj_ids: tuple[int, ...],
    color: str | None,
    hatch: str,
    label: str | None,
) -> None:
    """List the categories (no NAME), define category NAME (--color), or set it on objects (--obj).

    The default vocabulary (loss, flaking, detachment, crack, efflorescence, biological, deposit,
    intervention, figure) and its sources are documented in multiview.categories.
    """
    from ..categories import parse_color

    proj = open_project(project_dir, verify=False)
    quiet = ctx.obj.get("quiet")
    if name is None:
        if color is not None or obj_ids:
            raise click.UsageError("give the category NAME")
        used: dict[str, list[int]] = {}
        for o in proj.objects:
            used.setdefault(o.category, []).append(o.id)
        for c in proj.categories.values():
            objs = ", ".join(map(str, used.get(c.key, []))) or "-"
            kind = "" if c.builtin else " (project)"
            click.echo(f"{c.key:<14} {c.hex}  {c.hatch:<12} objects: {objs:<10} {c.label}{kind}")
        return
    if color is None and not obj_ids:
        raise click.UsageError("give --color to define the category or --obj to set it on objects")
    if color is not None:
        cat = proj.define_category(name, label=label, color=parse_color(color), hatch=hatch)
        if not quiet:
            click.echo(f"category {cat.key} ({cat.label}, {cat.hex}, {cat.hatch}) defined")
    for oid in obj_ids:
        o = proj.set_category(oid, name)
        if not quiet:
            click.echo(f"object {o.id} ({o.name}): category {o.category}")
