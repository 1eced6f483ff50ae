"""Tracking stage: carry each object's mask from its prompted views to every view.

A tracker is an object with a ``name`` and a ``run`` method that *yields*
:class:`~multiview.project.MaskResult` objects one view at a time (sam2-style
generator propagation), so callers can store results as they come, show
progress, and stop at any time keeping every completed view.
"""

from .base import Tracker, TrackEvent, available_trackers, get_tracker, register_tracker, run_tracking

register_tracker("sam2", "multiview.tracking.sam2.tracker:make_tracker")
register_tracker("homography", "multiview.tracking.homography:HomographyTracker")

__all__ = ["TrackEvent", "Tracker", "available_trackers", "get_tracker", "register_tracker", "run_tracking"]
