"""The Starlette application: JSON API, pictures, server-sent events and the page.

Routes (all JSON unless noted; errors are ``{"error": message}`` with 400 for a
refused input, 404 for an unknown view/object/prompt, 409 while a job runs here or a
tracking run holds the project in another process, 507 when the disk is full, 403 when
the project is read-only; an error that one control fixes adds
``"hint": {"field": ..., "action": ..., "command": ...}``, see :class:`multiview.errors.Hint`)::

    GET    /                                  the page (static/index.html)
    GET    /static/{file}                     the page's own files only
    GET    /api/state                         views in order, objects, prompts, results, job
    GET    /api/review                        drift rows, drifted worst first
    GET    /api/views/{view}/preview?size=N   JPEG, longer side <= N (<= 2048), never the file
    GET    /api/views/{view}/overlay?size=N   RGBA PNG of the masks, same size as the preview (occluded
                                             parts of a mask hatched)
    GET    /api/views/{view}/occlusion?size=N RGBA PNG of the view's occluders, hatched, same size
    POST   /api/objects                       {name?, color?}
    PATCH  /api/objects/{id}                  {name?, color?}
    DELETE /api/objects/{id}
    POST   /api/prompts                       {view, obj_id, points: [[x, y]], labels: [1|0], box?, candidate?}
    DELETE /api/prompts/{id}
    POST   /api/candidates                    {view, x, y} -> three masks with scores (sam2)
    POST   /api/track                         {objects?, full?} -> starts the background job
    POST   /api/track/cancel
    GET    /api/job
    GET    /api/events                        text/event-stream (job, result, state events)
    POST   /api/export                        {formats, name? | path? | beside_photos?, overwrite?, keep?, masks?}
                                             (masks: "default", "visible" or "amodal")
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import (
    Hint,
    MultiviewError,
    ProjectBusyError,
    ProjectExistsError,
    StorageError,
    ValidationError,
    storage_error,
)
from .guard import LOCAL_HOSTS, LocalGuard
from .jobs import JobBusyError
from .workbench import NotFound, Workbench

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, message: str, exc: BaseException | None = None) -> JSONResponse:
    """``{"error": message}``, plus ``"hint"`` (:meth:`multiview.errors.Hint.to_json`) when the error has one."""
    body: dict[str, Any] = {"error": message}
    hint = getattr(exc, "hint", None)
    if isinstance(hint, Hint):
        body["hint"] = hint.to_json()
    return JSONResponse(body, status_code=status)


#: Largest request body accepted, bytes (the page sends small JSON: clicks, names, options).
MAX_BODY_BYTES = 1 << 20


class BodyTooLarge(ValidationError):
    """The request body is over :data:`MAX_BODY_BYTES` (HTTP 413)."""


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 18:  # beyond any id, count or coordinate the page sends
        raise ValueError(f"integer {text[:20]}... is out of range")
    return int(text)


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object a request carries, strictly: at most 1 MiB (refused before reading when the
    declared length says so, while reading otherwise), finite numbers only (no NaN, Infinity, 1e309)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes; send less")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes; send less")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return {}
    try:
        data = json.loads(raw, parse_float=_finite, parse_int=_int, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError(f"the request body is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    return data


def _known(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ValidationError(f"unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def create_app(workbench: Workbench, allowed_hosts: Iterable[str] | None = LOCAL_HOSTS) -> Starlette:
    """The ASGI application serving ``workbench``.

    Args:
        allowed_hosts: host names the ``Host`` header may carry (None: any; see :mod:`.guard`).
    """
    wb = workbench

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers=_NO_STORE)

    async def state(request: Request) -> Response:
        return JSONResponse(await call(wb.state), headers=_NO_STORE)

    async def review(request: Request) -> Response:
        return JSONResponse(await call(wb.review), headers=_NO_STORE)

    async def preview(request: Request) -> Response:
        data = await call(wb.preview_jpeg, request.path_params["view"], request.query_params.get("size", "1024"))
        return Response(data, media_type="image/jpeg", headers=_NO_STORE)

    async def overlay(request: Request) -> Response:
        objs = request.query_params.getlist("obj") or None
        data = await call(wb.overlay_png, request.path_params["view"], request.query_params.get("size", "1024"), objs)
        return Response(data, media_type="image/png", headers=_NO_STORE)

    async def occlusion(request: Request) -> Response:
        data = await call(wb.occlusion_png, request.path_params["view"], request.query_params.get("size", "1024"))
        return Response(data, media_type="image/png", headers=_NO_STORE)

    async def add_object(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"name", "color"})
        return JSONResponse(await call(wb.add_object, d.get("name"), d.get("color")), status_code=201)

    async def edit_object(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"name", "color"})
        return JSONResponse(await call(wb.edit_object, request.path_params["obj"], d.get("name"), d.get("color")))

    async def remove_object(request: Request) -> Response:
        await call(wb.remove_object, request.path_params["obj"])
        return JSONResponse({"ok": True})

    async def add_prompt(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"view", "obj_id", "points", "labels", "box", "candidate"})
        if not isinstance(d.get("view"), str):
            raise ValidationError("give the view's file name as 'view'")
        if "obj_id" not in d:
            raise ValidationError("give the object id as 'obj_id'")
        p = await call(
            wb.add_prompt,
            d["view"],
            d["obj_id"],
            d.get("points", []),
            d.get("labels", []),
            d.get("box"),
            d.get("candidate"),
        )
        return JSONResponse(p, status_code=201)

    async def remove_prompt(request: Request) -> Response:
        await call(wb.remove_prompt, request.path_params["prompt"])
        return JSONResponse({"ok": True})

    async def candidates(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"view", "x", "y", "obj_id", "size"})
        if not isinstance(d.get("view"), str):
            raise ValidationError("give the view's file name as 'view'")
        cands = await call(wb.candidates, d["view"], d.get("x"), d.get("y"))
        color = (230, 25, 75)
        if "obj_id" in d and d["obj_id"] is not None:
            color = (await call(wb._object, d["obj_id"])).color
        out = []
        for c in cands:
            png = await call(wb.mask_png, c.prob, d["view"], d.get("size", 1024), color)
            out.append(
                {
                    "index": c.index,
                    "score": c.score,
                    "best": c.best,
                    "area": c.area,
                    "overlay": "data:image/png;base64," + base64.b64encode(png).decode(),
                }
            )
        return JSONResponse({"candidates": out})

    async def track(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"objects", "full"})
        return JSONResponse(await call(wb.start_tracking, d.get("objects"), d.get("full", False)), status_code=202)

    async def cancel(request: Request) -> Response:
        return JSONResponse({"cancelled": wb.cancel(), "job": wb.jobs.status.to_json()})

    async def job(request: Request) -> Response:
        return JSONResponse(wb.jobs.status.to_json(), headers=_NO_STORE)

    async def export(request: Request) -> Response:
        d = await _body(request)
        _known(d, {"formats", "name", "path", "overwrite", "keep", "objects", "beside_photos", "masks"})
        return JSONResponse(
            await call(
                wb.export,
                d.get("formats"),
                d.get("name"),
                d.get("path"),
                d.get("overwrite", False),
                d.get("keep", "object"),
                d.get("objects"),
                d.get("beside_photos", False),
                d.get("masks", "default"),
            )
        )

    async def events(request: Request) -> Response:
        try:
            seq = int(request.query_params.get("since", wb.bus.seq))
        except ValueError:
            raise ValidationError("since must be an event number") from None

        async def stream() -> AsyncIterator[str]:
            nonlocal seq
            yield "retry: 1000\n\n"
            while not wb.bus.closed:
                if await request.is_disconnected():
                    return
                got = wb.bus.since(seq)
                for n, e in got:
                    seq = n
                    yield f"id: {n}\ndata: {json.dumps(e)}\n\n"
                if not got:
                    await asyncio.sleep(0.15)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_NO_STORE)

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/review", review),
        Route("/api/views/{view}/preview", preview),
        Route("/api/views/{view}/overlay", overlay),
        Route("/api/views/{view}/occlusion", occlusion),
        Route("/api/objects", add_object, methods=["POST"]),
        Route("/api/objects/{obj}", edit_object, methods=["PATCH"]),
        Route("/api/objects/{obj}", remove_object, methods=["DELETE"]),
        Route("/api/prompts", add_prompt, methods=["POST"]),
        Route("/api/prompts/{prompt}", remove_prompt, methods=["DELETE"]),
        Route("/api/candidates", candidates, methods=["POST"]),
        Route("/api/track", track, methods=["POST"]),
        Route("/api/track/cancel", cancel, methods=["POST"]),
        Route("/api/job", job),
        Route("/api/events", events),
        Route("/api/export", export, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, str(exc), exc)

    async def too_large(request: Request, exc: Exception) -> Response:
        return _error(413, str(exc))

    async def refused(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc), exc)

    async def busy(request: Request, exc: Exception) -> Response:
        return _error(409, str(exc), exc)

    async def exists(request: Request, exc: Exception) -> Response:
        return _error(409, str(exc), exc)

    async def library(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc), exc)

    async def storage(request: Request, exc: Exception) -> Response:
        err = exc if isinstance(exc, StorageError) else storage_error(exc)  # type: ignore[arg-type]
        return _error({"full": 507, "readonly": 403}.get(err.kind, 500), str(err))

    async def http(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _error(exc.status_code, exc.detail or "error")
        return _error(500, "error")  # pragma: no cover - registered for HTTPException only

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        NotFound: not_found,
        BodyTooLarge: too_large,
        ValidationError: refused,
        JobBusyError: busy,
        ProjectBusyError: busy,
        StorageError: storage,
        OSError: storage,
        ProjectExistsError: exists,
        MultiviewError: library,
        HTTPException: http,
    }
    app = Starlette(
        routes=routes, exception_handlers=handlers, middleware=[Middleware(LocalGuard, allowed_hosts=allowed_hosts)]
    )
    app.state.workbench = wb
    return app
