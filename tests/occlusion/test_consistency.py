"""The per-pixel consistency test on the sample's photos warped by their ground-truth homographies.

No registration is involved (the exact homographies are used), so these tests isolate the
photometric test: lighting, exposure, colour temperature and vignetting changes and soft
shadows must not be called occluders; something pasted in front of the wall must be;
pixels no other view sees stay unknown.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from multiview.occlusion.consistency import ConsistencyOptions, compare, consensus, finish, hysteresis

TARGET = "IMG_0104.jpg"  # the clean, frontal view
OTHERS = ("IMG_0103.jpg", "IMG_0105.jpg", "IMG_0101.jpg")  # clean views overlapping it


@pytest.fixture(scope="module")
def scene():
    """The clean target photo and the clean other photos warped into it (ground-truth geometry)."""
    from devtools.sample import load_sample

    seq = load_sample(Path(__file__).resolve().parents[2] / "sequences" / "fresco")
    target = seq.read_photo(TARGET)
    h, w = target.shape[:2]
    Ht = seq.H_view_from_panel[TARGET]
    sources = []
    for name in OTHERS:
        H_s_from_t = seq.H_view_from_panel[name] @ np.linalg.inv(Ht)
        img = seq.read_photo(name).astype(np.float32)
        sw, sh = seq.view_sizes[name]
        # local scale at the target's centre: source pixels per target pixel
        c = np.array([w / 2, h / 2, 1.0])
        q = H_s_from_t @ c
        J = (H_s_from_t[:2, :2] * q[2] - np.outer(q[:2], H_s_from_t[2, :2])) / q[2] ** 2
        k = float(np.sqrt(abs(np.linalg.det(J))))
        if k > 1.05:
            img = cv2.GaussianBlur(img, (0, 0), 0.5 * np.sqrt(k * k - 1))
        H_t_from_s = np.linalg.inv(H_s_from_t)
        warped = cv2.warpPerspective(img, H_t_from_s, (w, h), flags=cv2.INTER_LINEAR)
        valid = cv2.warpPerspective(np.ones((sh, sw), np.uint8), H_t_from_s, (w, h), flags=cv2.INTER_NEAREST) > 0
        sources.append((warped, valid, min(1.0, k)))
    return target, sources


def _relit(img: np.ndarray, gain: float, rgb: tuple[float, float, float], vignette: float, gamma: float) -> np.ndarray:
    """The photo taken with another exposure, white balance, lens vignetting and tone curve."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    out = img.astype(np.float32) * gain * np.asarray(rgb, np.float32) * (1 - vignette * r2)[..., None]
    out = 255.0 * np.power(np.clip(out, 0, 255) / 255.0, gamma)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def test_clean_view_has_no_occluder(scene):
    target, sources = scene
    v = consensus(target, np.ones(target.shape[:2], bool), sources)
    assert not v.occluded.any()
    seen = cv2.erode(np.any([valid for _, valid, _ in sources], axis=0).astype(np.uint8), np.ones((15, 15)))
    assert v.known[seen > 0].mean() > 0.95  # what the other views see is judged


@pytest.mark.parametrize(
    "gain, rgb, vignette, gamma",
    [
        (0.55, (1.0, 1.0, 1.0), 0.0, 1.0),  # two stops under-exposed
        (1.15, (1.1, 1.0, 0.82), 0.0, 1.0),  # brighter, warm white balance (tungsten)
        (0.8, (0.85, 1.0, 1.2), 0.55, 1.25),  # cool white balance, strong vignetting, another tone curve
    ],
)
def test_exposure_colour_and_vignetting_are_not_occluders(scene, gain, rgb, vignette, gamma):
    target, sources = scene
    relit = _relit(target, gain, rgb, vignette, gamma)
    v = consensus(relit, np.ones(target.shape[:2], bool), sources)
    assert not v.occluded.any(), f"{v.occluded.sum()} pixels called occluded after a global photometric change"


def test_clipped_highlights_are_unknown_not_occluded(scene):
    """Over-exposed with a warm cast: the clipped wall is unknown, never occluded."""
    target, sources = scene
    relit = _relit(target, 1.2, (1.12, 1.0, 0.8), 0.0, 1.0)
    clipped = (relit >= 250).any(axis=-1)
    assert clipped.mean() > 0.5  # more than half of the photo has a clipped channel
    v = consensus(relit, np.ones(target.shape[:2], bool), sources)
    assert not v.occluded.any()
    assert not v.known[clipped].any()


