"""Tracker protocol, registry and the loop that stores results as they come."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import PROMPT, TrackingError

if TYPE_CHECKING:  # pragma: no cover
    from ..project import MaskResult, Project

log = logging.getLogger(__name__)


class Tracker(Protocol):
    """What every tracker provides."""

    name: str

    def run(
        self, project: Project, *, obj_ids: Sequence[int] | None = None, full: bool = False
    ) -> Iterator[MaskResult]:
        """Yield one result per (object, view) it computes; results may come in any order.

        Args:
            obj_ids: objects to track (default: every object that has a prompt).
            full: recompute every view instead of only those a new prompt governs.
        """
        ...


@dataclass(frozen=True)
class TrackEvent:
    """Progress of a tracking run: ``done`` results stored so far, the last one's ids."""

    done: int
    obj_id: int
    view_id: str
    result: MaskResult


#: name -> "module:factory" (imported lazily so a missing optional stack fails only when used).
_REGISTRY: dict[str, str] = {}


def register_tracker(name: str, target: str) -> None:
    """Register a tracker factory given as ``"package.module:callable"``."""
    _REGISTRY[name] = target


def available_trackers() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_tracker(name: str, **options: Any) -> Tracker:
    """Build a tracker by name with its options.

    Raises:
        TrackingError: unknown tracker name.
    """
    if name not in _REGISTRY:
        known = ", ".join(available_trackers()) or "none"
        raise TrackingError(f"tracker '{name}' is not available; choose one of: {known}")
    module, _, attr = _REGISTRY[name].partition(":")
    factory: Callable[..., Tracker] = getattr(importlib.import_module(module), attr)
    return factory(**options)


def run_tracking(
    project: Project,
    tracker: Tracker,
    *,
    obj_ids: Sequence[int] | None = None,
    full: bool = False,
    on_result: Callable[[TrackEvent], None] | None = None,
    wait: bool = False,
    holder: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> int:
    """Run ``tracker`` and store each result atomically as soon as it is yielded.

    An interrupted run keeps every result stored so far. The run holds the project's
    tracking lock (:meth:`multiview.project.Project.tracking_lock`) from start to end,
    so two runs on one project (two ``track`` commands, or ``track`` during the
    workbench's propagation) never interleave their results or share SAM 2 state.

    Args:
        wait: wait for another run on the project to end instead of refusing.
        holder: who runs, for the message another run gets (e.g. ``"multiview track"``).
        on_wait: called with the other run's description before waiting.

    Returns:
        Number of results stored.

    Raises:
        TrackingError: no prompts.
        ProjectBusyError: another tracking run holds the project and ``wait`` is False.
    """
    if not project.prompts:
        raise TrackingError("the project has no prompts yet; mark an object on a view first", hint=PROMPT)
    done = 0
    with project.tracking_lock(wait=wait, holder=holder or f"{tracker.name} tracking", on_wait=on_wait):
        project.reload()  # prompts added while waiting count
        for result in tracker.run(project, obj_ids=obj_ids, full=full):
            project.write_result(result)
            done += 1
            if on_result is not None:
                on_result(TrackEvent(done, result.obj_id, result.view_id, result))
    log.info("tracker %s stored %d result(s)", tracker.name, done)
    return done
