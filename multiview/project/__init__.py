"""Project store: the folder that holds views, order, prompts, registrations and results."""

from .model import MaskResult, ObjectInfo, Ordering, Prompt, Registration, View, default_color
from .store import DEFAULT_WORK_MAX_SIDE, PROJECT_FILE, Project, ProjectState

__all__ = [
    "DEFAULT_WORK_MAX_SIDE",
    "PROJECT_FILE",
    "MaskResult",
    "ObjectInfo",
    "Ordering",
    "Project",
    "ProjectState",
    "Prompt",
    "Registration",
    "View",
    "default_color",
]
