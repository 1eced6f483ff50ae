"""Pictures a restorer checks at a glance: a contact sheet of every view, and one view large.

* :func:`contact_sheet_pages` lays every view out in pseudo-video order on a grid of
  thumbnails with coloured, outlined masks, the view's position (``#i``, 0-based as in
  ``multiview status``) and name (``*`` marks the reference), each object's predicted
  score (``id:0.93``; the id alone when the tracker gives no score, ``id: none`` without
  a result; ``!`` when drifted), and a red frame plus the worst reason on drifted views. Large sequences
  are split into pages of at most ``per_page`` thumbnails.
* :func:`render_view` draws one view large with its masks and its prompts (positive
  clicks green ``+``, negative clicks red ``-``, boxes in the object's colour, mask
  prompts outlined in white).
* :func:`write_contact_sheet` and :func:`write_view_picture` write them atomically and
  refuse to overwrite without ``overwrite=True``. A sheet of several pages is written
  as ``OUT-1.png``, ``OUT-2.png``... next to the name given; one page keeps the name.

Convention:
    Pictures are (H, W, 3) uint8 RGB. Masks are drawn from the stored soft masks
    resized bilinearly to the picture's size and thresholded at 0.5. Pixels where the
    tracker could not see the photo (``MaskResult.valid`` False) are darkened.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import atomic
from ..draw import (
    DRIFT_RGB,
    OK_RGB,
    draw_prompt_marks,
    draw_texts,
    fit_text,
    frame,
    overlay_mask,
    shade_unknown,
    text_width,
    wrap_text,
)
from ..errors import OVERWRITE, ProjectExistsError, ValidationError
from ..geometry import apply_h
from ..loading import read_photo
from ..raster import resize_prob, scale_between

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project, View
    from .drift import ReviewReport

BG_RGB = (32, 32, 32)
TEXT_RGB = (235, 235, 235)
MUTED_RGB = (150, 150, 150)


def _masks_at(
    project: Project, view: View, obj_ids: Sequence[int], size: tuple[int, int]
) -> Iterator[tuple[int, MaskResult, np.ndarray, np.ndarray | None]]:
    """Yield ``(obj_id, result, mask, known)`` at picture ``size`` for objects with a result."""
    for oid in obj_ids:
        r = project.read_result(oid, view.id)
        if r is None:
            continue
        mask, known = r.at_size(size)
        yield oid, r, mask, known


def _photo_at(view: View, s: float) -> np.ndarray:
    """The photo scaled by ``s`` (decoded at reduced size when ``s < 1``; upscaled bilinearly when ``s > 1``)."""
    import cv2

    side = max(1, round(max(view.width, view.height) * s))
    img = read_photo(view.path, max_side=min(side, max(view.width, view.height)))
    if side > max(img.shape[:2]):
        size = (max(1, round(view.width * s)), max(1, round(view.height * s)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
    return img


def _thumb(project: Project, view: View, obj_ids: Sequence[int], box: tuple[int, int], thickness: int) -> np.ndarray:
    bw, bh = box
    img = _photo_at(view, min(bw / view.width, bh / view.height))
    size = (img.shape[1], img.shape[0])
    colors = {o.id: o.color for o in project.objects}
    for oid, _r, mask, known in _masks_at(project, view, obj_ids, size):
        if known is not None:
            shade_unknown(img, known)
        overlay_mask(img, mask, colors[oid], thickness=thickness)
    return img


def _check_objs(project: Project, obj_ids: Sequence[int] | None) -> list[int]:
    ids = list(obj_ids) if obj_ids is not None else [o.id for o in project.objects]
    for oid in ids:
        project.object(oid)
    return ids


def contact_sheet_pages(
    project: Project,
    report: ReviewReport | None = None,
    obj_ids: Sequence[int] | None = None,
    *,
    tile: int = 240,
    per_page: int = 48,
    columns: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield the pages of a contact sheet of every view, in pseudo-video order.

    Args:
        report: drift review (:func:`multiview.review.review`) for scores and drift marks;
            without it only the stored scores are shown.
        obj_ids: objects to draw (default: all).
        tile: thumbnail width, pixels (>= 96); thumbnails keep the photo's aspect ratio
            inside a ``tile x 3/4 tile`` box.
        per_page: at most this many thumbnails per page (>= 1).
        columns: thumbnails per row (default: up to 8, about square pages).

    Yields:
        (H, W, 3) uint8 RGB pages; the number of pages is ``ceil(n_views / per_page)``.
    """
    if tile < 96:
        raise ValidationError(f"tile width {tile} is too small; use at least 96 pixels")
    if per_page < 1:
        raise ValidationError(f"per_page {per_page} must be at least 1")
    ids = _check_objs(project, obj_ids)
    views = project.views
    n_pages = max(1, math.ceil(len(views) / per_page))
    fs = max(11, tile // 17)
    line = fs + 5
    box = (tile - 8, round(tile * 0.75))
    cap_h = 4 * line + 6
    cell_w, cell_h = tile + 8, box[1] + 8 + cap_h + 8
    thickness = 1 if tile < 200 else 2
    objs = [project.object(o) for o in ids]
    for page in range(n_pages):
        chunk = views[page * per_page : (page + 1) * per_page]
        first = page * per_page
        cols = columns or min(8, max(1, math.ceil(math.sqrt(len(chunk)))))
        cols = max(1, min(cols, len(chunk)))
        rows = math.ceil(len(chunk) / cols)
        head_h = 2 * line + 12
        W, H = max(cols * cell_w + 8, 360), head_h + rows * cell_h + 8
        sheet = np.full((H, W, 3), BG_RGB, dtype=np.uint8)
        texts: list = []
        n_drift = len(report.views_to_correct()) if report is not None else 0
        title = (
            f"{project.root.name}: {len(views)} views (* = reference)"
            + (f", {n_drift} to correct" if report is not None else "")
            + (f" - page {page + 1}/{n_pages}" if n_pages > 1 else "")
        )
        texts.append(((8, 6), fit_text(title, fs + 2, W - 16), TEXT_RGB, fs + 2))
        x = 8
        for o in objs:
            label = f"{o.id} {o.name}"
            sheet[6 + line + 4 : 6 + line + 4 + fs, x : x + fs] = o.color
            texts.append(((x + fs + 4, 6 + line + 2), label, TEXT_RGB, fs))
            x += fs + 4 + text_width(label, fs) + 16
            if x > W - 40:
                break
        for k, v in enumerate(chunk):
            i = first + k
            cx, cy = 8 + (k % cols) * cell_w, head_h + (k // cols) * cell_h
            thumb = _thumb(project, v, ids, box, thickness)
            th, tw = thumb.shape[:2]
            ox, oy = cx + 4 + (box[0] - tw) // 2, cy + 4 + (box[1] - th) // 2
            sheet[oy : oy + th, ox : ox + tw] = thumb
            rows_v = report.for_view(v.id) if report is not None else []
            drifted = [r for r in rows_v if r.drift]
            if drifted:
                frame(sheet[cy : cy + cell_h - 4, cx : cx + cell_w - 4], DRIFT_RGB, 4)
            ty = cy + box[1] + 10
            mark = " *" if v.id == project.reference.id else ""
            texts.append(((cx + 6, ty), fit_text(f"#{i}  {v.id}{mark}", fs, cell_w - 14, middle=True), TEXT_RGB, fs))
            xx = cx + 6
            for o in objs:
                r = report.row(v.id, o.id) if report is not None else None
                if report is None:
                    res = project.read_result(o.id, v.id)
                    score, has, drift = (res.score if res else None), res is not None, False
                else:
                    score, has, drift = (r.score if r else None), bool(r and r.has_result), bool(r and r.drift)
                txt = f"{o.id}: none" if not has else (str(o.id) if score is None else f"{o.id}:{score:.2f}")
                if drift:
                    txt += "!"
                sheet[ty + line + 3 : ty + line + 3 + fs - 2, xx : xx + fs - 2] = o.color
                texts.append(((xx + fs, ty + line), txt, DRIFT_RGB if drift else TEXT_RGB, fs))
                xx += fs + text_width(txt, fs) + 8
                if xx > cx + cell_w - 30:
                    break
            if drifted:
                worst = max(drifted, key=lambda r: r.severity)
                msg = f"DRIFT {worst.obj_id}: {worst.reasons[0]}"
                for j, part in enumerate(wrap_text(msg, fs, cell_w - 14, 2)):
                    texts.append(((cx + 6, ty + (2 + j) * line), part, DRIFT_RGB, fs))
            elif report is not None and any(r.has_result for r in rows_v):
                texts.append(((cx + 6, ty + 2 * line), "ok", OK_RGB, fs))
        yield draw_texts(sheet, texts)


def render_view(
    project: Project,
    view: str,
    report: ReviewReport | None = None,
    obj_ids: Sequence[int] | None = None,
    *,
    max_side: int = 1600,
) -> np.ndarray:
    """One view large, with its masks, its prompts and a caption per object.

    Args:
        view: file name or stem.
        report: drift review for drift reasons (optional).
        max_side: longer side of the picture's photo area, pixels (>= 128).

    Returns:
        (H, W, 3) uint8 RGB picture.
    """
    if max_side < 128:
        raise ValidationError(f"max_side {max_side} is too small; use at least 128 pixels")
    ids = _check_objs(project, obj_ids)
    v = project.view(view)
    img = _photo_at(v, max_side / max(v.width, v.height))
    size = (img.shape[1], img.shape[0])
    colors = {o.id: o.color for o in project.objects}
    thickness = max(2, round(max(size) / 500))
    for oid, _r, mask, known in _masks_at(project, v, ids, size):
        if known is not None:
            shade_unknown(img, known)
        overlay_mask(img, mask, colors[oid], thickness=thickness)
    H_pic_from_orig = scale_between(v.size, size)
    radius = max(5, round(max(size) / 110))
    import cv2

    for p in project.prompts:
        if p.view_id != v.id or p.obj_id not in ids:
            continue
        m = project.prompt_mask(p)
        if m is not None:
            pm = resize_prob(m.astype(np.uint8) * 255, size) >= 128
            cs, _ = cv2.findContours(pm.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(img, cs, -1, (255, 255, 255), 1, lineType=cv2.LINE_AA)
        pts = [tuple(q) for q in apply_h(H_pic_from_orig, np.array(p.points))] if p.points else []
        box = None
        if p.box is not None:
            (x0, y0), (x1, y1) = apply_h(H_pic_from_orig, np.array([p.box[:2], p.box[2:]]))
            box = (x0, y0, x1, y1)
        draw_prompt_marks(img, pts, list(p.labels), box, colors[p.obj_id], radius=radius)

    fs = max(13, min(22, size[0] // 60))
    line = fs + 6
    objs = [project.object(o) for o in ids]
    captions: list[tuple[str, str, bool]] = []  # (description, drift reasons, drifted)
    for o in objs:
        row = report.row(v.id, o.id) if report is not None else None
        res = None if row is not None else project.read_result(o.id, v.id)
        if row is not None and row.has_result:
            parts = [
                f"score {row.score:.2f}" if row.score is not None else "",
                f"present {row.present_score:.2f}" if row.present_score is not None else "",
                f"{row.area_px:.0f} px",
            ]
            if row.area_ref_px is not None:
                parts.append(f"{row.area_ref_px:.0f} ref px")
            if row.area_cm2 is not None:
                parts.append(f"{row.area_cm2:.1f} cm2")
            if row.iou is not None:
                parts.append(f"IoU {row.iou:.2f} with {row.iou_with}")
            parts.append("DRIFT" if row.drift else "ok")
            captions.append((", ".join(p for p in parts if p), "; ".join(row.reasons), row.drift))
        elif res is not None:
            parts = [f"score {res.score:.2f}" if res.score is not None else "", f"{res.area} working px"]
            captions.append((", ".join(p for p in parts if p), "", False))
        else:
            captions.append(("no result", "", False))
    n_lines = 1 + len(objs) + sum(1 for c in captions if c[2])
    head_h = 8 + line * n_lines + 6
    W = max(size[0], 480)
    out = np.full((head_h + size[1], W, 3), BG_RGB, dtype=np.uint8)
    out[head_h:, : size[0]] = img
    reg = project.registrations.get(v.id)
    align = "reference" if v.id == project.reference.id else (reg.status if reg is not None else "not aligned")
    i = project.view_index(v.id)
    texts = [
        (
            (8, 6),
            fit_text(f"#{i} of {len(project.views)}  {v.id}  {v.width}x{v.height}  {align}", fs, W - 16),
            TEXT_RGB,
            fs,
        )
    ]
    y = 6
    for o, (desc, reasons, drift) in zip(objs, captions):
        y += line
        out[y + 3 : y + 3 + fs - 2, 8 : 8 + fs - 2] = o.color
        texts.append(((8 + fs + 4, y), fit_text(f"{o.id} {o.name}: {desc}", fs, W - fs - 20), TEXT_RGB, fs))
        if drift:
            y += line
            texts.append(((8 + fs + 4, y), fit_text(reasons, fs, W - fs - 20), DRIFT_RGB, fs))
    out = draw_texts(out, texts)
    if report is not None and any(r.drift for r in report.for_view(v.id)):
        frame(out, DRIFT_RGB, 4)
    return out


def _page_paths(out: Path, n_pages: int) -> list[Path]:
    if n_pages == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{k}{out.suffix}") for k in range(1, n_pages + 1)]


def write_contact_sheet(
    project: Project,
    out: str | os.PathLike[str],
    report: ReviewReport | None = None,
    obj_ids: Sequence[int] | None = None,
    *,
    tile: int = 240,
    per_page: int = 48,
    columns: int | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write the contact sheet (see :func:`contact_sheet_pages`); returns the files written.

    One page is written as ``out``; several as ``<stem>-1<suffix>``, ``<stem>-2<suffix>``...

    Raises:
        ProjectExistsError: see :func:`check_picture_target`.
        ValidationError: ``out`` is not a ``.png`` name.
    """
    out = picture_path(out)
    n_pages = max(1, math.ceil(len(project.views) / max(1, per_page)))
    paths = _page_paths(out, n_pages)
    for path in paths:
        check_picture_target(project, path, overwrite)
    for path, page in zip(
        paths, contact_sheet_pages(project, report, obj_ids, tile=tile, per_page=per_page, columns=columns)
    ):
        atomic.write_image(path, page)
    if overwrite:  # drop pages left over from an earlier, longer sheet (pictures only, never a photo)
        k = n_pages + 1 if n_pages > 1 else 1
        while (stale := out.with_name(f"{out.stem}-{k}{out.suffix}")).exists():
            try:
                check_picture_target(project, stale, True)
            except ProjectExistsError:
                break
            stale.unlink()
            k += 1
    return paths


def write_view_picture(
    project: Project,
    view: str,
    out: str | os.PathLike[str],
    report: ReviewReport | None = None,
    obj_ids: Sequence[int] | None = None,
    *,
    max_side: int = 1600,
    overwrite: bool = False,
) -> Path:
    """Write :func:`render_view` of ``view`` to ``out`` atomically.

    Raises:
        ProjectExistsError: see :func:`check_picture_target`.
        ValidationError: ``out`` is not a ``.png`` name.
    """
    out = picture_path(out)
    check_picture_target(project, out, overwrite)
    atomic.write_image(out, render_view(project, view, report, obj_ids, max_side=max_side))
    return out


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def picture_path(out: str | os.PathLike[str]) -> Path:
    """``out`` as a PNG file name (``.png`` added when there is no extension).

    Raises:
        ValidationError: ``out`` has another extension.
    """
    out = Path(out)
    if not out.suffix:
        return out.with_suffix(".png")
    if out.suffix.lower() != ".png":
        raise ValidationError(f"picture '{out}' must be a .png file name (pictures are PNG); e.g. '{out.stem}.png'")
    return out


def check_picture_target(project: Project, path: Path, overwrite: bool) -> None:
    """Refuse to write a picture over anything but an earlier PNG picture (and only with ``overwrite``).

    Raises:
        ProjectExistsError: ``path`` exists and ``overwrite`` is False; or it is a photo
            of the project, a link, a folder, or a file that is not a PNG picture.
    """
    from ..safety import protected_paths, refuse_protected

    refuse_protected(path, protected_paths(project), "picture")
    if not path.exists():
        return
    if not overwrite:
        raise ProjectExistsError(f"picture '{path}' already exists; choose another name or replace it", hint=OVERWRITE)
    if not path.is_file():
        raise ProjectExistsError(f"picture '{path}' is a folder; choose a file name")
    with open(path, "rb") as f:
        if f.read(len(_PNG_MAGIC)) != _PNG_MAGIC:
            raise ProjectExistsError(f"'{path}' is not a PNG picture, so it was kept; choose another name")


__all__ = [
    "check_picture_target",
    "contact_sheet_pages",
    "picture_path",
    "render_view",
    "write_contact_sheet",
    "write_view_picture",
]
