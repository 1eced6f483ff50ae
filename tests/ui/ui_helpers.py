"""Helpers of the workbench tests (import as ``from ui.ui_helpers import ...``)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Install command of the browser the tests drive.
CHROMIUM_INSTALL = "command -v chromium || (apt-get update -qq && apt-get install -y -qq chromium)"


def make_client(workbench):
    from starlette.testclient import TestClient

    from multiview.ui import create_app
    from multiview.ui.guard import LOCAL_HOSTS

    # the page sends every change as JSON (the server refuses anything else, see multiview.ui.guard)
    return TestClient(
        create_app(workbench, allowed_hosts=(*LOCAL_HOSTS, "testserver")), headers={"content-type": "application/json"}
    )


class LiveServer:
    """uvicorn serving a workbench on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, workbench) -> None:
        import uvicorn

        from multiview.ui import create_app

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(workbench), log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.workbench = workbench
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        end = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("the workbench server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.workbench.bus.close()  # ends the page's event stream
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
