"""``multiview status``: one row per view."""

from __future__ import annotations

from pathlib import Path

import click

from .options import open_project, project_arg


@click.command("status")
@project_arg
def command(project_dir: Path) -> None:
    """Show the views of a project in pseudo-video order."""
    proj = open_project(project_dir)
    regs = proj.registrations
    scores = proj.ordering.neighbour_scores
    rows = []
    for i, v in enumerate(proj.views):
        reg = regs.get(v.id)
        ref = "ref" if v.id == proj.reference.id else (reg.status if reg else "-")
        nscore = "" if i == 0 or i - 1 >= len(scores) or scores[i - 1] is None else f"{scores[i - 1]:.2f}"
        n_prompts = len(proj.prompts_for(view_id=v.id))
        objs = []
        for o in proj.objects:
            r = proj.read_result(o.id, v.id)
            if r is not None:
                s = "" if r.score is None else f" s={r.score:.2f}"
                objs.append(f"{o.id}:{r.area}px{s}")
        rows.append((str(i), v.id, f"{v.width}x{v.height}", ref, nscore, str(n_prompts) if n_prompts else "",
                     " ".join(objs)))
    header = ("#", "view", "size", "align", "nbr", "prompts", "masks (obj:area score)")
    widths = [max(len(r[k]) for r in (*rows, header)) for k in range(len(header))]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    click.echo(f"{len(proj.views)} views, {len(proj.objects)} objects, {len(proj.prompts)} prompts")
