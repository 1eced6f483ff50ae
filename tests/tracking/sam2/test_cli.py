"""The SAM 2 parts of the CLI: checkpoints list/download/verify, track --tracker sam2, prompt candidates."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_rgb
from sam2_helpers import IMAGE_SIZE, MODEL, blob_frames

from multiview.cli import main
from multiview.project import Project


def run(*args, env=None):
    return CliRunner(env=env).invoke(main, [str(a) for a in args])


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    for i in range(3):
        write_rgb(tmp_path / "photos" / f"IMG_{i + 1}.png", blob_frames(1, (160, 120), seed=i)[0])
    Project.create(tmp_path / "photos", tmp_path / "proj")
    return tmp_path / "proj"


@pytest.fixture
def http_server(sam2_checkpoint: Path, tmp_path: Path):
    """A local HTTP server (127.0.0.1) serving the test checkpoint and a junk file."""
    root = tmp_path / "www"
    root.mkdir()
    (root / f"{MODEL}.pt").write_bytes(sam2_checkpoint.read_bytes())
    (root / "junk.pt").write_bytes(b"not a checkpoint" * 100)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the CLI output clean
            pass

    handler = functools.partial(Quiet, directory=str(root))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_checkpoints_list_download_verify(tmp_path, http_server):
    d = tmp_path / "ck"
    r = run("checkpoints", "list", "--dir", d)
    assert r.exit_code == 0 and f"{MODEL}" in r.output and "missing" in r.output
    # the official address is used by default
    r = run("checkpoints", "download", "--help")
    assert r.exit_code == 0
    # junk is refused and leaves nothing behind
    r = run("checkpoints", "download", MODEL, "--dir", d, "--url", f"{http_server}/junk.pt")
    last = r.output.splitlines()[-1]
    assert r.exit_code == 1 and last.startswith("Error: ") and "not a valid" in last
    assert not list(d.iterdir())
    r = run("checkpoints", "download", MODEL, "--dir", d, "--url", f"{http_server}/{MODEL}.pt")
    assert r.exit_code == 0, r.output
    assert (d / f"{MODEL}.pt").is_file() and not [p for p in d.iterdir() if p.name.startswith(".tmp-")]
    r = run("checkpoints", "verify", "--dir", d)
    assert r.exit_code == 0 and f"{MODEL}: ok" in r.output
    (d / f"{MODEL}.pt").write_bytes(b"truncated")
    r = run("checkpoints", "verify", MODEL, "--dir", d)
    assert r.exit_code == 1 and "FAILED" in r.output


def test_download_from_file_url(tmp_path, sam2_checkpoint):
    from multiview.tracking.sam2.checkpoints import BASE_URL, MODELS
    from multiview.tracking.sam2.download import download_checkpoint

    assert MODELS[MODEL].url == f"{BASE_URL}/{MODEL}.pt"
    assert BASE_URL == "https://dl.fbaipublicfiles.com/segment_anything_2/092824"
    p = download_checkpoint(MODEL, tmp_path / "ck", url=sam2_checkpoint.as_uri())
    assert p.read_bytes() == sam2_checkpoint.read_bytes()


def test_missing_checkpoint_is_one_line_with_the_command(project_dir, tmp_path):
    Project.open(project_dir).add_prompt("IMG_2", 1, points=[(80, 60)], labels=[1])
    r = run("track", project_dir, "--tracker", "sam2", env={"MULTIVIEW_CHECKPOINTS": str(tmp_path / "none")})
    assert r.exit_code == 1 and r.output.count("\n") == 1
    assert f"download it (run `multiview checkpoints download {MODEL}" in r.output


def test_sam2_option_with_other_tracker_is_refused(project_dir):
    r = run("track", project_dir, "--tracker", "homography", "--image-size", "512")
    assert r.exit_code == 2 and "--tracker sam2" in r.output


def test_homography_track_does_not_import_torch(project_dir):
    code = (
        "import sys; from click.testing import CliRunner; from multiview.cli import main; "
        f"CliRunner().invoke(main, ['track', {str(project_dir)!r}, '--tracker', 'homography']); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_prompt_candidates_then_track(project_dir, sam2_checkpoint, tmp_path):
    opts = ["--checkpoint", sam2_checkpoint, "--image-size", IMAGE_SIZE, "--device", "cpu"]
    r = run(
        "prompt",
        project_dir,
        "--view",
        "IMG_2",
        "--obj",
        "1",
        "--point",
        "80,60",
        "--candidate",
        "2",
        "--preview-dir",
        tmp_path / "prev",
        *opts,
    )
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("candidate ")]
    assert len(lines) == 3 and "chosen" in lines[2] and sum("best" in ln for ln in lines) == 1
    assert sorted(p.name for p in (tmp_path / "prev").iterdir()) == [f"IMG_2_obj1_c{k}.png" for k in range(3)]
    proj = Project.open(project_dir)
    assert proj.prompts[0].candidate == 2
    r = run("track", project_dir, "--tracker", "sam2", *opts)
    assert r.exit_code == 0, r.output
    assert "sam2: stored 3 mask(s)" in r.output
    res = proj.read_result(1, "IMG_2")
    assert res.tracker == "sam2" and res.prob.shape == (120, 160)
    # a second click on the object is a refinement: no candidates, --candidate refused
    r = run("prompt", project_dir, "--view", "IMG_3", "--obj", "1", "--point", "10,10", "--candidate", "0", *opts)
    assert r.exit_code == 2
    r = run("prompt", project_dir, "--view", "IMG_3", "--obj", "1", "--point", "10,10", *opts)
    assert r.exit_code == 0 and "candidate 0" not in r.output


def test_prompt_without_model_still_records(project_dir, tmp_path):
    r = run(
        "prompt",
        project_dir,
        "--view",
        "IMG_1",
        "--obj",
        "1",
        "--point",
        "5,5",
        env={"MULTIVIEW_CHECKPOINTS": str(tmp_path / "none")},
    )
    assert r.exit_code == 0 and "prompt 1" in r.output and "no SAM 2 candidates" in r.output
    r = run(
        "prompt",
        project_dir,
        "--view",
        "IMG_1",
        "--obj",
        "2",
        "--point",
        "5,5",
        "--candidate",
        "1",
        env={"MULTIVIEW_CHECKPOINTS": str(tmp_path / "none")},
    )
    assert r.exit_code == 1 and "multiview checkpoints download" in r.output
    assert len(Project.open(project_dir).prompts) == 1


def test_speed_options_are_remembered_and_checked(project_dir, sam2_checkpoint):
    opts = ["--checkpoint", sam2_checkpoint, "--image-size", IMAGE_SIZE, "--device", "cpu"]
    Project.open(project_dir).add_prompt("IMG_1", 1, points=[(60, 60)], labels=[1])
    r = run("track", project_dir, "--tracker", "sam2", "--speed", "balanced", "--max-cond-frames", "3", *opts)
    assert r.exit_code == 0, r.output
    assert "sam2 speed custom: bf16, blocked bf16 attention, at most 3 prompted views" in r.output
    proj = Project.open(project_dir)
    assert proj.section("sam2")["speed"]["max_cond_frames"] == 3
    assert proj.read_result(1, "IMG_3").meta["precision"] == "bf16"
    # a later run without options uses the project's settings
    proj.add_prompt("IMG_3", 1, points=[(90, 60)], labels=[0])
    r = run("track", project_dir, "--tracker", "sam2", *opts)
    assert r.exit_code == 0 and "sam2 speed custom" in r.output
    # the self-check: exact and the project's preset side by side on 3 views, nothing stored
    before = {v.id: proj.result_path(1, v.id).read_bytes() for v in proj.views}
    r = run("track", project_dir, "--tracker", "sam2", "--check-speed-preset", "--check-views", "3", *opts)
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("  object 1 on ")]
    assert len(lines) == 3 and all(" IoU " in ln for ln in lines)
    assert "min IoU " in r.output and "exact" in r.output
    assert {v.id: proj.result_path(1, v.id).read_bytes() for v in proj.views} == before
    # bad values: one line, usage exit code
    r = run("track", project_dir, "--tracker", "sam2", "--max-cond-frames", "1", *opts)
    assert r.exit_code == 2 and "at least 2" in r.output
    r = run("track", project_dir, "--tracker", "homography", "--check-speed-preset")
    assert r.exit_code == 2 and "--tracker sam2" in r.output
    r = run("track", project_dir, "--tracker", "sam2", "--speed", "exact", "--check-speed-preset", *opts)
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "--speed balanced|fast" in r.output
