"""``multiview status``: per view and object areas, scores and drift flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..plane import Scale

from .options import drift_options, obj_opt, open_project, project_arg, scale_opt, thresholds_from


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(r[k]) for r in (*rows, header)) for k in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()

    return [line(header), *(line(r) for r in rows)]


@click.command("status")
@project_arg
@obj_opt
@click.option("--drifted", is_flag=True, help="List only the drifted views and objects, worst first.")
@scale_opt
@drift_options
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    obj_ids: tuple[int, ...],
    drifted: bool,
    scale: Scale | None,
    min_iou: float,
    max_area_ratio: float,
    min_score: float,
    min_present: float,
    as_json: bool,
) -> None:
    """Show per view and object: area (view pixels and reference-plane pixels, or cm² with
    --scale), predicted score, object-present score, and a drift flag with its reason."""
    from ..review import review

    proj = open_project(project_dir, need_photos=False)
    scale = proj.scale(scale)
    report = review(
        proj, list(obj_ids) or None, thresholds_from(min_iou, max_area_ratio, min_score, min_present), scale
    )
    rows = report.drifted() if drifted else list(report.rows)
    from ..damage.outline import map_areas

    areas = map_areas(proj, list(obj_ids) or None, scale) if not drifted else []
    if as_json:
        from ..occlusion import stored_layers

        layers = stored_layers(proj)
        click.echo(
            json.dumps(
                {
                    "views": len(proj.views),
                    "reference": proj.reference.id,
                    "scale_px_per_cm": scale.px_per_cm if scale is not None else None,
                    "to_correct": report.views_to_correct(),
                    "occlusion": {
                        "state": layers.state,
                        "note": layers.note(),
                        "views": {vid: o.to_json() for vid, o in layers.views.items()},
                    },
                    "rows": [r.to_json() for r in rows],
                    "map": areas,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    regs = proj.registrations
    ref_id = proj.reference.id
    if drifted:
        if not rows:
            click.echo("no drifted views")
            return
        header: tuple[str, ...] = ("#", "view", "obj", "severity", "score", "iou", "reason")
        body: list[tuple[str, ...]] = [
            (
                str(r.index),
                r.view_id,
                str(r.obj_id),
                f"{r.severity:.2f}",
                _fmt(r.score, ".2f"),
                _fmt(r.iou, ".2f"),
                "; ".join(r.reasons),
            )
            for r in rows
        ]
        for line in _table(header, body, {0, 2, 3, 4, 5}):
            click.echo(line)
        click.echo(f"{len(report.views_to_correct())} view(s) to correct: {', '.join(report.views_to_correct())}")
        return
    area_col = "cm2" if scale is not None else "ref px"
    header = (
        "#",
        "view",
        "size",
        "align",
        "obj",
        "mask",
        "area px",
        area_col,
        "occl",
        "score",
        "present",
        "drift",
        "reason",
    )
    body = []
    last = None
    sizes = {v.id: f"{v.width}x{v.height}" for v in proj.views}
    for r in rows:
        first = r.view_id != last
        last = r.view_id
        reg = regs.get(r.view_id)
        align = "ref" if r.view_id == ref_id else (reg.status if reg is not None else "-")
        ref_area = _fmt(r.area_cm2, ".2f") if scale is not None else _fmt(r.area_ref_px, ".0f")
        body.append(
            (
                str(r.index) if first else "",
                r.view_id if first else "",
                sizes[r.view_id] if first else "",
                align if first else "",
                str(r.obj_id),
                r.computed_at or "-",
                _fmt(r.area_px, ".0f"),
                ref_area,
                _fmt(r.occluded_share, ".0%"),
                _fmt(r.score, ".2f"),
                _fmt(r.present_score, ".2f"),
                "DRIFT" if r.drift else ("" if not r.has_result else "ok"),
                r.reason,
            )
        )
    if not proj.objects:
        body = [
            (
                str(i),
                v.id,
                sizes[v.id],
                "ref" if v.id == ref_id else (regs[v.id].status if v.id in regs else "-"),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "",
                "no objects yet: add a prompt",
            )
            for i, v in enumerate(proj.views)
        ]
    for line in _table(header, body, {0, 6, 7, 8, 9, 10}):
        click.echo(line)
    from ..occlusion import stored_layers

    note = stored_layers(proj).note()
    click.echo(
        "occl = share of the mask hidden by something in front of the wall (export --visible leaves it out)"
        if note is None
        else f"occl: {note}"
    )
    if areas:
        click.echo("damage map (each object fused over every view that sees it, on the reference plane):")
        for a in areas:
            if "skipped" in a:
                click.echo(f"  {a['obj_id']:>3} {a['name']} [{a['category']}]: not on the map: {a['skipped']}")
                continue
            area = f"{a['area_cm2']:.1f} cm2" if a["area_cm2"] is not None else f"{a['area_ref_px']:.0f} ref px"
            click.echo(f"  {a['obj_id']:>3} {a['name']} [{a['category']}]: {area}, seen in {len(a['views'])} view(s)")
    todo = report.views_to_correct()
    tail = f"; {len(todo)} view(s) to correct (worst first): {', '.join(todo)}" if todo else "; no drift"
    previews = sum(1 for r in report.rows if r.computed_at.endswith(" preview"))
    if previews:
        tail += (
            f"; {previews} mask(s) are quick previews not yet replaced by the full-size pass (run `multiview track`)"
        )
    click.echo(f"{len(proj.views)} views, {len(proj.objects)} objects, {len(proj.prompts)} prompts{tail}")
