"""Fixtures of the export tests: a generated project whose working copies are smaller than the photos."""

from __future__ import annotations

from pathlib import Path

import pytest
import review_builder


@pytest.fixture
def builder():
    """The project builder module (tests/review_builder.py)."""
    return review_builder


@pytest.fixture
def built(tmp_path: Path):
    """6 photos of 320x240 with 256-px working copies; object 2 lost on #5; #1 unregistered."""
    return review_builder.build_project(tmp_path, 6, size=(320, 240), work_max_side=256, lost_view=5, unregistered=(1,))
