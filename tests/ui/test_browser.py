"""The workbench in a real browser: Debian's chromium driven by Playwright, against a live uvicorn.

On the registered sample sequence: create, rename and recolour an object, draw a box
and click on a view and see the mask, propagate with progress (and cancel), correct
a drifted view from the drift list, re-propagate, export; with SAM 2 (random-initialised
checkpoint), pick one of the three candidates of a first click. Screenshots are saved
in each test's tmp dir.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from multiview.project import MaskResult, Project
from multiview.ui import Workbench

pytestmark = pytest.mark.browser

TIMEOUT = 30_000  # ms


class DelayedTracker:
    """Wraps the engine's tracker and waits before each result (so a test can cancel mid-run)."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay, self.name = inner, delay, inner.name

    def run(self, project, **kw):
        for r in self.inner.run(project, **kw):
            time.sleep(self.delay)
            yield r


def _gt(aligned_sample, obj_id: int, view_id: str) -> np.ndarray:
    seq, _ = aligned_sample
    return np.asarray(seq.view_mask(view_id, obj_id)) > 0


def _iou(root: Path, aligned_sample, obj_id: int, gt_obj: int, view_id: str) -> float:
    from multiview.export import original_mask

    p = Project.open(root, verify=False)
    r = p.read_result(obj_id, view_id)
    assert r is not None, f"no mask for object {obj_id} on {view_id}"
    m = original_mask(r, p.view(view_id))[0]
    g = _gt(aligned_sample, gt_obj, view_id)
    return float((m & g).sum() / max(1, (m | g).sum()))


