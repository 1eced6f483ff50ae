"""Fixtures of the workbench tests: a copy of the aligned sample project, the workbench, a live server.

The SAM 2 checkpoint fixture is the engine tests' own (a random-initialised
sam2.1_hiera_tiny saved in the official format, loaded at 256 px), imported from
``tests/tracking/sam2/conftest.py`` rather than duplicated.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking.sam2.conftest import sam2_checkpoint  # noqa: F401 - re-exported fixture
from tracking.sam2.sam2_helpers import IMAGE_SIZE, MODEL
from ui.ui_helpers import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_INSTALL, LiveServer


@pytest.fixture
def ui_project(aligned_sample, tmp_path: Path) -> Path:
    """A writable copy of the registered 6-view sample project (no objects yet)."""
    _, proj = aligned_sample
    dst = tmp_path / "project"
    shutil.copytree(proj.root, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


@pytest.fixture
def sam2_options(sam2_checkpoint: Path) -> dict:  # noqa: F811
    return {"model": MODEL, "checkpoint": sam2_checkpoint, "device": "cpu", "image_size": IMAGE_SIZE}


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright. A missing browser fails loudly."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing; install it with: {CHROMIUM_INSTALL}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def live(request) -> Iterator:
    """Factory: ``live(workbench)`` starts a server that stops at the end of the test."""
    servers = []

    def start(workbench) -> LiveServer:
        s = LiveServer(workbench).__enter__()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.__exit__(None, None, None)
