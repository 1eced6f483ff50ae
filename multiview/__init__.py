"""multiview: segment one painted object in every photo of a fresco.

Stages (one subpackage or module each): :mod:`multiview.loading`,
:mod:`multiview.project`, :mod:`multiview.ordering`, :mod:`multiview.alignment`,
:mod:`multiview.tracking`, :mod:`multiview.export`, :mod:`multiview.review` and the
command line :mod:`multiview.cli`. Stages exchange numpy arrays and frozen
dataclasses; tensors stay inside the tracking stage.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

from .errors import (  # noqa: E402
    AlignmentError,
    CheckpointError,
    ExportError,
    MultiviewError,
    PhotoError,
    PhotoSetError,
    ProjectError,
    ProjectExistsError,
    TrackingError,
    ValidationError,
)
from .export.h5 import read_h5  # noqa: E402  (h5py is imported only when read_h5 runs)
from .project import MaskResult, ObjectInfo, Ordering, Project, Prompt, Registration, View  # noqa: E402

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
