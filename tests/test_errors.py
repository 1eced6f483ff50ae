"""Errors carry a neutral message and a structured hint each front end renders its own way."""

from __future__ import annotations

from click.testing import CliRunner

from multiview.errors import OVERWRITE, TRACK, ExportError, Hint, MultiviewError, cli_message


def test_cli_message_renders_the_hint_on_one_line():
    assert cli_message(ExportError("nothing to export; track the objects first", hint=TRACK)) == (
        "nothing to export; track the objects first (run `multiview track PROJECT_DIR`)"
    )
    assert cli_message(MultiviewError("picture 'a.png' exists; replace it", hint=OVERWRITE)).endswith(
        "(use --overwrite)"
    )
    assert cli_message(MultiviewError("plain")) == "plain" == str(MultiviewError("plain"))
    assert Hint(option="--device cpu", command="multiview x").for_cli() == "use --device cpu or run `multiview x`"
    assert OVERWRITE.to_json() == {"option": "--overwrite", "field": "overwrite"}


def test_cli_renders_library_hints(tmp_path, photo_dir):
    """A library error's hint becomes the flag or command in the one-line CLI message."""
    from multiview.cli import main

    runner = CliRunner()
    proj = tmp_path / "p"
    assert runner.invoke(main, ["init", str(photo_dir), str(proj)]).exit_code == 0
    r = runner.invoke(main, ["init", str(photo_dir), str(proj)])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and r.output.rstrip().endswith("(use --overwrite)")
    r = runner.invoke(main, ["export", str(proj), str(tmp_path / "out")])
    assert r.exit_code == 1 and "track the objects first (run `multiview track PROJECT_DIR`)" in r.output
