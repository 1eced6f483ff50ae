from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from multiview import MaskResult, Project, Registration
from multiview.errors import PhotoError, ProjectError, ProjectExistsError, ValidationError
from multiview.project.model import SCHEMA_VERSION


def test_create_records_views_in_natural_order(photo_dir: Path, tmp_path: Path) -> None:
    proj = Project.create(photo_dir, tmp_path / "proj")
    assert [v.id for v in proj.views] == ["IMG_1.png", "IMG_2.jpg", "IMG_10.png"]
    assert [v.size for v in proj.views] == [(200, 150), (160, 120), (120, 160)]
    assert proj.reference.id == "IMG_2.jpg"  # the middle view
    data = json.loads((tmp_path / "proj" / "project.json").read_text())
    assert data["format"] == "multiview-project" and data["version"] == SCHEMA_VERSION
    assert data["sections"]["skipped_files"] == ["IMG_1.xmp"]
    assert len(data["views"][0]["sha256"]) == 64


def test_reopen_round_trips_state(photo_dir: Path, tmp_path: Path) -> None:
    proj = Project.create(photo_dir, tmp_path / "p", reference="IMG_10")
    proj.add_prompt("IMG_1", 2, points=[(10, 20), (30, 40)], labels=[1, 0], box=(1, 2, 100, 120))
    H = np.array([[1.0, 0.1, 5], [0, 1, 3], [0, 0, 1]])
    proj.set_registrations({"IMG_1.png": Registration("IMG_1.png", "registered", H, 120, 0.4, 0.9, "test")})
    again = Project.open(tmp_path / "p")
    assert again.state.to_json() == proj.state.to_json()
    assert again.reference.id == "IMG_10.png"
    (p,) = again.prompts
    assert p.points == ((10.0, 20.0), (30.0, 40.0)) and p.labels == (1, 0) and p.box == (1, 2, 100, 120)
    np.testing.assert_allclose(again.registrations["IMG_1.png"].H_ref_from_view, H)
    assert again.object(2).name == "object 2"


def test_deformable_registration_round_trips_and_old_files_read(photo_dir: Path, tmp_path: Path) -> None:
    from multiview.project import Deformation, HeldOutError, ThinPlateSpline

    proj = Project.create(photo_dir, tmp_path / "p")
    rng = np.random.default_rng(0)
    tps = ThinPlateSpline(
        rng.uniform(0, 100, (5, 2)), rng.normal(0, 1e-3, (5, 2)), np.array([[1.0, 2], [1, 0], [0, 1]])
    )
    dfm = Deformation("tps", tps, tps, 1e-5, 0.1)
    ho = HeldOutError(0.3, 0.8, 500, 0.9, ((0.5, None),), ((20, 1),), (50.0, 40.0, 0.5), "5-fold", {"tps": (0.3, 0.8)})
    H = np.array([[1.0, 0.1, 5], [0, 1, 3], [0, 0, 1]])
    reg = Registration("IMG_1.png", "registered", H, 120, 0.4, 0.9, "test", deformation=dfm, heldout=ho, note="n")
    proj.set_registrations({"IMG_1.png": reg})
    again = Project.open(tmp_path / "p").registrations["IMG_1.png"]
    assert again.model == "tps" and again.note == "n" and again.heldout == ho
    q = rng.uniform(0, 100, (10, 2))
    np.testing.assert_allclose(again.deformation.forward(q), dfm.forward(q))
    data = json.loads((tmp_path / "p" / "project.json").read_text())
    assert data["registrations"][0]["deformation"]["forward"]["centers"] == tps.centers.tolist()
    # A damaged spline is a damaged project file, said in one line.
    data["registrations"][0]["deformation"]["forward"]["kernel_weights"] = [[1.0, 2.0]]
    (tmp_path / "p" / "project.json").write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="damaged"):
        Project.open(tmp_path / "p")
    # A file written before held-out errors existed (schema 2) reads as homographies, not measured.
    data["version"] = 2
    for r in data["registrations"]:
        for k in ("deformation", "heldout", "note", "model"):
            r.pop(k)
    (tmp_path / "p" / "project.json").write_text(json.dumps(data))
    old = Project.open(tmp_path / "p").registrations["IMG_1.png"]
    assert old.model == "homography" and old.heldout is None and old.deformation is None


