"""The sam2 tracker on a real project: results stored per view, corrections across runs, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_rgb
from sam2_helpers import IMAGE_SIZE, blob_frames

from multiview.project import Project
from multiview.tracking import get_tracker, run_tracking


@pytest.fixture
def project(tmp_path: Path) -> Project:
    sizes = [(160, 120), (150, 120), (160, 128), (144, 112), (160, 120)]  # views of different sizes
    for i, (w, h) in enumerate(sizes):
        write_rgb(tmp_path / "photos" / f"IMG_{i + 1}.png", blob_frames(1, (w, h), seed=i)[0])
    return Project.create(tmp_path / "photos", tmp_path / "proj")


def tracker(predictor, **kw):
    return get_tracker("sam2", predictor=predictor, image_size=IMAGE_SIZE, **kw)


def results(project: Project, obj: int) -> dict[str, np.ndarray]:
    out = {}
    for v in project.views:
        r = project.read_result(obj, v.id)
        if r is not None:
            out[v.id] = r.prob
    return out


def test_track_stores_every_view_at_its_size_with_scores(project, predictor):
    project.add_prompt("IMG_3", 1, points=[(80, 64)], labels=[1])
    n = run_tracking(project, tracker(predictor))
    assert n == 5
    for v in project.views:
        r = project.read_result(1, v.id)
        assert r.prob.shape == (v.work_height, v.work_width) and r.prob.dtype == np.uint8
        assert r.tracker == "sam2" and 0 <= r.score <= 1 and 0 <= r.present_score <= 1
        assert r.source_view == (None if v.id == "IMG_3.png" else "IMG_3.png")
    # nothing new: nothing to do
    assert run_tracking(project, tracker(predictor)) == 0


def test_correction_in_a_new_process_sticks_and_reruns_its_stretch(project, predictor):
    project.add_prompt("IMG_2", 1, points=[(70, 60)], labels=[1])
    run_tracking(project, tracker(predictor))
    first = results(project, 1)
    project.add_prompt("IMG_4", 1, points=[(90, 56)], labels=[0])  # correction on a tracked view
    seen = []
    trk = tracker(predictor)  # a new tracker: memory comes back from the project's cache
    run_tracking(project, trk, on_result=lambda e: seen.append(e.view_id))
    assert sorted(seen) == ["IMG_3.png", "IMG_4.png", "IMG_5.png"]
    assert trk._session.features.encoded == 0  # every view was encoded by the first run
    after = results(project, 1)
    for v in ("IMG_1.png", "IMG_2.png"):
        np.testing.assert_array_equal(after[v], first[v])
    corrected = after["IMG_4.png"]
    # --full re-runs everything from the first prompt; the correction still holds
    run_tracking(project, tracker(predictor), full=True)
    np.testing.assert_array_equal(results(project, 1)["IMG_4.png"], corrected)


def test_interrupted_run_resumes_from_last_complete_view(project, predictor):
    project.add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])
    stored = []

    class Stop(Exception):
        pass

    def stop_after_two(event):
        stored.append(event.view_id)
        if len(stored) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_tracking(project, tracker(predictor), on_result=stop_after_two)
    assert sorted(results(project, 1)) == ["IMG_1.png", "IMG_2.png"]
    rest = []
    run_tracking(project, tracker(predictor), on_result=lambda e: rest.append(e.view_id))
    # IMG_1 is not recomputed; IMG_2 was in the consumer's hands when the run stopped, so
    # the tracker cannot know it was stored and computes it again (same result)
    assert rest == ["IMG_2.png", "IMG_3.png", "IMG_4.png", "IMG_5.png"]
    resumed = results(project, 1)
    # same masks as an uninterrupted run
    run_tracking(project, tracker(predictor), full=True)
    for v, prob in results(project, 1).items():
        np.testing.assert_array_equal(prob, resumed[v])


def test_new_object_after_tracking_leaves_others_alone(project, predictor):
    project.add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])
    run_tracking(project, tracker(predictor))
    project.add_prompt("IMG_5", 2, box=(10, 10, 60, 50))
    seen = []
    run_tracking(project, tracker(predictor), on_result=lambda e: seen.append((e.obj_id, e.view_id)))
    assert sorted(seen) == [(2, v.id) for v in project.views]


def test_mask_prompt_and_removed_prompt_restart(project, predictor):
    mask = np.zeros((128, 160), np.uint8)
    mask[30:90, 40:120] = 255
    p = project.add_prompt("IMG_3", 1, mask=mask)
    run_tracking(project, tracker(predictor))
    r = project.read_result(1, "IMG_3")
    assert np.mean((r.prob >= 128) == (mask > 0)) > 0.95
    project.add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])
    project.remove_prompts([p.id])
    seen = []
    run_tracking(project, tracker(predictor), on_result=lambda e: seen.append(e.view_id))
    assert len(seen) == 5  # memory built from a removed prompt is discarded


def test_deleted_results_are_rewritten_without_recomputing(project, predictor):
    project.add_prompt("IMG_2", 1, points=[(70, 60)], labels=[1])
    run_tracking(project, tracker(predictor))
    before = results(project, 1)
    project.clear_results(1)
    assert run_tracking(project, tracker(predictor)) == 5
    after = results(project, 1)
    for v in before:
        np.testing.assert_array_equal(after[v], before[v])


@pytest.mark.slow
def test_aligned_frames_give_masks_at_each_views_own_size(tmp_path, predictor):
    """Aligned mode: frames warped onto the reference canvas, masks back through the inverse homography."""
    from click.testing import CliRunner

    from devtools.sample import make_sample
    from multiview.cli import main

    sample = make_sample(tmp_path / "sample", n_views=3)
    proj = Project.create(sample.photos_dir, tmp_path / "proj")
    r = CliRunner().invoke(main, ["align", str(proj.root)])
    assert r.exit_code == 0, r.output
    proj.reload()
    proj.add_prompt(proj.reference.id, 1, points=[(proj.reference.width / 2, proj.reference.height / 2)], labels=[1])
    assert run_tracking(proj, tracker(predictor, frames="aligned")) == 3
    for v in proj.views:
        res = proj.read_result(1, v.id)
        assert res.prob.shape == (v.work_height, v.work_width)
        assert res.meta["frames"] == "aligned"
