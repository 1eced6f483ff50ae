"""Exception classes of multiview, and the :class:`Hint` that says how to fix an error.

Every error the library raises on purpose derives from :class:`MultiviewError`.

How to write one (library code; the command line and the workbench render it):

* The **message** is one line that names the offending value and says what to do in
  words that hold for every front end: ``"the project has no tracked masks to export;
  track the objects first"``, ``"picture 'a.png' already exists; choose another name or
  replace it"``. Never name a command-line flag or command in it (``--overwrite``,
  ``multiview track``): a workbench user has neither.
* When one front-end control applies the fix, attach a **hint**:
  ``raise ProjectExistsError(msg, hint=Hint(option="--overwrite", field="overwrite"))``
  or ``raise ExportError(msg, hint=Hint(command="multiview track PROJECT_DIR", action="track"))``;
  the common ones are constants here (:data:`OVERWRITE`, :data:`TRACK`, :data:`ALIGN`, :data:`PROMPT`).
  The CLI prints ``message (use --overwrite)`` or ``message (run `multiview track PROJECT_DIR`)``
  on one line (:func:`cli_message`); the workbench answers
  ``{"error": message, "hint": {"field": "overwrite", ...}}`` (:meth:`Hint.to_json`) and
  the page turns ``field`` into a highlighted form field and ``action`` into a button.

``str(error)`` is the neutral message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALIGN",
    "OVERWRITE",
    "PROMPT",
    "TRACK",
    "AlignmentError",
    "CheckpointError",
    "ExportError",
    "Hint",
    "MultiviewError",
    "PhotoError",
    "PhotoSetError",
    "ProjectBusyError",
    "ProjectError",
    "ProjectExistsError",
    "TrackingError",
    "ValidationError",
    "cli_message",
]


@dataclass(frozen=True)
class Hint:
    """The control that fixes an error, for each front end to offer its own way.

    Attributes:
        option: command-line option (with its value if it needs one), e.g. ``"--overwrite"``,
            ``"--device cpu"``.
        field: workbench request field of the same fix, e.g. ``"overwrite"``.
        command: command line that fixes it, e.g. ``"multiview align PROJECT_DIR"``.
        action: workbench action that fixes it, e.g. ``"track"`` (Propagate), ``"align"``,
            ``"prompt"``; None when the page has no such control (then it shows ``command``).
    """

    option: str | None = None
    field: str | None = None
    command: str | None = None
    action: str | None = None

    def for_cli(self) -> str:
        """The fix as the command line says it: ``"use --overwrite"`` or ``"run `multiview align`"``."""
        parts = []
        if self.option:
            parts.append(f"use {self.option}")
        if self.command:
            parts.append(f"run `{self.command}`")
        return " or ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The fields that are set, for the workbench's JSON error answers."""
        d = {"option": self.option, "field": self.field, "command": self.command, "action": self.action}
        return {k: v for k, v in d.items() if v is not None}


#: Replace an existing output (it must be one multiview wrote; the library checks).
OVERWRITE = Hint(option="--overwrite", field="overwrite")
#: Register the views onto the reference plane.
ALIGN = Hint(command="multiview align PROJECT_DIR", action="align")
#: Carry the prompted objects to every view.
TRACK = Hint(command="multiview track PROJECT_DIR", action="track")
#: Mark an object on a view (click, box or mask).
PROMPT = Hint(command="multiview prompt PROJECT_DIR --view PHOTO --obj ID --point X,Y", action="prompt")


class MultiviewError(Exception):
    """Base class of all errors raised by multiview on purpose.

    Args:
        message: one neutral line naming the value and the fix (see the module docstring).
        hint: the front-end control that applies the fix, if any.
    """

    def __init__(self, message: str = "", *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def cli_message(exc: BaseException) -> str:
    """One line for the command line: the message, then the hint's option or command in brackets."""
    msg = str(exc)
    hint = getattr(exc, "hint", None)
    if isinstance(hint, Hint) and hint.for_cli():
        return f"{msg} ({hint.for_cli()})"
    return msg


class PhotoError(MultiviewError):
    """A photo cannot be read, is missing, duplicated or changed."""


class PhotoSetError(MultiviewError):
    """A folder of photos is not usable as a sequence (missing, too few photos)."""


class ProjectError(MultiviewError):
    """A project folder is missing, corrupt, or in a state that forbids the action."""


class ProjectExistsError(ProjectError):
    """Refusing to overwrite an existing project or output."""


class ValidationError(MultiviewError):
    """A user-supplied value (view, object id, coordinate, mask) is invalid."""


class AlignmentError(MultiviewError):
    """Views could not be registered or ordered."""


class TrackingError(MultiviewError):
    """A tracker could not run (missing prompts, model, checkpoint...)."""


class CheckpointError(TrackingError):
    """A model checkpoint is missing, corrupt or does not match the model."""


class ExportError(MultiviewError):
    """An export could not be written."""


class ProjectBusyError(ProjectError):
    """Another process is already doing what would conflict (a tracking run on the same project)."""
