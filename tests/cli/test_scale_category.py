"""``multiview scale``, ``multiview category`` and ``prompt --category`` with click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from multiview import Project
from multiview.cli import main


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_scale_is_stored_and_overridden(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "p"
    assert run("init", photo_dir, proj).exit_code == 0
    r = run("scale", proj)
    assert r.exit_code == 0 and "no scale set" in r.output
    r = run("scale", proj, "0,0,100,0,50mm")
    assert r.exit_code == 0, r.output
    assert "20 px/cm" in r.output
    assert Project.open(proj).scale().px_per_cm == 20.0
    before = (proj / "project.json").read_bytes()
    r = run("scale", proj, "0,0,0,0,5")
    assert r.exit_code == 2 and "coincide" in r.output and "Traceback" not in r.output
    assert (proj / "project.json").read_bytes() == before  # nothing written on bad input
    r = run("scale", proj, "--clear")
    assert r.exit_code == 0 and Project.open(proj).scale() is None


def test_prompt_category_and_category_command(photo_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "p"
    assert run("init", photo_dir, proj).exit_code == 0
    r = run("prompt", proj, "--view", "IMG_2", "--obj", 3, "--point", "10,10", "--category", "flaking")
    assert r.exit_code == 0, r.output
    assert Project.open(proj).object(3).category == "flaking"
    r = run("prompt", proj, "--view", "IMG_2", "--obj", 4, "--point", "10,10", "--category", "mould")
    assert r.exit_code == 1 and "category 'mould' is unknown" in r.output
    assert [o.id for o in Project.open(proj).objects] == [3]  # nothing created on bad input
    r = run("category", proj, "mould", "--color", "#336633", "--hatch", "grid", "--obj", 3)
    assert r.exit_code == 0, r.output
    assert Project.open(proj).object(3).category == "mould"
    r = run("category", proj)
    assert r.exit_code == 0 and "mould" in r.output and "loss" in r.output and "objects: 3" in r.output
    r = run("category", proj, "mould", "--color", "green")
    assert r.exit_code == 1 and "#RRGGBB" in r.output
