"""Ordering stage: arrange the views into a pseudo-video."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import AlignmentError

if TYPE_CHECKING:  # pragma: no cover
    from .project import Ordering, Project


def auto_order(project: "Project") -> "Ordering":
    """Order views so that neighbours overlap most (not implemented yet)."""
    raise AlignmentError("--order auto is not available yet; use --order name")
