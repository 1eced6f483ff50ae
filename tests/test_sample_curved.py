"""The curved-wall sample (``devtools.sample.curved``) and the shipped ``sequences/apse``: exact, ray-cast truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from devtools.sample import SampleExistsError, SampleValueError, load_curved_sample, make_curved_sample

APSE = Path(__file__).resolve().parents[1] / "sequences" / "apse"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small apse: 4 photos at 0.4x the sample's sizes."""
    return make_curved_sample(tmp_path_factory.mktemp("apse") / "s", n_views=4, view_scale=0.4)


def test_shipped_apse_is_what_its_geometry_says() -> None:
    seq = load_curved_sample(APSE)
    assert len(seq.view_names) >= 6 and len(set(seq.view_sizes.values())) >= 4  # mixed sizes
    assert seq.wall.arc_deg >= 60.0
    assert seq.occluder_masks and all(m.any() for m in seq.occluder_masks.values())
    meta = json.loads((APSE / "ground_truth" / "geometry.json").read_text())
    assert meta["surface"]["radius_m"] == pytest.approx(2.0)
    for name in seq.view_names:
        for obj in seq.objects:
            stored = seq.ground_truth_dir / "masks" / str(obj.id) / f"{Path(name).stem}.png"
            import cv2

            on_disk = cv2.imread(str(stored), cv2.IMREAD_GRAYSCALE) >= 128
            again = seq.view_mask(name, obj.id)  # ray-cast from geometry.json
            assert (on_disk != again).mean() < 1e-4, (name, obj.id)
    total = sum(f.stat().st_size for f in APSE.rglob("*") if f.is_file())
    assert total < 2.0e6


def test_point_maps_are_exact_and_consistent(small) -> None:
    name = small.view_names[1]
    w, h = small.view_sizes[name]
    grid = np.stack(np.meshgrid(np.linspace(0, w - 1, 12), np.linspace(0, h - 1, 9)), -1).reshape(-1, 2)
    uv = small.panel_from_view(name, grid)
    on = np.all(np.isfinite(uv), axis=1)
    assert on.mean() > 0.5
    np.testing.assert_allclose(small.view_from_panel(name, uv[on]), grid[on], atol=1e-6)
    # Through the wall to another photo and back.
    other = small.view_names[2]
    q = small.view_from_view(other, name, grid[on])
    back = small.view_from_view(name, other, q)
    np.testing.assert_allclose(back, grid[on], atol=1e-6)
    # Not one plane: the best homography between the two photos misses by pixels.
    import cv2

    ok = np.all(np.isfinite(q), axis=1)
    H, _ = cv2.findHomography(grid[on][ok], q[ok], 0)
    p = cv2.perspectiveTransform(grid[on][ok][None], H)[0]
    assert np.abs(p - q[ok]).max() > 2.0


def test_masks_follow_the_wall(small) -> None:
    for name in small.view_names:
        m = small.view_mask(name, 1)
        assert m.any() and m.shape == small.view_sizes[name][::-1]
        # The panel mask's centroid lands inside the photo's mask (a landmark through the ray-cast map).
        ys, xs = np.nonzero(small.panel_masks[1])
        c = small.view_from_panel(name, np.array([[xs.mean(), ys.mean()]]))[0]
        if 0 <= c[0] < m.shape[1] and 0 <= c[1] < m.shape[0]:
            assert m[int(np.rint(c[1])), int(np.rint(c[0]))]
    assert small.occluder_mask(small.view_names[1]).any()  # the pole
    assert not small.occluder_mask(small.view_names[0]).any()
    cover = small.panel_coverage(small.view_names[0])
    assert 0.2 < cover.mean() < 0.95


def test_deterministic_and_refuses_to_overwrite(small, tmp_path) -> None:
    again = make_curved_sample(tmp_path / "again", n_views=4, view_scale=0.4)
    for name in small.view_names:
        assert (small.photos_dir / name).read_bytes() == (again.photos_dir / name).read_bytes()
    with pytest.raises(SampleExistsError, match="not empty"):
        make_curved_sample(tmp_path / "again", n_views=4, view_scale=0.4)
    (tmp_path / "again" / "notes.txt").write_text("mine")
    make_curved_sample(tmp_path / "again", n_views=3, view_scale=0.4, overwrite=True)
    assert (tmp_path / "again" / "notes.txt").read_text() == "mine"
    assert len(list((tmp_path / "again" / "photos").iterdir())) == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_views": 1}, "n_views"),
        ({"radius_m": 0.5}, "radius_m"),
        ({"seed": -1}, "seed"),
        ({"view_scale": 0}, "view_scale"),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path) -> None:
    with pytest.raises(SampleValueError, match=match):
        make_curved_sample(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()
