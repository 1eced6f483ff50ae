"""The ``multiview`` command line: one module per command, a thin layer over the library.

Library errors (:class:`multiview.MultiviewError`) become one-line messages (the
message, then its hint's option or command: :func:`multiview.errors.cli_message`) and
exit status 1; usage errors exit with 2 (click's convention); Ctrl-C exits with 130
and keeps the last complete state of the project.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from .._version import __version__
from ..errors import MultiviewError, cli_message


class MultiviewGroup(click.Group):
    """Group that maps library errors to clean one-line CLI errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MultiviewError as exc:
            raise click.ClickException(cli_message(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted; the project keeps its last complete state", err=True)
            ctx.exit(130)


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("multiview")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@click.group(cls=MultiviewGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="multiview")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Segment one painted object in every photo of a fresco."""
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    _setup_logging(-1 if quiet else verbose)


def _register() -> None:
    from . import align, category, checkpoints, export, init, prompt, scale, show, status, track, ui

    for mod in (init, status, prompt, track, export, show, checkpoints, align, ui, scale, category):
        main.add_command(mod.command)


_register()