def test_refuses_existing_project_folder(photo_dir: Path, tmp_path: Path) -> None:
    Project.create(photo_dir, tmp_path / "p")
    with pytest.raises(ProjectExistsError, match=r"already exists.*replace") as e:
        Project.create(photo_dir, tmp_path / "p")
    assert e.value.hint is not None and e.value.hint.option == "--overwrite"
    Project.create(photo_dir, tmp_path / "p", overwrite=True)


def test_failed_create_leaves_nothing(photo_dir: Path, tmp_path: Path) -> None:
    (photo_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(PhotoError, match=r"broken\.png"):
        Project.create(photo_dir, tmp_path / "p")
    assert os.listdir(tmp_path) == ["photos"]


def test_open_detects_changed_and_moved_photos(photo_dir: Path, tmp_path: Path) -> None:
    Project.create(photo_dir, tmp_path / "p")
    f = photo_dir / "IMG_2.jpg"
    data = f.read_bytes()
    f.write_bytes(data[:-10] + b"0123456789")
    with pytest.raises(PhotoError, match=r"'IMG_2\.jpg' changed"):
        Project.open(tmp_path / "p")
    f.write_bytes(data)
    Project.open(tmp_path / "p")  # restored: fine again
    f.rename(photo_dir / "elsewhere.jpg")
    with pytest.raises(PhotoError, match=r"'IMG_2\.jpg' is missing"):
        Project.open(tmp_path / "p")


def test_open_rejects_non_projects_and_damage(tmp_path: Path, photo_dir: Path) -> None:
    with pytest.raises(ProjectError, match="not a multiview project"):
        Project.open(tmp_path)
    Project.create(photo_dir, tmp_path / "p")
    pj = tmp_path / "p" / "project.json"
    pj.write_text(pj.read_text()[:50])
    with pytest.raises(ProjectError, match="damaged"):
        Project.open(tmp_path / "p")


def test_prompt_validation(photo_dir: Path, tmp_path: Path) -> None:
    proj = Project.create(photo_dir, tmp_path / "p")
    before = (tmp_path / "p" / "project.json").read_text()
    with pytest.raises(ValidationError, match="no view named 'IMG_9'"):
        proj.add_prompt("IMG_9", 1, points=[(1, 1)], labels=[1])
    with pytest.raises(ValidationError, match=r"outside photo 'IMG_1.png' \(200x150\)"):
        proj.add_prompt("IMG_1", 1, points=[(200, 10)], labels=[1])
    with pytest.raises(ValidationError, match="box"):
        proj.add_prompt("IMG_1", 1, box=(50, 10, 40, 20))
    with pytest.raises(ValidationError, match=r"mask is 10x10 but photo 'IMG_1\.png' is 200x150"):
        proj.add_prompt("IMG_1", 1, mask=np.ones((10, 10), np.uint8))
    with pytest.raises(ValidationError, match="object id 0"):
        proj.add_prompt("IMG_1", 0, points=[(1, 1)], labels=[1])
    with pytest.raises(ValidationError, match="empty prompt"):
        proj.add_prompt("IMG_1", 1)
    assert (tmp_path / "p" / "project.json").read_text() == before
    assert not (tmp_path / "p" / "prompts").exists()


def test_mask_prompt_is_stored_at_original_size(photo_dir: Path, tmp_path: Path) -> None:
    proj = Project.create(photo_dir, tmp_path / "p")
    m = np.zeros((150, 200), np.uint8)
    m[20:60, 30:90] = 7
    p = proj.add_prompt("IMG_1.png", 1, mask=m)
    back = proj.prompt_mask(p)
    assert back is not None and back.shape == (150, 200)
    np.testing.assert_array_equal(back, m > 0)


def test_concurrent_edits_are_not_lost(photo_dir: Path, tmp_path: Path) -> None:
    a = Project.create(photo_dir, tmp_path / "p")
    b = Project.open(tmp_path / "p")
    a.add_prompt("IMG_1", 1, points=[(5, 5)], labels=[1])
    b.add_prompt("IMG_2", 1, points=[(6, 6)], labels=[1])  # b's cached state is stale; nothing is lost
    threads = [
        threading.Thread(
            target=Project.open(tmp_path / "p").add_prompt,
            args=("IMG_10", 1),
            kwargs={"points": [(i, i)], "labels": [1]},
        )
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = Project.open(tmp_path / "p")
    assert len(final.prompts) == 8 and len({p.id for p in final.prompts}) == 8


def test_results_round_trip_and_validation(photo_dir: Path, tmp_path: Path) -> None:
    proj = Project.create(photo_dir, tmp_path / "p", work_max_side=256)
    proj.add_object(1, "figure")
    v = proj.view("IMG_1")
    prob = np.zeros((v.work_height, v.work_width), np.uint8)
    prob[10:40, 20:60] = 230
    valid = np.ones_like(prob, bool)
    valid[:, :5] = False
    r = MaskResult(
        1, v.id, prob, valid, score=0.8, present_score=0.9, tracker="test", source_view="IMG_2.jpg", meta={"k": 1}
    )
    proj.write_result(r)
    back = proj.read_result(1, "IMG_1")
    assert back is not None
    np.testing.assert_array_equal(back.prob, prob)
    np.testing.assert_array_equal(back.valid, valid)
    assert (back.score, back.present_score, back.tracker, back.source_view, back.meta) == (
        0.8,
        0.9,
        "test",
        "IMG_2.jpg",
        {"k": 1},
    )
    assert back.area == 30 * 40
    assert proj.read_result(1, "IMG_2") is None
    with pytest.raises(ValidationError, match="expected"):
        proj.write_result(MaskResult(1, v.id, prob[:-1]))
    proj.remove_object(1)
    assert proj.read_result(1, "IMG_1") is None and not proj.objects


def test_working_copy_respects_bound(tmp_path: Path) -> None:
    from helpers import textured, write_rgb

    d = tmp_path / "ph"
    write_rgb(d / "a.png", textured(900, 600, 1))
    write_rgb(d / "b.png", textured(300, 400, 2))
    proj = Project.create(d, tmp_path / "p", work_max_side=450)
    assert proj.view("a").work_size == (450, 300)
    assert proj.view("b").work_size == (300, 400)
    assert proj.working_image("a").shape == (300, 450, 3)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_overwrite_replaces_only_a_previous_project(photo_dir: Path, tmp_path: Path) -> None:
    before = _tree(tmp_path)
    for root, why in (
        (photo_dir, "is the project's photo folder"),
        (tmp_path, "contains the project's photo folder"),
    ):
        with pytest.raises(ProjectExistsError, match=why):
            Project.create(photo_dir, root, overwrite=True)
        assert _tree(tmp_path) == before
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("mine")
    with pytest.raises(ProjectExistsError, match=r"is not a multiview project \(no project.json\)"):
        Project.create(photo_dir, docs, overwrite=True)
    assert (docs / "notes.txt").read_text() == "mine"
    link = tmp_path / "link"
    link.symlink_to(photo_dir, target_is_directory=True)
    with pytest.raises(ProjectExistsError, match="symbolic link"):
        Project.create(photo_dir, link, overwrite=True)

    p = Project.create(photo_dir, tmp_path / "p")
    Project.create(photo_dir, tmp_path / "p", overwrite=True)  # a previous project: replaced
    (p.root / "exports" / "masks").mkdir(parents=True)
    (p.root / "exports" / "masks" / "export.json").write_text("{}")
    with pytest.raises(ProjectExistsError, match="holds exports"):
        Project.create(photo_dir, p.root, overwrite=True)
    shutil.rmtree(p.root / "exports")
    (p.root / "my notes.txt").write_text("mine")
    with pytest.raises(ProjectExistsError, match=r"not the project's .my notes\.txt"):
        Project.create(photo_dir, p.root, overwrite=True)
    assert (p.root / "my notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: [], r"damaged at the top level \(a list; expected an object"),
        (lambda d: None, r"damaged at the top level \(null; expected an object"),
        (lambda d: {**d, "prompts": {"1": {}}}, r"damaged at prompts \(an object; expected a list"),
        (lambda d: {**d, "registrations": "none"}, r"damaged at registrations \(a text; expected a list"),
        (lambda d: {**d, "version": "1"}, r"damaged at version \(a text; expected an integer\)"),
        (lambda d: {**d, "views": [{**d["views"][0], "width": "wide"}]}, r"damaged at views\[0\]\.width \(a text"),
        (lambda d: {k: v for k, v in d.items() if k != "order"}, r"damaged at order \(missing\)"),
        (lambda d: {**d, "objects": [{"id": "1", "name": "x", "color": "#ffffff"}]}, r"damaged at objects\[0\]\.id"),
        (
            lambda d: {**d, "prompts": [{"id": 1, "obj_id": 1, "view": "IMG_1.png", "points": [[1, 2]]}]},
            r"damaged at prompts\[0\]\.points\[0\]",
        ),
        (lambda d: {**d, "order": {**d["order"], "views": "IMG_1.png"}}, r"damaged at order\.views \(a text"),
    ],
)
def test_wrong_shape_is_reported_at_its_key(photo_dir: Path, tmp_path: Path, change, where) -> None:
    p = Project.create(photo_dir, tmp_path / "p")
    f = p.root / "project.json"
    f.write_text(json.dumps(change(json.loads(f.read_text()))))
    with pytest.raises(ProjectError, match=where) as info:
        Project.open(p.root)
    assert "\n" not in str(info.value) and "restore it from a backup" in str(info.value)


def test_view_names_compare_after_unicode_normalisation(tmp_path: Path) -> None:
    import unicodedata

    from helpers import textured, write_rgb

    nfd = unicodedata.normalize("NFD", "Madonna_é_1.png")  # as copied from a Mac
    write_rgb(tmp_path / "ph" / nfd, textured(40, 30, 1))
    write_rgb(tmp_path / "ph" / "Madonna_é_2.png", textured(40, 30, 2))
    p = Project.create(tmp_path / "ph", tmp_path / "p")
    assert nfd in [v.id for v in p.views]  # the name as it is in the folder
    assert p.view(unicodedata.normalize("NFC", "Madonna_é_1")).id == nfd  # typed NFC finds it
    assert p.view("MADONNA_É_1.PNG").id == nfd


def test_linked_photos_are_named_as_in_the_folder(tmp_path: Path) -> None:
    from helpers import textured, write_rgb

    write_rgb(tmp_path / "card" / "DSC_441.png", textured(40, 30, 1))
    write_rgb(tmp_path / "card" / "DSC_442.png", textured(40, 30, 2))
    (tmp_path / "wall").mkdir()
    (tmp_path / "wall" / "wall_01.png").symlink_to(tmp_path / "card" / "DSC_441.png")
    (tmp_path / "wall" / "wall_02.png").symlink_to(tmp_path / "card" / "DSC_442.png")
    p = Project.create(tmp_path / "wall", tmp_path / "p")
    assert [v.id for v in p.views] == ["wall_01.png", "wall_02.png"]
    assert p.view("wall_01").path == tmp_path / "wall" / "wall_01.png"
    Project.open(p.root)  # the links verify against their targets' content


def test_leftovers_of_killed_writers_are_cleaned_on_open(photo_dir: Path, tmp_path: Path) -> None:
    from test_atomic import kill_a_writer

    p = Project.create(photo_dir, tmp_path / "p")
    kill_a_writer("file", p.root / "project.json")  # a `prompt` killed while saving
    kill_a_writer("file", p.root / "prompts" / "1.png")
    kill_a_writer("file", p.root / "results" / "1" / "IMG_1.png.npz")
    assert len(list(p.root.rglob(".tmp-*"))) == 3
    Project.open(p.root)
    assert not list(p.root.rglob(".tmp-*"))
