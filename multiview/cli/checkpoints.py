"""``multiview checkpoints``: list, download and verify the SAM 2.1 model weights."""

from __future__ import annotations

from pathlib import Path

import click

from .options import MODEL_NAMES

dir_opt = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Checkpoint folder [default: $MULTIVIEW_CHECKPOINTS or ./checkpoints].",
)


@click.group("checkpoints")
def command() -> None:
    """Manage SAM 2.1 checkpoints (official files from Meta's download addresses)."""


@command.command("list")
@dir_opt
def list_cmd(directory: Path | None) -> None:
    """Show every model, its file and whether it is present."""
    from ..tracking.sam2.checkpoints import list_checkpoints

    for st in list_checkpoints(directory):
        state = f"present ({st.size / 2**20:.0f} MB)" if st.present else f"missing (~{st.spec.approx_mb} MB)"
        click.echo(f"{st.spec.name:24s} {state:20s} {st.path}")


@command.command("download")
@click.argument("name", type=click.Choice(MODEL_NAMES))
@dir_opt
@click.option("--url", default=None, help="Fetch from this address instead of the official one (a mirror).")
@click.option("--overwrite", is_flag=True, help="Download again even if the file is present.")
@click.pass_context
def download_cmd(ctx: click.Context, name: str, directory: Path | None, url: str | None, overwrite: bool) -> None:
    """Download a checkpoint, check that it loads, and store it atomically."""
    from ..tracking.sam2.checkpoints import model_spec
    from ..tracking.sam2.download import download_checkpoint

    quiet = ctx.find_root().obj.get("quiet") if ctx.find_root().obj else False
    last = [-1]

    def progress(done: int, total: int | None) -> None:
        if quiet or total is None:
            return
        pct = int(100 * done / max(total, 1))
        if pct // 10 != last[0] // 10:
            last[0] = pct
            click.echo(f"  {pct:3d}% of {total / 2**20:.0f} MB", err=True)

    if not quiet:
        click.echo(f"downloading {name} from {url or model_spec(name).url}", err=True)
    path = download_checkpoint(name, directory, url=url, overwrite=overwrite, progress=progress)
    click.echo(f"{name}: {path}")


@command.command("verify")
@click.argument("names", nargs=-1, type=click.Choice(MODEL_NAMES))
@dir_opt
def verify_cmd(names: tuple[str, ...], directory: Path | None) -> None:
    """Check that present checkpoints load safely and fit their model (all present ones by default)."""
    from ..tracking.sam2.checkpoints import default_checkpoint, list_checkpoints
    from ..tracking.sam2.download import verify_checkpoint

    todo = list(names) or [st.spec.name for st in list_checkpoints(directory) if st.present]
    if not todo:
        raise click.ClickException(
            "no checkpoint present; download one with: multiview checkpoints download sam2.1_hiera_tiny"
        )
    bad = 0
    for name in todo:
        st = verify_checkpoint(name, default_checkpoint(name, directory))
        if st.ok:
            click.echo(f"{name}: ok ({st.path})")
        else:
            bad += 1
            click.echo(f"{name}: FAILED: {st.message}")
    if bad:
        raise click.ClickException(f"{bad} checkpoint(s) failed verification; download them again with --overwrite")
