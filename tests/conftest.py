"""Shared fixtures: the real planar datasets and tiny generated photo folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import textured, write_rgb

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``../shared/datasets`` beside the project (read-only). Missing data fails loudly."""
    if not (DATASETS / "PROVENANCE.md").is_file():
        pytest.fail(f"shared datasets not found at {DATASETS}; the tests need ../shared/datasets beside the project")
    return DATASETS


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Three small photos of mixed sizes and formats plus a sidecar file."""
    d = tmp_path / "photos"
    write_rgb(d / "IMG_2.jpg", textured(160, 120, 1))
    write_rgb(d / "IMG_10.png", textured(120, 160, 2))
    write_rgb(d / "IMG_1.png", textured(200, 150, 3))
    (d / "IMG_1.xmp").write_text("<x:xmpmeta/>")
    return d


@pytest.fixture(scope="session")
def aligned_sample(tmp_path_factory):
    """``(SampleSequence, Project)``: the 6-view sample, registered by ``align_project``. Read-only: copy to change."""
    from devtools.sample import make_sample
    from multiview.alignment.pipeline import align_project
    from multiview.project import Project

    root = tmp_path_factory.mktemp("aligned_sample")
    seq = make_sample(root / "sample", seed=0, n_views=6)
    proj = Project.create(seq.photos_dir, root / "project")
    align_project(proj)
    return seq, proj
