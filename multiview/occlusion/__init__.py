"""Occluders: where a view does not show the wall that the other views agree on.

:func:`compute_occlusion` (run by ``multiview align``) stores one
:class:`~multiview.project.OcclusionLayer` per registered view; :func:`stored_layers`
reads them for status, export and the workbench; :func:`visible_prob` removes the occluded
pixels from an object's mask (the *visible* mask, as opposed to the *amodal* one).
"""

from .consistency import ConsistencyOptions
from .layers import (
    OcclusionOptions,
    StoredLayers,
    ViewOcclusion,
    compute_occlusion,
    ensure_layers,
    is_fresh,
    stored_layers,
)

__all__ = [
    "ConsistencyOptions",
    "OcclusionOptions",
    "StoredLayers",
    "ViewOcclusion",
    "compute_occlusion",
    "ensure_layers",
    "is_fresh",
    "stored_layers",
]
