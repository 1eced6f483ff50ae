"""The workbench's JSON API over the library (Starlette TestClient, homography engine unless noted)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from ui.ui_helpers import make_client

from multiview.project import MaskResult, Project
from multiview.ui import Workbench

LACUNA_BOX = [395, 470, 516, 560]  # sample object 3 on IMG_0104 (README demo)
LACUNA_CLICK = [453, 517]


@pytest.fixture
def wb(ui_project: Path) -> Workbench:
    return Workbench(ui_project, engine="homography")


@pytest.fixture
def client(wb):
    with make_client(wb) as c:
        yield c


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _gt(aligned_sample, obj_id: int, view_id: str) -> np.ndarray:
    seq, _ = aligned_sample
    return np.asarray(seq.view_mask(view_id, obj_id)) > 0


def _result_mask(root: Path, obj_id: int, view_id: str) -> np.ndarray:
    from multiview.export import original_mask

    p = Project.open(root, verify=False)
    r = p.read_result(obj_id, view_id)
    assert r is not None, f"no result for object {obj_id} on {view_id}"
    return original_mask(r, p.view(view_id))[0]


def test_state_lists_views_in_order_with_registration(client, ui_project):
    s = client.get("/api/state").json()
    proj = Project.open(ui_project, verify=False)
    assert [v["id"] for v in s["views"]] == [v.id for v in proj.views]
    assert [v["registration"] for v in s["views"]] == ["registered"] * 3 + ["reference"] + ["registered"] * 2
    assert s["engine"]["name"] == "homography"
    assert s["objects"] == [] and s["prompts"] == [] and s["job"]["state"] == "idle"
    assert client.get("/").headers["content-type"].startswith("text/html")


def test_objects_create_rename_recolour_delete(client, ui_project):
    o = client.post("/api/objects", json={"name": "figure"}).json()
    assert o == {"id": 1, "name": "figure", "color": "#e6194b", "category": "figure"}
    assert client.post("/api/objects", json={}).json()["id"] == 2
    r = client.patch("/api/objects/1", json={"name": "left hand", "color": "#00ff00"})
    assert r.status_code == 200 and r.json() == {"id": 1, "name": "left hand", "color": "#00ff00", "category": "figure"}
    assert client.delete("/api/objects/2").status_code == 200
    objs = Project.open(ui_project, verify=False).objects
    assert [(o.id, o.name, o.color) for o in objs] == [(1, "left hand", (0, 255, 0))]


def test_refused_requests_write_nothing(client, ui_project):
    client.post("/api/objects", json={"name": "lacuna"})
    before = (ui_project / "project.json").read_bytes()
    bad = [
        (
            "post",
            "/api/prompts",
            {"view": "IMG_9999.jpg", "obj_id": 1, "points": [[5, 5]], "labels": [1]},
            404,
            "no view",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [[600, 5]], "labels": [1]},
            400,
            "outside",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [[5, -1]], "labels": [1]},
            400,
            "outside",
        ),
        ("post", "/api/prompts", {"view": "IMG_0104.jpg", "obj_id": 1, "box": [10, 10, 700, 20]}, 400, "box"),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 9, "points": [[5, 5]], "labels": [1]},
            404,
            "object 9",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": "x", "points": [[5, 5]], "labels": [1]},
            400,
            "object id",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [[5, 5]], "labels": [2]},
            400,
            "label",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [[5, 5]], "labels": []},
            400,
            "labels",
        ),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [["a", 5]], "labels": [1]},
            400,
            "number",
        ),
        ("post", "/api/prompts", {"view": "IMG_0104.jpg", "obj_id": 1}, 400, "empty prompt"),
        (
            "post",
            "/api/prompts",
            {"view": "IMG_0104.jpg", "obj_id": 1, "points": [[5, 5]], "labels": [1], "evil": 1},
            400,
            "unknown field",
        ),
        ("post", "/api/candidates", {"view": "IMG_0104.jpg", "x": 5, "y": 5}, 400, "SAM 2"),
        ("patch", "/api/objects/1", {"color": "red"}, 400, "#rrggbb"),
        ("patch", "/api/objects/7", {"name": "x"}, 404, "object 7"),
        ("patch", "/api/objects/1", {"name": ""}, 400, "name"),
        ("delete", "/api/objects/7", None, 404, "object 7"),
        ("delete", "/api/prompts/3", None, 404, "prompt 3"),
        ("post", "/api/track", {}, 400, "no prompt"),
        ("post", "/api/export", {"formats": ["png"]}, 400, "no tracked masks"),
        ("post", "/api/export", {"formats": ["tiff"]}, 400, "unknown format"),
        ("post", "/api/export", {"formats": ["png"], "name": "../escape"}, 400, "export name"),
        ("post", "/api/export", {"formats": ["png"], "path": "relative/dir"}, 400, "absolute"),
        ("get", "/api/views/IMG_0104.jpg/preview?size=99999", None, 400, "size"),
        ("get", "/api/views/IMG_0104.jpg/preview?size=abc", None, 400, "size"),
        ("get", "/api/views/..%2Fproject.json/preview", None, 404, ""),
        ("get", "/api/views/IMG_0104/overlay", None, 404, "no view"),  # ids are exact file names
    ]
    for method, url, body, status, words in bad:
        r = getattr(client, method)(url, json=body) if body is not None else getattr(client, method)(url)
        assert r.status_code == status, (url, body, r.status_code, r.text)
        assert words in r.json()["error"], (url, body, r.json())
    r = client.post("/api/prompts", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert (ui_project / "project.json").read_bytes() == before
    assert not (ui_project / "results").exists()
    assert not (ui_project / "exports").exists()


def test_a_prompt_the_tracker_refuses_is_not_kept(client, ui_project):
    client.post("/api/objects", json={"name": "x"})
    before = (ui_project / "project.json").read_bytes()
    # the homography engine turns clicks into a mask by GrabCut, which needs a positive click or a box
    r = client.post("/api/prompts", json={"view": "IMG_0104.jpg", "obj_id": 1, "points": [[5, 5]], "labels": [0]})
    assert r.status_code == 400 and "positive click" in r.json()["error"]
    assert client.get("/api/state").json()["prompts"] == []
    assert not (ui_project / "results").exists()
    assert (ui_project / "project.json").read_bytes() == before


def test_unregistered_view_is_marked(client, ui_project):
    from dataclasses import replace

    proj = Project.open(ui_project, verify=False)
    regs = proj.registrations
    regs["IMG_0105.jpg"] = replace(
        regs["IMG_0105.jpg"], status="unregistered", H_ref_from_view=None, reason="another wall"
    )
    proj.set_registrations(regs)
    v = next(v for v in client.get("/api/state").json()["views"] if v["id"] == "IMG_0105.jpg")
    assert v["registration"] == "unregistered" and v["registration_reason"] == "another wall"


def test_cross_site_requests_are_refused(client, ui_project):
    before = (ui_project / "project.json").read_bytes()
    r = client.post("/api/objects", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["error"]
    r = client.post("/api/objects", json={"name": "x"}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "evil.example" in r.json()["error"]
    r = client.get("/api/state", headers={"host": "evil.example:8765"})  # DNS rebinding
    assert r.status_code == 400 and "not served here" in r.json()["error"]
    assert (ui_project / "project.json").read_bytes() == before
    assert client.post("/api/objects", json={"name": "x"}, headers={"origin": "http://testserver"}).status_code == 201


def test_static_files_only_from_the_page_folder(client):
    assert client.get("/static/app.js").status_code == 200
    for url in ("/static/../project.json", "/static/%2e%2e/app.py", "/static/..%2f..%2fproject.json", "/project.json"):
        assert client.get(url).status_code == 404, url


def test_box_and_click_give_the_mask_at_once(client, ui_project, aligned_sample):
    client.post("/api/objects", json={"name": "lacuna"})
    t = time.perf_counter()
    r = client.post(
        "/api/prompts",
        json={"view": "IMG_0104.jpg", "obj_id": 1, "box": LACUNA_BOX, "points": [LACUNA_CLICK], "labels": [1]},
    )
    assert r.status_code == 201, r.text
    elapsed = time.perf_counter() - t
    s = client.get("/api/state").json()
    v = next(v for v in s["views"] if v["id"] == "IMG_0104.jpg")
    assert v["prompted"] == [1] and "1" in v["results"]
    assert _iou(_result_mask(ui_project, 1, "IMG_0104.jpg"), _gt(aligned_sample, 3, "IMG_0104.jpg")) > 0.9
    assert elapsed < 10
    # a negative click on the same view is merged into the view's prompt (the homography
    # tracker uses the latest prompt of a view only)
    r = client.post("/api/prompts", json={"view": "IMG_0104.jpg", "obj_id": 1, "points": [[20, 20]], "labels": [0]})
    prompts = client.get("/api/state").json()["prompts"]
    assert len(prompts) == 1 and prompts[0]["box"] == LACUNA_BOX
    assert prompts[0]["points"] == [[453.0, 517.0, 1], [20.0, 20.0, 0]]
    # the overlay has the preview's size and shows the mask where the object is
    photo = Image.open(io.BytesIO(client.get("/api/views/IMG_0104.jpg/preview?size=400").content))
    over = Image.open(io.BytesIO(client.get("/api/views/IMG_0104.jpg/overlay?size=400").content))
    assert photo.size == over.size == (300, 400) and over.mode == "RGBA"
    alpha = np.asarray(over)[..., 3] > 0
    gt = np.asarray(Image.fromarray(_gt(aligned_sample, 3, "IMG_0104.jpg")).resize((300, 400))) > 0
    assert _iou(alpha, gt) > 0.8
    # removing the prompt leaves the object without prompt
    assert client.delete(f"/api/prompts/{prompts[0]['id']}").status_code == 200
    assert client.get("/api/state").json()["prompts"] == []


def test_preview_is_bounded_and_never_the_file(client, ui_project):
    proj = Project.open(ui_project, verify=False)
    v = proj.view("IMG_0101.jpg")
    r = client.get("/api/views/IMG_0101.jpg/preview?size=2048")
    img = Image.open(io.BytesIO(r.content))
    assert r.headers["content-type"] == "image/jpeg" and max(img.size) <= max(v.work_size)
    assert r.content != Path(v.path).read_bytes()
    assert Image.open(io.BytesIO(client.get("/api/views/IMG_0101.jpg/preview?size=160").content)).size == (160, 120)


def test_track_job_progress_review_and_export(client, wb, ui_project, aligned_sample):
    client.post("/api/objects", json={"name": "lacuna"})
    client.post(
        "/api/prompts",
        json={"view": "IMG_0104.jpg", "obj_id": 1, "box": LACUNA_BOX, "points": [LACUNA_CLICK], "labels": [1]},
    )
    seq0 = wb.bus.seq
    r = client.post("/api/track", json={"full": True})
    assert r.status_code == 202 and r.json()["state"] == "running"
    wb.jobs.join(60)
    job = client.get("/api/job").json()
    assert job["state"] == "done", job
    events = [e for _, e in wb.bus.since(seq0)]
    results = [e for e in events if e["type"] == "result"]
    assert {e["view"] for e in results} == {v.id for v in Project.open(ui_project, verify=False).views}
    progress = [e["job"]["done"] for e in events if e["type"] == "job" and e["job"]["state"] == "running"]
    assert progress == sorted(progress) and progress[-1] == len(results)
    for vid in ("IMG_0101.jpg", "IMG_0102.jpg", "IMG_0103.jpg", "IMG_0106.jpg"):
        assert _iou(_result_mask(ui_project, 1, vid), _gt(aligned_sample, 3, vid)) > 0.85, vid
    rev = client.get("/api/review").json()
    assert rev["drifted"] == [] and len(rev["rows"]) == 6
    r = client.post("/api/export", json={"formats": ["png", "labels", "h5", "coco"], "name": "run1"})
    assert r.status_code == 200, r.text
    out = ui_project / "exports" / "run1"
    assert r.json() == {"out": str(out), "files": {"png": 6, "labels": 7, "h5": 1, "coco": 1}}
    assert (out / "1" / "IMG_0104.png").is_file() and (out / "masks.h5").is_file()
    r = client.post("/api/export", json={"formats": ["png"], "name": "run1"})
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    assert r.json()["hint"] == {"option": "--overwrite", "field": "overwrite"}  # the page highlights that box
    assert client.post("/api/export", json={"formats": ["png"], "name": "run1", "overwrite": True}).status_code == 200
    other = ui_project.parent / "elsewhere"
    r = client.post("/api/export", json={"formats": ["metashape"], "path": str(other)})
    assert r.status_code == 200 and (other / "metashape" / "IMG_0104_mask.png").is_file()


class SlowTracker:
    """Yields one empty result per view, slowly (to test 409 and cancel)."""

    name = "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.gate = threading.Event()

    def run(self, project, *, obj_ids=None, full=False):
        for v in project.views:
            self.gate.wait(5)
            time.sleep(self.delay)
            yield MaskResult(1, v.id, np.zeros((v.work_height, v.work_width), np.uint8), tracker=self.name)


def test_one_job_at_a_time_and_cancel_keeps_results(client, wb, ui_project):
    client.post("/api/objects", json={"name": "x"})
    client.post("/api/prompts", json={"view": "IMG_0104.jpg", "obj_id": 1, "box": LACUNA_BOX})
    slow = wb.engine.tracker = SlowTracker(0.2)
    assert client.post("/api/track", json={}).status_code == 202
    r = client.post("/api/track", json={})
    assert r.status_code == 409 and "already running" in r.json()["error"]
    r = client.post("/api/prompts", json={"view": "IMG_0101.jpg", "obj_id": 1, "points": [[5, 5]], "labels": [1]})
    assert r.status_code == 409 and "tracking is running" in r.json()["error"]
    assert client.delete("/api/objects/1").status_code == 409
    slow.gate.set()
    while client.get("/api/job").json()["done"] < 2:
        time.sleep(0.05)
    assert client.post("/api/track/cancel").json()["cancelled"] is True
    wb.jobs.join(10)
    job = client.get("/api/job").json()
    assert job["state"] == "cancelled" and "kept" in job["message"]
    proj = Project.open(ui_project, verify=False)
    kept = [
        v.id
        for v in proj.views
        if proj.read_result(1, v.id) is not None and proj.read_result(1, v.id).tracker == "slow"
    ]
    assert 2 <= len(kept) < 6 and kept == [v.id for v in proj.views][: len(kept)]
    assert client.post("/api/track/cancel").json()["cancelled"] is False


def test_second_tab_and_second_process_see_the_state(client, wb, ui_project):
    other = Workbench(ui_project, engine="homography")  # a second server (or the CLI) on the same project
    other.add_object("from elsewhere")
    client.post("/api/objects", json={"name": "here"})
    names = [o["name"] for o in client.get("/api/state").json()["objects"]]
    assert names == ["from elsewhere", "here"]
    assert [o["name"] for o in other.state()["objects"]] == names


def test_events_stream_is_server_sent_events(wb):
    from multiview.ui import EventBus

    bus = EventBus(maxlen=3)
    for i in range(5):
        bus.publish({"type": "x", "i": i})
    assert [e["i"] for _, e in bus.since(2)] == [2, 3, 4]
    assert bus.since(0) == [(5, {"type": "state", "reason": "missed events"})]
    assert not bus.wait(5, 0.01) and bus.wait(4, 0.01)


@pytest.mark.slow
def test_sam2_candidates_and_choice(ui_project, sam2_options):
    wb = Workbench(ui_project, engine="sam2", sam2_options=sam2_options)
    with make_client(wb) as client:
        assert client.get("/api/state").json()["engine"]["name"] == "sam2"
        client.post("/api/objects", json={"name": "lacuna"})
        r = client.post("/api/candidates", json={"view": "IMG_0104.jpg", "x": 453, "y": 517, "obj_id": 1, "size": 256})
        assert r.status_code == 200, r.text
        cands = r.json()["candidates"]
        assert [c["index"] for c in cands] == [0, 1, 2] and sum(c["best"] for c in cands) == 1
        assert all(0 <= c["score"] <= 1.5 and c["overlay"].startswith("data:image/png;base64,") for c in cands)
        r = client.post("/api/candidates", json={"view": "IMG_0104.jpg", "x": 600, "y": 517})
        assert r.status_code == 400 and "outside" in r.json()["error"]
        r = client.post(
            "/api/prompts",
            json={"view": "IMG_0104.jpg", "obj_id": 1, "points": [[453, 517]], "labels": [1], "candidate": 1},
        )
        assert r.status_code == 201 and r.json()["candidate"] == 1
        res = Project.open(ui_project, verify=False).read_result(1, "IMG_0104.jpg")
        assert res is not None and res.tracker == "sam2" and res.meta.get("preview") is True
        # the candidate choice applies to the first click only
        r = client.post(
            "/api/prompts",
            json={"view": "IMG_0104.jpg", "obj_id": 1, "points": [[400, 500]], "labels": [1], "candidate": 0},
        )
        assert r.status_code == 400 and "first single positive click" in r.json()["error"]


# ----------------------------------------------------------------------------- export never loses data


@pytest.fixture
def built_client(tmp_path):
    import review_builder

    b = review_builder.build_project(tmp_path, 4)
    photos = Path(b.project.state.photos_dir)
    (photos / "notes.txt").write_text("raking light from the left")
    with make_client(Workbench(b.project.root, engine="homography")) as c:
        yield c, b.project, photos


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_overwrite_refuses_photos_project_and_other_folders(built_client, tmp_path):
    c, proj, photos = built_client
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "report.odt").write_bytes(b"report")
    before = _files(tmp_path)
    for path, why in (
        (photos, "is the project's photo folder"),
        (proj.root, "is the project folder"),
        (tmp_path, "contains the project"),
        (docs, "is not a multiview export"),
    ):
        r = c.post("/api/export", json={"formats": ["realitycapture"], "path": str(path), "overwrite": True})
        assert r.status_code == 409 and why in r.json()["error"], r.text
        assert _files(tmp_path) == before  # nothing deleted, nothing written


def test_export_onto_a_symlinked_name_is_refused_before_writing(built_client, tmp_path):
    c, proj, photos = built_client
    (proj.root / "exports").mkdir()
    (proj.root / "exports" / "masks").symlink_to(photos, target_is_directory=True)
    before = _files(photos)
    r = c.post("/api/export", json={"formats": ["png"], "name": "masks", "overwrite": True})
    assert r.status_code == 409 and "symbolic link" in r.json()["error"]
    assert _files(photos) == before and (proj.root / "exports" / "masks").is_symlink()
    assert [p.name for p in (proj.root / "exports").iterdir()] == ["masks"]  # no temporary folder left


def test_export_beside_photos_adds_masks_only(built_client):
    c, _, photos = built_client
    before = _files(photos)
    r = c.post("/api/export", json={"formats": ["realitycapture"], "beside_photos": True})
    assert r.status_code == 200 and r.json() == {"out": str(photos), "files": {"realitycapture": 4}}
    after = _files(photos)
    assert {k: after[k] for k in before} == before
    assert sorted(set(after) - set(before)) == [".multiview-masks.json"] + [
        f"IMG_{i}.jpg.mask.png" for i in range(1, 5)
    ]
    (photos / "IMG_2.jpg.mask.png").write_bytes(b"hand-drawn")
    r = c.post("/api/export", json={"formats": ["realitycapture"], "beside_photos": True})
    assert r.status_code == 409 and "IMG_2.jpg.mask.png" in r.json()["error"]
    assert (photos / "IMG_2.jpg.mask.png").read_bytes() == b"hand-drawn"
    r = c.post("/api/export", json={"formats": ["realitycapture"], "beside_photos": True, "overwrite": True})
    assert r.status_code == 400
    r = c.post("/api/export", json={"formats": ["colmap"], "beside_photos": True})
    assert r.status_code == 400 and "COLMAP" in r.json()["error"]


def test_tracking_in_another_process_is_respected(built_client):
    c, proj, _ = built_client
    before = (proj.root / "project.json").read_bytes()
    other = Project.open(proj.root, verify=False)
    with other.tracking_lock(holder="multiview track"):
        r = c.post("/api/track", json={"full": True})
        assert r.status_code == 409 and "another tracking run (multiview track" in r.json()["error"]
        r = c.post("/api/prompts", json={"view": "IMG_2.jpg", "obj_id": 1, "points": [[50, 40]], "labels": [1]})
        assert r.status_code == 409 and "another tracking run" in r.json()["error"]
        assert (proj.root / "project.json").read_bytes() == before  # the refused prompt was not kept
    r = c.post("/api/track", json={"full": True})
    assert r.status_code == 202
    c.app.state.workbench.jobs.join(60)
    assert c.get("/api/job").json()["state"] == "done"


@pytest.mark.parametrize(("code", "status"), [(28, 507), (30, 403), (13, 403)])
def test_disk_full_and_read_only_are_json_errors(built_client, monkeypatch, code, status):
    import os

    from helpers import failing

    from multiview import atomic

    c, proj, _ = built_client
    before = (proj.root / "project.json").read_bytes()
    replacing, staged = failing(code)
    monkeypatch.setattr(atomic, "replacing", replacing)
    monkeypatch.setattr(atomic, "staged_dir", staged)
    for method, url, body in (
        ("post", "/api/objects", {"name": "hand"}),
        ("post", "/api/prompts", {"view": "IMG_2.jpg", "obj_id": 1, "points": [[60, 50]], "labels": [1]}),
        ("post", "/api/export", {"formats": ["h5"], "name": "run"}),
    ):
        r = getattr(c, method)(url, json=body)
        assert r.status_code == status and os.strerror(code) not in r.text, r.text
        assert r.json()["error"].startswith("cannot write in '") and "\n" not in r.json()["error"]
    assert (proj.root / "project.json").read_bytes() == before


def test_strict_numbers_types_and_body_limit(built_client):
    c, proj, _ = built_client
    before = (proj.root / "project.json").read_bytes()
    raw = {"headers": {"content-type": "application/json"}}
    for body in (
        '{"view": "IMG_2.jpg", "obj_id": 1e309, "points": [[5, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": NaN, "points": [[5, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": 1, "points": [[Infinity, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": 99999999999999999999999999, "points": [[5, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": "1", "points": [[5, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": 1.0, "points": [[5, 5]], "labels": [1]}',
        '{"view": "IMG_2.jpg", "obj_id": 300, "points": [[5, 5]], "labels": [1]}',
    ):
        r = c.post("/api/prompts", content=body, **raw)
        assert r.status_code == 400, (body, r.status_code, r.text)
    r = c.post("/api/export", json={"formats": ["png"], "name": "x", "objects": "13"})
    assert r.status_code == 400 and "list of object ids" in r.json()["error"]
    r = c.post("/api/track", json={"objects": "13"})
    assert r.status_code == 400
    assert c.delete("/api/objects/1e309").status_code == 400
    assert c.delete("/api/objects/99999999999999999999").status_code == 400
    big = b'{"name": "' + b"x" * (2 << 20) + b'"}'
    r = c.post("/api/objects", content=big, **raw)
    assert r.status_code == 413 and "over" in r.json()["error"]

    def chunked():  # no declared length: refused while reading, not after
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * (64 << 10)
        yield b'"}'

    r = c.post("/api/objects", content=chunked(), **raw)
    assert r.status_code == 413
    assert (proj.root / "project.json").read_bytes() == before


def test_one_damaged_result_is_reported_on_its_view(built_client):
    c, proj, _ = built_client
    (proj.root / "results" / "1" / "IMG_2.jpg.npz").write_bytes(b"not a result file")
    r = c.get("/api/state")
    assert r.status_code == 200
    views = {v["id"]: v for v in r.json()["views"]}
    assert views["IMG_2.jpg"]["results"]["1"]["damaged"] and "damaged" in views["IMG_2.jpg"]["results"]["1"]["error"]
    assert views["IMG_1.jpg"]["results"]["1"]["area"] > 0  # the others are whole
    assert c.get("/api/views/IMG_2.jpg/overlay?size=128").status_code == 200
    assert c.get("/api/review").status_code == 200


def test_sam2_preview_masks_first_then_each_view_replaced_at_full_size(ui_project, sam2_options):
    """With a preview size, propagation shows quick masks on every view, then replaces each at full size."""
    opts = {**sam2_options, "preview_size": 128}
    wb = Workbench(ui_project, engine="sam2", sam2_options=opts)
    with make_client(wb) as client:
        client.post("/api/objects", json={"name": "lacuna"})
        client.post("/api/prompts", json={"view": "IMG_0104.jpg", "obj_id": 1, "points": [LACUNA_CLICK], "labels": [1]})
        seq0 = wb.bus.seq
        r = client.post("/api/track", json={})
        assert r.status_code == 202
        n_views = len(Project.open(ui_project, verify=False).views)
        assert r.json()["total"] == 2 * n_views  # two passes
        wb.jobs.join(120)
        assert client.get("/api/job").json()["state"] == "done"
    results = [e for _, e in wb.bus.since(seq0) if e["type"] == "result"]
    sizes = [e["computed_at"] for e in results]
    assert sizes == ["sam2 128 px preview"] * n_views + [f"sam2 {sam2_options['image_size']} px"] * n_views
    proj = Project.open(ui_project, verify=False)
    assert {proj.read_result(1, v.id).meta["pass"] for v in proj.views} == {"full"}
