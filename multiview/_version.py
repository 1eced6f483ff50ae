"""The version of multiview: the one place it is written (pyproject reads it, every module imports it from here)."""

__version__ = "0.1.0"
