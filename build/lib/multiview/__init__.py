"""multiview: segment one painted object in every photo of a fresco.

Stages (one subpackage or module each): :mod:`multiview.loading`,
:mod:`multiview.project`, :mod:`multiview.alignment` (ordering, registration, aligned
frames), :mod:`multiview.plane` (the reference plane: per-view mappings, canvases,
areas, scale), :mod:`multiview.tracking`, :mod:`multiview.review`,
:mod:`multiview.export`, the command line :mod:`multiview.cli` and the browser
workbench :mod:`multiview.ui`; shared helpers in :mod:`multiview.raster`,
:mod:`multiview.geometry`, :mod:`multiview.draw` and :mod:`multiview.atomic`.
Stages exchange numpy arrays and frozen dataclasses; tensors stay inside the
tracking stage. See ``docs/architecture.md``.
"""

from __future__ import annotations

import logging

from ._version import __version__
from .errors import (
    AlignmentError,
    CheckpointError,
    ExportError,
    MultiviewError,
    PhotoError,
    PhotoSetError,
    ProjectBusyError,
    ProjectError,
    ProjectExistsError,
    TrackingError,
    ValidationError,
)
from .export.h5 import read_h5  # (h5py is imported only when read_h5 runs)
from .project import MaskResult, ObjectInfo, Ordering, Project, Prompt, Registration, View

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AlignmentError",
    "CheckpointError",
    "ExportError",
    "MaskResult",
    "MultiviewError",
    "ObjectInfo",
    "Ordering",
    "PhotoError",
    "PhotoSetError",
    "Project",
    "ProjectBusyError",
    "ProjectError",
    "ProjectExistsError",
    "Prompt",
    "Registration",
    "TrackingError",
    "ValidationError",
    "View",
    "__version__",
    "read_h5",
]
