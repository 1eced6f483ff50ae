"""Errors of the synthetic fresco sample (:mod:`devtools.sample`)."""

from __future__ import annotations

from multiview.errors import ProjectError, ProjectExistsError, ValidationError

__all__ = ["SampleExistsError", "SampleFormatError", "SampleValueError"]


class SampleExistsError(ProjectExistsError, FileExistsError):
    """The output folder of :func:`make_sample` is not empty (and overwrite is off)."""


class SampleFormatError(ProjectError, ValueError):
    """A sample folder is missing files or holds files that cannot be read."""


class SampleValueError(ValidationError, ValueError):
    """An argument (seed, number of views, view name, object id) is invalid."""
