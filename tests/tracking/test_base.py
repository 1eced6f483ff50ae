"""One tracking run per project across processes: the second is refused, or waits with --wait."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import review_builder
from click.testing import CliRunner

from multiview import ProjectBusyError
from multiview.cli import main
from multiview.project import MaskResult, Project
from multiview.tracking import run_tracking

HOLD = (
    "import sys, time; from multiview.project import Project; "
    "p = Project.open(sys.argv[1], verify=False)\n"
    "with p.tracking_lock(holder='test holder'):\n"
    "    print('locked', flush=True); time.sleep(float(sys.argv[2]))"
)


class Blank:
    """A tracker that stores an empty mask on every view."""

    name = "blank"

    def run(self, project, *, obj_ids=None, full=False):
        for v in project.views:
            yield MaskResult(1, v.id, np.zeros((v.work_height, v.work_width), np.uint8), tracker=self.name)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return review_builder.build_project(tmp_path, 3, results=False).project


def hold_in_another_process(root: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(root), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_run_is_refused_then_waits(project: Project) -> None:
    other = Project.open(project.root, verify=False)
    with other.tracking_lock(holder="the workbench"):
        with pytest.raises(ProjectBusyError, match=r"another tracking run \(the workbench, process \d+"):
            run_tracking(project, Blank())
        assert not (project.root / "results").exists()  # nothing written
    waited = []
    lock = other.tracking_lock(holder="the workbench")
    lock.__enter__()
    threading.Timer(0.3, lock.__exit__, (None, None, None)).start()
    assert run_tracking(project, Blank(), wait=True, on_wait=waited.append) == 3
    assert len(waited) == 1 and "the workbench" in waited[0]


def test_cli_track_refused_while_another_process_tracks_and_after_kill_9(project: Project) -> None:
    proc = hold_in_another_process(project.root, 60)
    try:
        r = CliRunner().invoke(main, ["track", str(project.root)])
        assert r.exit_code == 1 and r.output.count("\n") == 1, r.output
        assert f"another tracking run (test holder, process {proc.pid}" in r.output and "--wait" in r.output
        assert not (project.root / "results").exists()
    finally:
        proc.kill()  # kill -9: the kernel releases the lock
        proc.wait()
    r = CliRunner().invoke(main, ["track", str(project.root)])
    assert r.exit_code == 0, r.output


def test_cli_track_wait(project: Project) -> None:
    proc = hold_in_another_process(project.root, 1.0)
    r = CliRunner().invoke(main, ["track", str(project.root), "--wait"])
    assert proc.wait() == 0  # the holder finished its sleep: the run waited for it
    assert r.exit_code == 0, r.output
    assert "waiting for the other tracking run to finish (test holder" in r.stderr
