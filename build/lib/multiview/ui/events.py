"""Events pushed to the page (server-sent events): progress, job state, project changes."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class EventBus:
    """Thread-safe, numbered event log that any number of readers follow.

    Writers (the job thread, request handlers) call :meth:`publish`; each reader keeps
    the number of the last event it saw and asks for the newer ones (:meth:`since`).
    Old events fall off the end (``maxlen``); a reader that fell behind gets a
    ``{"type": "state"}`` event so it reloads the whole state.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._events: deque[tuple[int, dict[str, Any]]] = deque(maxlen=maxlen)
        self._seq = 0
        self._cond = threading.Condition()
        self.closed = False

    @property
    def seq(self) -> int:
        """Number of the last event published."""
        return self._seq

    def publish(self, event: dict[str, Any]) -> int:
        with self._cond:
            self._seq += 1
            self._events.append((self._seq, dict(event)))
            self._cond.notify_all()
            return self._seq

    def close(self) -> None:
        """Tell readers to stop (the server is shutting down)."""
        self.closed = True

    def since(self, seq: int) -> list[tuple[int, dict[str, Any]]]:
        """Events newer than ``seq``, oldest first."""
        with self._cond:
            if self._events and seq < self._events[0][0] - 1:
                return [(self._seq, {"type": "state", "reason": "missed events"})]
            return [(n, e) for n, e in self._events if n > seq]

    def wait(self, seq: int, timeout: float) -> bool:
        """Block until an event newer than ``seq`` exists or ``timeout`` seconds pass."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._seq <= seq:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True
