"""Fixtures of the reference-plane tests: a generated project with one drifted and one lost view."""

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
    """8 views (reference #4); object 1 drifted on #5, object 2 lost on #6, #7 unregistered."""
    return review_builder.build_project(tmp_path, 8, drift_view=5, lost_view=6, unregistered=(7,))
