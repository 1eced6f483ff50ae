"""Alignment stage: register every view to the reference plane and build tracker frames."""

from .frames import Frame, PseudoVideo, pseudo_video

__all__ = ["Frame", "PseudoVideo", "pseudo_video"]