def _screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of original-photo pixel (x, y) of the view shown large."""
    return tuple(
        page.evaluate(
            """([x, y]) => { const v = mv.state.views.find((w) => w.id === mv.view);
            const r = document.querySelector('#photo').getBoundingClientRect();
            return [r.left + x / v.width * r.width, r.top + y / v.height * r.height]; }""",
            [x, y],
        )
    )


def _drag_box(page, box) -> None:
    x0, y0 = _screen(page, box[0], box[1])
    x1, y1 = _screen(page, box[2], box[3])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()


def _wait_overlay(page, min_cover: float = 0.0) -> None:
    page.wait_for_function(
        f"document.querySelector('#overlay').dataset.loaded === '1' && mv.overlayCoverage() > {min_cover}",
        timeout=TIMEOUT,
    )


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(url) and not r.url.startswith("data:") else None,
    )
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT)
    return page, errors, outside


def _bbox(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def test_click_propagate_correct_export(browser, live, ui_project, aligned_sample, tmp_path):
    wb = Workbench(ui_project, engine="homography")
    srv = live(wb)
    page, errors, outside = _open(browser, srv.url)
    tab2, errors2, outside2 = _open(browser, srv.url)  # a second tab follows what the first one does
    shots = tmp_path / "screenshots"
    shots.mkdir()
    assert "homography" in page.inner_text("#engine")

    # objects: create, rename, recolour
    page.click("#btn-add-object")
    page.wait_for_selector("#objects li[data-obj='1']", timeout=TIMEOUT)
    page.fill("#objects li[data-obj='1'] .obj-name", "lacuna")
    page.press("#objects li[data-obj='1'] .obj-name", "Enter")
    page.eval_on_selector(
        "#objects li[data-obj='1'] .obj-color", "e => { e.value = '#00c8ff'; e.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function(
        "mv.state.objects[0].name === 'lacuna' && mv.state.objects[0].color === '#00c8ff'", timeout=TIMEOUT
    )

    # the reference view is shown large; draw a box, then a positive click: the mask appears
    assert page.evaluate("mv.view") == "IMG_0104.jpg"
    page.wait_for_function("document.querySelector('#photo').complete", timeout=TIMEOUT)
    _drag_box(page, [395, 470, 516, 560])
    page.wait_for_function("mv.state.prompts.length === 1 && mv.state.prompts[0].box !== null", timeout=TIMEOUT)
    page.mouse.click(*_screen(page, 453, 517))
    page.wait_for_function("mv.state.prompts.length === 1 && mv.state.prompts[0].points.length === 1", timeout=TIMEOUT)
    _wait_overlay(page, 0.01)
    assert page.locator("#marks circle.pos").count() == 1 and page.locator("#marks rect").count() == 1
    assert _iou(ui_project, aligned_sample, 1, 3, "IMG_0104.jpg") > 0.9
    page.screenshot(path=str(shots / "01-mask-on-click.png"))

    # zoom with the wheel, pan with Ctrl-drag, fit with F
    t0 = page.eval_on_selector("#wrap", "e => e.style.transform")
    page.mouse.move(*_screen(page, 453, 517))
    page.mouse.wheel(0, -400)
    assert page.eval_on_selector("#wrap", "e => e.style.transform") != t0
    # zoomed in, the page asks for the larger preview (capped by the server at the working size)
    page.wait_for_function(
        "document.querySelector('#photo').src.includes('size=2048') && "
        "document.querySelector('#photo').complete && document.querySelector('#photo').naturalWidth === 600",
        timeout=TIMEOUT,
    )
    _wait_overlay(page, 0.01)
    page.keyboard.press("f")
    assert page.eval_on_selector("#wrap", "e => e.style.transform") == t0

    # propagate, with progress; cancel a slowed-down run mid-way, the finished views are kept
    real = wb.engine.tracker
    wb.engine.tracker = DelayedTracker(real, 0.4)
    page.check("#full")
    page.click("#btn-propagate")
    page.wait_for_function("document.querySelector('#progress').value >= 1", timeout=TIMEOUT)
    page.click("#btn-cancel")
    page.wait_for_selector("body[data-job='cancelled']", timeout=TIMEOUT)
    assert "cancelled" in page.inner_text("#job-msg")
    wb.engine.tracker = real
    page.click("#btn-propagate")
    page.wait_for_selector("body[data-job='done']", timeout=TIMEOUT)
    for vid in ("IMG_0101.jpg", "IMG_0102.jpg", "IMG_0103.jpg", "IMG_0106.jpg"):
        sel = f'.thumb[data-view="{vid}"] .ov'
        page.wait_for_function(f"mv.overlayCoverage({sel!r}) > 0", timeout=TIMEOUT)
        assert "tracked" in page.get_attribute(f'.thumb[data-view="{vid}"]', "data-states")
        assert _iou(ui_project, aligned_sample, 1, 3, vid) > 0.85, vid
    assert "prompted" in page.get_attribute('.thumb[data-view="IMG_0104.jpg"]', "data-states")
    assert page.inner_text("#drift-list") == "none"
    page.screenshot(path=str(shots / "02-propagated.png"))

    # a view drifts (its stored mask slides off the lacuna, as a tracker can): the drift list shows it
    proj = Project.open(ui_project, verify=False)
    good = proj.read_result(1, "IMG_0102.jpg")
    slid = np.roll(good.prob, (-good.prob.shape[0] // 4, good.prob.shape[1] // 4), axis=(0, 1))
    proj.write_result(MaskResult(1, "IMG_0102.jpg", slid, good.valid, None, None, "homography", "IMG_0104.jpg", {}))
    page.evaluate("loadState()")  # what the page does when its window gets the focus back
    page.wait_for_selector('#drift-list li[data-view="IMG_0102.jpg"]', timeout=TIMEOUT)
    assert page.get_attribute("#drift-list li:first-child", "data-view") == "IMG_0102.jpg"
    page.wait_for_selector('.thumb.state-drifted[data-view="IMG_0102.jpg"]', timeout=TIMEOUT)
    page.screenshot(path=str(shots / "03-drifted.png"))

    # jump to it, correct it (box + click, and a negative right-click), re-propagate
    page.click('#drift-list li[data-view="IMG_0102.jpg"]')
    page.wait_for_function("mv.view === 'IMG_0102.jpg' && document.querySelector('#photo').complete", timeout=TIMEOUT)
    gt = _gt(aligned_sample, 3, "IMG_0102.jpg")
    x0, y0, x1, y1 = _bbox(gt)
    pad = 0.1 * max(x1 - x0, y1 - y0)
    _drag_box(page, [max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad])
    page.wait_for_function("mv.state.prompts.some((p) => p.view === 'IMG_0102.jpg')", timeout=TIMEOUT)
    ys, xs = np.nonzero(gt)
    inside = np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2)
    page.mouse.click(*_screen(page, float(xs[inside]), float(ys[inside])))
    page.mouse.click(*_screen(page, 10, 10), button="right")
    page.wait_for_function(
        "mv.state.prompts.filter((p) => p.view === 'IMG_0102.jpg').length === 1 && "
        "mv.state.prompts.find((p) => p.view === 'IMG_0102.jpg').points.length === 2",
        timeout=TIMEOUT,
    )
    assert page.locator("#marks circle.neg").count() == 1
    _wait_overlay(page, 0.005)
    page.uncheck("#full")
    page.click("#btn-propagate")
    page.wait_for_selector("body[data-job='done']", timeout=TIMEOUT)
    page.wait_for_function("document.querySelector('#drift-list').innerText === 'none'", timeout=TIMEOUT)
    assert _iou(ui_project, aligned_sample, 1, 3, "IMG_0102.jpg") > 0.85
    page.screenshot(path=str(shots / "04-corrected.png"))

    # export from the page
    page.click("#btn-export")
    page.check("#export-formats input[value='h5']")
    page.check("#export-formats input[value='colmap']")
    page.fill("#export-name", "from-browser")
    page.click("#export-go")
    page.wait_for_selector("#export-result[data-ok='1']", timeout=TIMEOUT)
    out = ui_project / "exports" / "from-browser"
    assert (out / "1" / "IMG_0102.png").is_file() and (out / "masks.h5").is_file()
    assert (out / "colmap" / "IMG_0102.jpg.png").is_file()
    page.screenshot(path=str(shots / "05-exported.png"))
    page.click("#export-go")  # again: refused, the folder exists
    page.wait_for_selector("#export-result[data-ok='0']", timeout=TIMEOUT)
    assert "already exists" in page.inner_text("#export-result")

    # the second tab saw everything through the event stream, without being touched
    tab2.wait_for_function("mv.state.prompts.length === 2 && mv.state.objects[0].name === 'lacuna'", timeout=TIMEOUT)
    tab2.wait_for_selector('.thumb.state-prompted[data-view="IMG_0102.jpg"]', timeout=TIMEOUT)
    assert tab2.inner_text("#drift-list") == "none"
    tab2.screenshot(path=str(shots / "06-second-tab.png"))
    assert errors == [] and outside == [] and errors2 == [] and outside2 == []
    tab2.close()
    page.close()


@pytest.mark.slow
def test_sam2_first_click_candidates(browser, live, ui_project, sam2_options, tmp_path):
    wb = Workbench(ui_project, engine="sam2", sam2_options=sam2_options)
    srv = live(wb)
    page, errors, outside = _open(browser, srv.url)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    assert "SAM 2" in page.inner_text("#engine")
    page.wait_for_function("document.querySelector('#photo').complete", timeout=TIMEOUT)
    page.mouse.click(*_screen(page, 453, 517))  # creates object 1 and asks for its candidates
    page.wait_for_selector("#candidates:not([hidden]) .cand[data-index='2']", timeout=TIMEOUT)
    labels = page.locator("#candidates .cand .label").all_inner_texts()
    assert len(labels) == 3 and all("score" in t for t in labels) and sum("(best)" in t for t in labels) == 1
    page.screenshot(path=str(shots / "01-candidates.png"))
    page.click("#candidates .cand[data-index='1']")
    page.wait_for_function("mv.state.prompts.length === 1 && mv.state.prompts[0].candidate === 1", timeout=TIMEOUT)
    page.wait_for_function("document.querySelector('#overlay').dataset.loaded === '1'", timeout=TIMEOUT)
    assert page.is_hidden("#candidates")
    r = Project.open(ui_project, verify=False).read_result(1, "IMG_0104.jpg")
    assert r is not None and r.tracker == "sam2"
    # a second click on the same object is a refinement: no candidates, the mask updates
    page.keyboard.down("Shift")
    page.mouse.click(*_screen(page, 20, 20))  # Shift-click: negative point
    page.keyboard.up("Shift")
    page.wait_for_function("mv.state.prompts.length === 2", timeout=TIMEOUT)
    ((x, y, label),) = page.evaluate("mv.state.prompts[1].points")
    assert label == 0 and abs(x - 20) < 2 and abs(y - 20) < 2  # one screen pixel is ~1.2 photo pixels
    assert page.is_hidden("#candidates")
    page.click("#btn-propagate")
    page.wait_for_selector("body[data-job='done']", timeout=60_000)
    page.wait_for_function("mv.state.views.every((v) => Object.keys(v.results).length === 1)", timeout=TIMEOUT)
    page.screenshot(path=str(shots / "02-propagated.png"))
    assert errors == [] and outside == []
    page.close()
