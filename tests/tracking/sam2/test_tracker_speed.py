"""The sam2 tracker with speed settings: preview then full size, labelled results, stored settings, early stop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import write_rgb
from sam2_helpers import IMAGE_SIZE, always_unchanged, blob_frames

from multiview.cli import main
from multiview.project import Project
from multiview.tracking import get_tracker, run_tracking
from multiview.tracking.sam2.speed import PRESETS, SpeedSettings, save_settings, saved_settings

PREVIEW = 128


@pytest.fixture
def project(tmp_path: Path) -> Project:
    sizes = [(160, 120), (150, 120), (160, 128), (144, 112), (160, 120)]
    for i, (w, h) in enumerate(sizes):
        write_rgb(tmp_path / "photos" / f"IMG_{i + 1}.png", blob_frames(1, (w, h), seed=i)[0])
    return Project.create(tmp_path / "photos", tmp_path / "proj")


def tracker(predictor, **kw):
    return get_tracker("sam2", predictor=predictor, image_size=IMAGE_SIZE, **kw)


def test_preview_first_then_full_size_each_result_labelled(project, predictor):
    project.add_prompt("IMG_3", 1, points=[(80, 64)], labels=[1])
    seen = []
    trk = tracker(predictor, preview_size=PREVIEW)
    run_tracking(project, trk, on_result=lambda e: seen.append((e.view_id, e.result.meta["image_size"])))
    views = [v.id for v in project.views]
    # every view gets a quick preview mask before the first full-size one
    assert [s for _, s in seen] == [PREVIEW] * 5 + [IMAGE_SIZE] * 5
    assert sorted(v for v, _ in seen[:5]) == sorted(views)
    assert trk.sessions["preview"].predictor.image_size == PREVIEW
    for v in project.views:
        r = project.read_result(1, v.id)
        assert r.meta["image_size"] == IMAGE_SIZE and r.meta["pass"] == "full"
        assert r.computed_at == f"sam2 {IMAGE_SIZE} px"
    # the preview pass has its own features and memory: nothing new, nothing recomputed
    assert run_tracking(project, tracker(predictor, preview_size=PREVIEW)) == 0


def test_interrupted_full_pass_leaves_labelled_previews_that_status_and_export_show(project, predictor, tmp_path):
    project.add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])

    class Stop(Exception):
        pass

    def stop_in_full_pass(event):
        if event.result.meta["pass"] == "full" and event.view_id == "IMG_2.png":
            raise Stop

    with pytest.raises(Stop):
        run_tracking(project, tracker(predictor, preview_size=PREVIEW), on_result=stop_in_full_pass)
    at = {v.id: project.read_result(1, v.id).computed_at for v in project.views}
    assert at["IMG_1.png"] == f"sam2 {IMAGE_SIZE} px"
    assert at["IMG_3.png"] == f"sam2 {PREVIEW} px preview"
    r = CliRunner().invoke(main, ["status", str(project.root)])
    assert r.exit_code == 0, r.output
    assert f"sam2 {PREVIEW} px preview" in r.output and "quick previews" in r.output
    r = CliRunner().invoke(main, ["status", str(project.root), "--json"])
    rows = {row["view"]: row for row in json.loads(r.output)["rows"]}
    assert rows["IMG_4.png"]["computed_at"] == f"sam2 {PREVIEW} px preview"
    out = tmp_path / "export"
    r = CliRunner().invoke(main, ["export", str(project.root), str(out), "--format", "png"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["computed_at"]["1"][f"sam2 {PREVIEW} px preview"] == ["IMG_3.png", "IMG_4.png", "IMG_5.png"]
    # the next run finishes the full pass and replaces every preview
    run_tracking(project, tracker(predictor, preview_size=PREVIEW))
    assert {project.read_result(1, v.id).computed_at for v in project.views} == {f"sam2 {IMAGE_SIZE} px"}


def test_settings_come_from_the_project_unless_given(project, predictor):
    assert tracker(predictor).settings(project) == PRESETS["exact"]
    save_settings(project, PRESETS["balanced"].with_options(max_cond_frames=3))
    stored = saved_settings(Project.open(project.root))
    assert stored.max_cond_frames == 3 and stored.precision == "bf16" and stored.name == "custom"
    assert tracker(predictor).settings(project) == stored
    assert tracker(predictor, speed="exact").settings(project) == PRESETS["exact"]
    assert tracker(predictor, preview_size=0, speed="fast").settings(project).preview_size is None
    project.add_prompt("IMG_2", 1, points=[(70, 60)], labels=[1])
    run_tracking(project, tracker(predictor))
    r = project.read_result(1, "IMG_4")
    assert (r.meta["precision"], r.meta["speed"]) == ("bf16", "custom")


def test_early_stop_keeps_skipped_views_results_and_stored_memory(project, predictor):
    project.add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])
    always = SpeedSettings("custom", early_stop=always_unchanged())
    run_tracking(project, tracker(predictor, speed=always))
    files = {v.id: project.result_path(1, v.id).read_bytes() for v in project.views}
    state = tracker(predictor, speed=always)
    project.add_prompt("IMG_2", 1, points=[(90, 56)], labels=[0])  # correction: stretch IMG_2..IMG_5
    seen = []
    run_tracking(project, state, on_result=lambda e: seen.append(e.view_id))
    session = state.sessions["full"]
    [stop] = session.early_stops
    assert seen == ["IMG_2.png", "IMG_3.png", "IMG_4.png"] and stop.skipped == (4,)
    assert project.result_path(1, "IMG_5.png").read_bytes() == files["IMG_5.png"]
    # a new process rebuilds the memory from disk: the skipped view's stored memory is the old one
    fresh = tracker(predictor, speed=always)
    assert run_tracking(project, fresh) == 0
    s2 = fresh.session(project)
    from multiview.tracking.sam2.statestore import ObjectStateStore

    root = fresh._state_root(project, s2)
    assert ObjectStateStore(root / "1").load_into(s2, 1)
    np.testing.assert_array_equal(s2.logits(1, 4), session.logits(1, 4))
