"""Pictures: size, coloured object pixels, drift marks, prompts, pages and atomic, refused overwrites."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from multiview import ProjectExistsError
from multiview.draw import DRIFT_RGB, NEG_RGB, POS_RGB
from multiview.geometry import apply_h
from multiview.raster import scale_between
from multiview.review import contact_sheet_pages, render_view, review, write_contact_sheet, write_view_picture


def _count(img: np.ndarray, rgb) -> int:
    return int(np.count_nonzero(np.all(img == np.asarray(rgb, np.uint8), axis=2)))


def test_contact_sheet_size_colours_and_drift_frames(built) -> None:
    proj = built.project
    report = review(proj)
    pages = list(contact_sheet_pages(proj, report, tile=200))
    assert len(pages) == 1
    sheet = pages[0]
    cols = math.ceil(math.sqrt(8))  # 3 columns, 3 rows of 200-px thumbnails
    assert sheet.dtype == np.uint8 and sheet.shape[1] == cols * 208 + 8
    assert sheet.shape[0] > 3 * 200
    # Object outlines are drawn in the objects' own colours, on every view that has the object.
    for o in proj.objects:
        assert _count(sheet, o.color) > 8 * 40, o
    # Two drifted views: two red frames (4 px wide around a ~208x230 cell each).
    assert _count(sheet, DRIFT_RGB) > 2 * 4 * 2 * (200 + 200)
    plain = next(iter(contact_sheet_pages(proj, None, tile=200)))
    assert _count(plain, DRIFT_RGB) < _count(sheet, DRIFT_RGB) / 4


def test_object_pixels_are_tinted_in_the_single_view(built) -> None:
    proj = built.project
    v = proj.view("IMG_3")
    pic = render_view(proj, v.id, review(proj), max_side=640)
    assert pic.shape[1] == 640 and pic.shape[0] > 480
    photo = pic[-480:, :640].astype(np.float64)
    plain = cv2.resize(
        cv2.cvtColor(cv2.imread(str(v.path)), cv2.COLOR_BGR2RGB), (640, 480), interpolation=cv2.INTER_LINEAR
    ).astype(np.float64)
    truth = {
        o.id: cv2.resize(built.truth[(o.id, v.id)].astype(np.uint8), (640, 480), interpolation=cv2.INTER_NEAREST)
        for o in proj.objects
    }
    outer = cv2.dilate(np.maximum(*truth.values()), np.ones((15, 15), np.uint8)) == 0
    for o in proj.objects:
        inner = cv2.erode(truth[o.id], np.ones((9, 9), np.uint8)) > 0
        towards = np.asarray(o.color, np.float64) - plain
        shift = ((photo - plain) * towards).sum(axis=2) / np.maximum(1.0, (towards**2).sum(axis=2))
        assert np.median(shift[inner]) == pytest.approx(0.45, abs=0.05), o  # alpha of the tint
        assert np.abs(shift[outer]).max() < 0.02  # outside the mask the photo is untouched


def test_single_view_draws_prompts_where_they_were_clicked(built) -> None:
    proj = built.project
    v = proj.view("IMG_2")
    proj.add_prompt(v.id, 1, points=[(40, 30), (120, 90)], labels=[1, 0], box=(20.0, 15.0, 140.0, 105.0))
    pic = render_view(proj, v.id, max_side=800)
    photo = pic[-600:, :800]
    H = scale_between(v.size, (800, 600))
    (px, py), (nx, ny) = apply_h(H, np.array([[40.0, 30.0], [120.0, 90.0]])).round().astype(int)
    assert _count(photo[py - 10 : py + 11, px - 10 : px + 11], POS_RGB) > 30
    assert _count(photo[ny - 10 : ny + 11, nx - 10 : nx + 11], NEG_RGB) > 30
    assert _count(photo[ny - 10 : ny + 11, nx - 10 : nx + 11], POS_RGB) == 0
    (bx0, by0), _ = apply_h(H, np.array([[20.0, 15.0], [140.0, 105.0]])).round().astype(int)
    color = proj.object(1).color
    assert _count(photo[by0 - 2 : by0 + 3, bx0 + 20 : bx0 + 200], color) > 100  # the box's top edge


def test_pages_names_overwrite_and_stale_pages(built, tmp_path) -> None:
    proj = built.project
    out = tmp_path / "pics" / "sheet.png"
    paths = write_contact_sheet(proj, out, per_page=3, tile=120)
    assert [p.name for p in paths] == ["sheet-1.png", "sheet-2.png", "sheet-3.png"]
    assert all(cv2.imread(str(p)) is not None for p in paths)
    assert not out.exists()
    with pytest.raises(ProjectExistsError, match="already exists"):
        write_contact_sheet(proj, out, per_page=3, tile=120)
    paths = write_contact_sheet(proj, out, per_page=4, tile=120, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == ["sheet-1.png", "sheet-2.png"]
    v = write_view_picture(proj, "IMG_1", tmp_path / "pics" / "one", max_side=300)
    assert v.name == "one.png" and cv2.imread(str(v)).shape[1] == 480  # caption keeps a minimum width
    with pytest.raises(ProjectExistsError):
        write_view_picture(proj, "IMG_1", v)
    assert not [p for p in (tmp_path / "pics").iterdir() if p.name.startswith(".tmp-")]


def test_fifty_views_fit_on_readable_pages(tmp_path, builder) -> None:
    b = builder.build_project(tmp_path, 50, size=(96, 72))
    pages = list(contact_sheet_pages(b.project, tile=160, per_page=24))
    assert len(pages) == 3
    assert all(p.shape[1] <= 8 * 168 + 8 for p in pages)  # at most 8 thumbnails per row
