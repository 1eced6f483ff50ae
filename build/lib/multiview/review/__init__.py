"""Review stage: per view and object statistics, drift flags, and pictures to check.

* :func:`review` measures every stored result (areas in view pixels, in the reference
  plane and, with a :class:`multiview.plane.Scale`, in cm²; scores) and flags drifted
  views (:class:`DriftThresholds` documents the checks).
* :func:`write_contact_sheet` / :func:`write_view_picture` draw them.
"""

from .drift import DriftThresholds, ObjectViewStats, ReviewReport, review
from .pictures import contact_sheet_pages, render_view, write_contact_sheet, write_view_picture

__all__ = [
    "DriftThresholds",
    "ObjectViewStats",
    "ReviewReport",
    "contact_sheet_pages",
    "render_view",
    "review",
    "write_contact_sheet",
    "write_view_picture",
]
