"""``multiview ui``: the browser workbench over a project (local web server)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project_arg, sam2_kwargs, sam2_options, speed_kwargs, speed_options


@click.command("ui")
@project_arg
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but 127.0.0.1/localhost exposes the project to the network.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0 = any free port)."
)
@click.option(
    "--tracker",
    "engine",
    type=click.Choice(("auto", "sam2", "homography")),
    default="auto",
    show_default=True,
    help="auto: SAM 2 when its checkpoint exists, else the homography tracker.",
)
@sam2_options
@speed_options
@click.pass_context
def command(
    ctx: click.Context,
    project_dir: Path,
    host: str,
    port: int,
    engine: str,
    model: str | None,
    checkpoint: Path | None,
    device: str | None,
    image_size: int | None,
    precision: str | None,
    speed: str | None,
    max_cond_frames: int | None,
    preview_size: int | None,
) -> None:
    """Open PROJECT_DIR in a local web workbench: click, choose, propagate, correct, export."""
    import socket

    import uvicorn

    from ..ui import Workbench, create_app
    from ..ui.guard import LOCAL_HOSTS

    options = sam2_kwargs(model, checkpoint, device, image_size, precision)
    options.update(speed_kwargs(speed, max_cond_frames, preview_size))  # this session only; `track` stores them
    wb = Workbench(project_dir, engine=engine, sam2_options=options)
    app = create_app(wb, allowed_hosts=LOCAL_HOSTS if host in LOCAL_HOSTS else None)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from exc
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if not ctx.obj.get("quiet"):
        click.echo(f"multiview workbench for {wb.root}: {wb.engine.info.note}")
        click.echo(f"open http://{shown}:{real_port}/  (Ctrl-C to stop)")
    if host not in LOCAL_HOSTS:
        click.echo(f"warning: listening on {host}: anyone who can reach this machine can edit the project", err=True)
    # open event streams end at once on Ctrl-C instead of holding the shutdown
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        wb.bus.close()
