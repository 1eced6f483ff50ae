"""The foundation commands end to end with click's CliRunner on tiny generated photos."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from multiview import MaskResult, Project
from multiview.cli import main


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_init_status_prompt(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    r = run("init", photo_dir, proj)
    assert r.exit_code == 0, r.output
    assert "3 views" in r.output and "skipped 1 file(s) that are not photos: IMG_1.xmp" in r.output
    r = run(
        "prompt",
        proj,
        "--view",
        "IMG_2",
        "--obj",
        "1",
        "--name",
        "figure",
        "--point",
        "10,20",
        "--neg",
        "5,5",
        "--box",
        "1,1,100,100",
    )
    assert r.exit_code == 0, r.output
    assert "prompt 1: object 1 on IMG_2.jpg (1+/1- + box)" in r.output
    r = run("status", proj)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[1].split()[:3] == ["0", "IMG_1.png", "200x150"]
    assert "ref" in lines[2] and "3 views, 1 objects, 1 prompts" in r.output


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (None, ["init", "{tmp}/missing", "{tmp}/proj"], "photo folder '{tmp}/missing' does not exist"),
        ("one", ["init", "{tmp}/one", "{tmp}/proj"], "holds 1 photo(s); at least 2"),
        ("dup", ["init", "{tmp}/photos", "{tmp}/proj"], "is a duplicate of"),
        ("corrupt", ["init", "{tmp}/photos", "{tmp}/proj"], "cannot decode photo 'IMG_2.jpg'"),
    ],
)
def test_init_bad_input_one_line_error_nothing_written(photo_dir: Path, tmp_path: Path, setup, args, message) -> None:
    if setup == "one":
        (tmp_path / "one").mkdir()
        (tmp_path / "one" / "a.png").write_bytes((photo_dir / "IMG_1.png").read_bytes())
    elif setup == "dup":
        (photo_dir / "copy.png").write_bytes((photo_dir / "IMG_1.png").read_bytes())
    elif setup == "corrupt":
        f = photo_dir / "IMG_2.jpg"
        f.write_bytes(f.read_bytes()[:200])
    r = run(*[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 1
    assert message.format(tmp=tmp_path) in r.output
    assert r.output.startswith("Error: ") and r.output.count("\n") == 1  # one line, no traceback
    assert not (tmp_path / "proj").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_prompt_errors_write_nothing(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert run("init", photo_dir, proj).exit_code == 0
    before = (proj / "project.json").read_bytes()
    bad_mask = tmp_path / "m.png"
    cv2.imwrite(str(bad_mask), np.full((10, 10), 255, np.uint8))
    cases = [
        (["--view", "nope", "--obj", "1", "--point", "1,1"], 1, "no view named 'nope'"),
        (["--view", "IMG_1", "--obj", "1", "--point", "500,1"], 1, "outside photo 'IMG_1.png'"),
        (["--view", "IMG_1", "--obj", "1", "--point", "a,b"], 2, "'a,b' is not X,Y"),
        (
            ["--view", "IMG_1", "--obj", "1", "--mask", str(bad_mask)],
            1,
            "mask is 10x10 but photo 'IMG_1.png' is 200x150",
        ),
        (["--view", "IMG_1", "--obj", "1"], 2, "give at least one --point"),
        (["--view", "IMG_1", "--obj", "0", "--point", "1,1"], 2, "--obj"),
    ]
    for extra, code, msg in cases:
        r = run("prompt", proj, *extra)
        assert r.exit_code == code, (extra, r.output)
        assert msg in r.output, (extra, r.output)
    assert (proj / "project.json").read_bytes() == before


def test_changed_photo_is_refused(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert run("init", photo_dir, proj).exit_code == 0
    os.remove(photo_dir / "IMG_10.png")
    assert run("status", proj).exit_code == 0  # needs no pixels: runs without the photo
    r = run("prompt", proj, "--view", "IMG_1", "--obj", "1", "--point", "5,5")
    assert r.exit_code == 1 and "photo 'IMG_10.png' is missing" in r.output
    assert f"(run `multiview relink {proj.resolve()} NEW_PHOTOS_DIR`)" in r.output


def test_export_png(photo_dir: Path, tmp_path: Path) -> None:
    proj_dir = tmp_path / "proj"
    assert run("init", photo_dir, proj_dir, "--work-size", "256").exit_code == 0
    out = tmp_path / "out"
    r = run("export", proj_dir, out)
    assert r.exit_code == 1 and "no tracked masks" in r.output and not out.exists()
    proj = Project.open(proj_dir)
    proj.add_object(1)
    for v in proj.views:
        prob = np.zeros((v.work_height, v.work_width), np.uint8)
        prob[v.work_height // 4 : v.work_height // 2, v.work_width // 4 : v.work_width // 2] = 255
        proj.write_result(MaskResult(1, v.id, prob, tracker="test"))
    r = run("export", proj_dir, out)
    assert r.exit_code == 0, r.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert files == ["1/IMG_1.png", "1/IMG_10.png", "1/IMG_2.png"]
    m = cv2.imread(str(out / "1" / "IMG_1.png"), cv2.IMREAD_UNCHANGED)
    assert m.shape == (150, 200) and m.dtype == np.uint8 and set(np.unique(m)) == {0, 255}
    assert m[50, 60] == 255 and m[5, 5] == 0
    r = run("export", proj_dir, out)
    assert r.exit_code == 1 and "overwrite" in r.output
    assert run("export", proj_dir, out, "--overwrite").exit_code == 0


def test_track_without_prompts_or_unknown_tracker(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    assert run("init", photo_dir, proj).exit_code == 0
    r = run("track", proj, "--tracker", "nosuch")
    assert r.exit_code == 1 and "tracker 'nosuch' is not available" in r.output


def test_version_and_help() -> None:
    r = run("--version")
    assert r.exit_code == 0 and "multiview" in r.output
    r = run("--help")
    for cmd in ("init", "status", "prompt", "track", "export"):
        assert cmd in r.output


def test_init_overwrite_never_replaces_the_photos_or_other_folders(photo_dir: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in photo_dir.iterdir()}
    for target in (photo_dir, tmp_path):
        r = run("init", photo_dir, target, "--overwrite")
        assert r.exit_code == 1 and r.output.count("\n") == 1 and "photo folder" in r.output, r.output
        assert {p.name: p.read_bytes() for p in photo_dir.iterdir()} == before


def test_prompt_mask_files_and_negative_only_first_click(photo_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    proj_dir = tmp_path / "proj"
    assert run("init", photo_dir, proj_dir).exit_code == 0
    # IMG_1.png is 200x150: a white RGBA mask whose selection is its alpha channel
    rgba = np.full((150, 200, 4), 255, np.uint8)
    rgba[..., 3] = 0
    rgba[40:80, 50:120, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "sel.png")
    r = run("prompt", proj_dir, "--view", "IMG_1", "--obj", "1", "--mask", tmp_path / "sel.png")
    assert r.exit_code == 0, r.output
    p = Project.open(proj_dir)
    m = p.prompt_mask(p.prompts[0])
    assert m.sum() == 40 * 70 and m[60, 80] and not m[10, 10]  # the selection, not the whole photo
    Image.fromarray((rgba[..., 3] > 0).astype(np.uint16)).save(tmp_path / "label16.png")  # object = 1, 16-bit
    r = run("prompt", proj_dir, "--view", "IMG_1", "--obj", "2", "--mask", tmp_path / "label16.png")
    assert r.exit_code == 0, r.output
    before = (proj_dir / "project.json").read_bytes()
    r = run("prompt", proj_dir, "--view", "IMG_1", "--obj", "3", "--neg", "20,20")
    assert r.exit_code == 1 and "only negative clicks" in r.output and r.output.count("\n") == 1
    assert (proj_dir / "project.json").read_bytes() == before
    r = run("prompt", proj_dir, "--view", "IMG_1", "--obj", "1", "--neg", "20,20")  # a correction: fine
    assert r.exit_code == 0, r.output
