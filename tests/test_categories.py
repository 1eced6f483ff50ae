"""The condition-mapping vocabulary and categories stored in a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multiview import Project
from multiview.categories import DEFAULT_CATEGORIES, DEFAULT_CATEGORY, HATCHES, resolve
from multiview.errors import ProjectError, ValidationError


def test_default_vocabulary_covers_the_wall_painting_phenomena() -> None:
    keys = [c.key for c in DEFAULT_CATEGORIES]
    for k in ("loss", "flaking", "detachment", "crack", "efflorescence", "biological", "deposit", "intervention"):
        assert k in keys
    assert DEFAULT_CATEGORY == "figure" and not resolve("figure").damage
    assert len(set(keys)) == len(keys)
    assert len({c.color for c in DEFAULT_CATEGORIES}) == len(keys)  # every legend colour distinct
    assert all(c.hatch in HATCHES for c in DEFAULT_CATEGORIES)
    assert resolve("Loss / Lacuna").key == "loss"  # labels work too
    with pytest.raises(ValidationError, match="'rot' is unknown; use one of figure, loss"):
        resolve("rot")


def test_categories_and_scale_are_stored_and_old_files_read(photo_dir: Path, tmp_path: Path) -> None:
    from multiview.plane import Scale

    proj = Project.create(photo_dir, tmp_path / "p")
    proj.add_prompt("IMG_2", 1, points=[(10, 10)], labels=[1], object_category="loss")
    proj.add_prompt("IMG_2", 2, points=[(20, 20)], labels=[1])
    assert proj.object(1).category == "loss" and proj.object(2).category == "figure"
    proj.define_category("old-fill", label="cement fill", color=(10, 20, 30), hatch="dots")
    proj.set_category(2, "old-fill")
    with pytest.raises(ValidationError, match="default category"):
        proj.define_category("crack", color=(1, 2, 3))
    with pytest.raises(ValidationError, match="unknown"):
        proj.set_category(2, "nope")
    proj.set_scale(Scale.parse("10,20,410,20,25cm"))
    again = Project.open(tmp_path / "p")
    assert again.category_of(2).label == "cement fill" and again.category_of(2).hatch == "dots"
    assert again.scale().px_per_cm == pytest.approx(16.0) and "25 cm" in again.scale().source
    assert again.scale(Scale(3.0)).px_per_cm == 3.0  # an explicit --scale wins
    data = json.loads((tmp_path / "p" / "project.json").read_text())
    assert data["version"] >= 2 and data["scale"]["px_per_cm"] == pytest.approx(16.0)
    assert [o["category"] for o in data["objects"]] == ["loss", "old-fill"]
    # a version-1 file (no categories, no scale) is read with the defaults
    data["version"] = 1
    for o in data["objects"]:
        del o["category"]
    del data["categories"], data["scale"]
    (tmp_path / "p" / "project.json").write_text(json.dumps(data))
    old = Project.open(tmp_path / "p")
    assert [o.category for o in old.objects] == ["figure", "figure"] and old.scale() is None
    # an unknown category in the file is reported, not guessed
    data["version"] = 2
    data["objects"][0]["category"] = "mystery"
    (tmp_path / "p" / "project.json").write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="unknown category 'mystery'"):
        Project.open(tmp_path / "p")
