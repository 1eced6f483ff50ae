"""``multiview ui``: options, refusals, and a real server started from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from multiview.cli import main


def test_help_and_refusals(ui_project: Path, tmp_path: Path):
    r = CliRunner().invoke(main, ["ui", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "127.0.0.1" in r.output
    r = CliRunner().invoke(main, ["ui", str(ui_project), "--tracker", "sam2", "--checkpoint", str(tmp_path / "no.pt")])
    assert r.exit_code == 1 and "no.pt" in r.output and "multiview checkpoints download" in r.output
    r = CliRunner().invoke(main, ["ui", str(tmp_path / "missing")])
    assert r.exit_code == 1 and "missing" in r.output


def test_serves_on_localhost_and_stops_on_ctrl_c(ui_project: Path):
    env = {**os.environ, "MULTIVIEW_CHECKPOINTS": str(ui_project / "no-checkpoints")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "multiview", "ui", str(ui_project), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert "homography tracker: no SAM 2 checkpoint" in lines[0], lines
        assert lines[1].startswith("open http://127.0.0.1:"), lines
        url = lines[1].split()[1]
        with urllib.request.urlopen(url + "api/state", timeout=20) as resp:
            state = json.load(resp)
        assert len(state["views"]) == 6 and state["engine"]["name"] == "homography"
        with urllib.request.urlopen(url, timeout=20) as resp:
            assert b"multiview workbench" in resp.read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode in (0, 130), proc.stderr.read()
