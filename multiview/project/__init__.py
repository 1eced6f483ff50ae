"""Project store: the folder that holds views, order, prompts, registrations and results."""

from .model import (
    Deformation,
    HeldOutError,
    MaskResult,
    ObjectInfo,
    OcclusionLayer,
    Ordering,
    Prompt,
    Registration,
    ThinPlateSpline,
    View,
    default_color,
)
from .store import DEFAULT_WORK_MAX_SIDE, PROJECT_FILE, Project, ProjectState

__all__ = [
    "DEFAULT_WORK_MAX_SIDE",
    "PROJECT_FILE",
    "Deformation",
    "HeldOutError",
    "MaskResult",
    "ObjectInfo",
    "OcclusionLayer",
    "Ordering",
    "Project",
    "ProjectState",
    "Prompt",
    "Registration",
    "ThinPlateSpline",
    "View",
    "default_color",
]
