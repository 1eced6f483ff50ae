"""One background job at a time (tracking), off the request threads, cancellable."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import MultiviewError
from .events import EventBus

log = logging.getLogger(__name__)


class JobBusyError(MultiviewError):
    """A job is already running (HTTP 409)."""


class JobCancelled(Exception):
    """Raised inside a job's progress callback to stop it."""


@dataclass(frozen=True)
class JobStatus:
    """What the page shows about the current or last job.

    Attributes:
        id: serial number (0 = none yet).
        kind: e.g. ``"track"``.
        state: ``"idle"``, ``"running"``, ``"done"``, ``"cancelled"`` or ``"failed"``.
        done: results stored so far; total: expected number (an upper bound) or 0.
        message: last progress line or the error.
    """

    id: int = 0
    kind: str = ""
    state: str = "idle"
    done: int = 0
    total: int = 0
    message: str = ""
    started: float = 0.0
    finished: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "started": self.started,
            "finished": self.finished,
            **self.extra,
        }


class JobRunner:
    """Runs one job at a time in a daemon thread and reports it on an :class:`EventBus`.

    A job is ``work(progress)`` where ``progress(done, total, message, **extra)`` records
    progress and raises :class:`JobCancelled` once :meth:`cancel` was called.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> JobStatus:
        return self._status

    @property
    def running(self) -> bool:
        return self._status.state == "running"

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)
        self.bus.publish({"type": "job", "job": self._status.to_json()})

    def start(self, kind: str, work: Callable[[Callable[..., None]], str], total: int = 0) -> JobStatus:
        """Start ``work`` in the background.

        Raises:
            JobBusyError: a job is running.
        """
        with self._lock:
            if self.running:
                raise JobBusyError(f"a {self._status.kind} job is already running; wait for it or cancel it")
            self._cancel.clear()
            self._set(
                id=self._status.id + 1,
                kind=kind,
                state="running",
                done=0,
                total=total,
                message="starting",
                started=time.time(),
                finished=0.0,
                extra={},
            )
            self._thread = threading.Thread(target=self._run, args=(work,), name=f"multiview-{kind}", daemon=True)
            self._thread.start()
            return self._status

    def _progress(self, done: int, total: int | None = None, message: str = "", **extra: Any) -> None:
        if self._cancel.is_set():
            raise JobCancelled()
        self._set(
            done=done,
            total=max(total if total is not None else self._status.total, done),
            message=message,
            extra={**self._status.extra, **extra},
        )

    def _run(self, work: Callable[[Callable[..., None]], str]) -> None:
        try:
            msg = work(self._progress)
            self._set(state="done", message=msg or "done", total=self._status.done, finished=time.time())
        except JobCancelled:
            self._set(
                state="cancelled",
                message=f"cancelled after {self._status.done} result(s); they are kept",
                finished=time.time(),
            )
        except MultiviewError as exc:
            hint = {"hint": exc.hint.to_json()} if exc.hint is not None else {}
            self._set(state="failed", message=str(exc), finished=time.time(), extra={**self._status.extra, **hint})
        except Exception as exc:
            log.exception("job failed")
            self._set(state="failed", message=f"{type(exc).__name__}: {exc}", finished=time.time())
        self.bus.publish({"type": "state", "reason": "job finished"})

    def cancel(self) -> bool:
        """Ask the running job to stop after its current result; False if none runs."""
        if not self.running:
            return False
        self._cancel.set()
        return True

    def join(self, timeout: float | None = None) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)
