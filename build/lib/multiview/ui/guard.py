"""Request guard of the local server: only local host names, only JSON writes from the page's origin.

A web page from anywhere can make the restorer's browser send requests to
``127.0.0.1``; this keeps them out:

* the ``Host`` header must be one of the allowed names (defeats DNS rebinding);
* a request that changes something (POST, PATCH, PUT, DELETE) must carry
  ``Content-Type: application/json`` (a cross-site form cannot, and a cross-site
  script needs a CORS pre-flight this server never grants) and, when the browser
  sends an ``Origin``, it must be this server's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_WRITES = {"POST", "PATCH", "PUT", "DELETE"}


def _host_name(host: str) -> str:
    if host.startswith("["):  # [::1]:8765
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalGuard:
    """Pure ASGI middleware (see module doc). ``allowed_hosts=None`` accepts any host name."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None = LOCAL_HOSTS) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            host = headers.get("host", "")
            problem = None
            if self.allowed is not None and _host_name(host).lower() not in self.allowed:
                problem = (400, f"host '{host}' is not served here; open the address `multiview ui` printed")
            elif scope["method"] in _WRITES:
                ctype = headers.get("content-type", "").split(";")[0].strip().lower()
                origin = headers.get("origin")
                if ctype != "application/json":
                    problem = (415, "changes must be sent as application/json")
                elif origin is not None and origin.split("://", 1)[-1] != host:
                    problem = (403, f"requests from {origin} are not allowed")
            if problem is not None:
                body = json.dumps({"error": problem[1]}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": problem[0],
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