def test_soft_shadow_is_not_an_occluder(scene):
    """A scaffolding pole's soft shadow on the wall (the wall stays visible, 45% darker)."""
    target, sources = scene
    h, w = target.shape[:2]
    band = np.zeros((h, w), np.float32)
    cv2.line(band, (w // 3, 0), (w // 2, h), 1.0, thickness=30)
    band = cv2.GaussianBlur(band, (0, 0), 6.0)  # penumbra
    shaded = np.clip(target.astype(np.float32) * (1 - 0.45 * band)[..., None] + 0.5, 0, 255).astype(np.uint8)
    v = consensus(shaded, np.ones((h, w), bool), sources)
    assert not v.occluded.any(), f"{v.occluded.sum()} shadow pixels called occluded"


def _with_pole(target: np.ndarray, x: int, width: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """The target with a shaded grey pole pasted over the wall, and the pole's mask."""
    h, w = target.shape[:2]
    out = target.astype(np.float32).copy()
    xs = np.arange(w, dtype=np.float32)
    t = (xs - x) / (width / 2)
    inside = np.abs(t) <= 1
    shade = np.sqrt(np.clip(1 - t * t, 0, 1))
    colour = np.array([120, 122, 126], np.float32)[None, :] * (0.45 + 0.55 * shade)[:, None]
    out[:, inside] = colour[inside][None, :, :]
    mask = np.zeros((h, w), bool)
    mask[:, inside] = True
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask


def _seen_by(sources, n: int) -> np.ndarray:
    """Pixels at least ``n`` sources see, away from their borders (the comparison window)."""
    k = np.ones((21, 21), np.uint8)
    count = np.sum([cv2.erode(valid.astype(np.uint8), k) for _, valid, _ in sources], axis=0)
    return count >= n


def _scores(found: np.ndarray, truth: np.ndarray, where: np.ndarray) -> tuple[float, float]:
    """Precision and recall of ``found`` against ``truth`` over ``where``."""
    f, t = found & where, truth & where
    tp = np.count_nonzero(f & t)
    return tp / max(1, np.count_nonzero(f)), tp / max(1, np.count_nonzero(t))


def test_pasted_pole_is_found(scene):
    target, sources = scene
    h, w = target.shape[:2]
    poled, truth = _with_pole(target, x=int(0.45 * w))
    v = consensus(_relit(poled, 0.8, (1.05, 1.0, 0.9), 0.3, 1.0), np.ones((h, w), bool), sources)
    seen = _seen_by(sources, 2)
    precision, recall = _scores(v.occluded, truth, seen)
    # Recall is below 1 where the grey pole crosses the grey-blue niche: there it has the
    # wall's brightness, colour and (lack of) texture, and nothing can tell them apart.
    assert precision > 0.9 and recall > 0.7, f"precision {precision:.2f}, recall {recall:.2f}"
    # a consensus of sources, not a single view (except where a source's clipped highlights leave one)
    assert (v.support[v.occluded & seen] >= 2).mean() > 0.9


def test_unknown_stays_unknown(scene):
    """Where no other view sees the wall, nothing is called occluded, even an obvious pole."""
    target, sources = scene
    h, w = target.shape[:2]
    poled, _ = _with_pole(target, x=int(0.6 * w))
    blind = np.zeros((h, w), bool)
    blind[:, int(0.5 * w) :] = True  # no source sees the right half
    cut = [(img, valid & ~blind, k) for img, valid, k in sources]
    v = consensus(poled, np.ones((h, w), bool), cut)
    assert not v.known[blind].any()
    assert not v.occluded[blind].any()


def test_single_source_is_weaker_and_attributable(scene):
    """With one other view the verdict rests on it (support 1); its own occluders explain it away."""
    target, sources = scene
    h, w = target.shape[:2]
    poled, truth = _with_pole(target, x=int(0.45 * w))
    ev = compare(poled, np.ones((h, w), bool), sources[:1])
    v = finish(ev)
    precision, recall = _scores(v.occluded, truth, _seen_by(sources[:1], 1))
    assert precision > 0.9 and recall > 0.7, f"precision {precision:.2f}, recall {recall:.2f}"
    assert np.all(v.support[v.occluded] == 1)
    # the same disagreement, explained by an occluder the other view is known to have there
    v2 = finish(ev, explained=truth)
    assert not v2.occluded.any()
    assert not v2.known[ev.weak & truth].any()  # unknown, not visible


def test_hysteresis_keeps_regions_with_a_seed():
    seed = np.zeros((10, 10), bool)
    grow = np.zeros((10, 10), bool)
    grow[1:4, 1:4] = True
    grow[6:9, 6:9] = True
    seed[2, 2] = True
    out = hysteresis(seed, grow)
    assert out[1:4, 1:4].all() and not out[6:9, 6:9].any()


def test_options_change_the_answer(scene):
    """The thresholds are live: an absurdly strict 'agree' calls texture differences occluders."""
    target, sources = scene
    strict = ConsistencyOptions(agree=1.01, disagree=0.999, luminance=0.001, chroma=0.001)
    v = consensus(target, np.ones(target.shape[:2], bool), sources, strict)
    assert v.occluded.any()


def test_registration_error_within_the_stated_tolerance_is_not_an_occluder(scene):
    """Sources 2.5 px out of register: painted edges flag unless the geometry's error says so."""
    target, sources = scene
    h, w = target.shape[:2]
    shift = np.float32([[1, 0, 2.5], [0, 1, 0]])
    moved = [
        (
            cv2.warpAffine(img, shift, (w, h), flags=cv2.INTER_LINEAR),
            cv2.warpAffine(valid.astype(np.uint8), shift, (w, h)) > 0,
            k,
        )
        for img, valid, k in sources
    ]
    blind = consensus(target, np.ones((h, w), bool), moved)
    assert blind.occluded.any()  # the test is sharp: without the tolerance the edges disagree
    error = np.full((h, w), 2.0, np.float32)  # each registration's held-out error, pixels
    told = consensus(target, np.ones((h, w), bool), [(*s, error) for s in moved], target_error=error)
    assert not told.occluded.any()
