"""Exception classes of multiview.

Every error the library raises on purpose derives from :class:`MultiviewError`.
Messages name the offending value and say how to fix it, in one line, so the
CLI can print them as they are.
"""

from __future__ import annotations


class MultiviewError(Exception):
    """Base class of all errors raised by multiview on purpose."""


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
