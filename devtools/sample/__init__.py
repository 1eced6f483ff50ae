"""Bundled synthetic sample: a painted fresco panel photographed from several angles.

The sample is made entirely by this module (numpy random numbers and OpenCV
drawing, nothing downloaded), so it is free to ship with the project.  It gives
a small multi-view sequence with exact ground truth:

* a flat painted panel (the reference plane) with three painted objects
  (``1`` figure, ``2`` rosette, ``3`` lacuna) whose masks on the panel are known,
* ``n_views`` photos of that panel taken by a pinhole camera moving along the
  wall (known homographies ``H_view_from_panel``), with lighting changes,
  vignetting, blur, noise, JPEG compression and occluders,
* the object masks in every photo (the panel masks warped by the homographies).

Convention:
    Pixel coordinates are ``(x, y)`` with ``x`` to the right and ``y`` down,
    origin at the top-left corner of the pixel grid, pixel centres at integer
    coordinates (OpenCV convention).  Image sizes are ``(width, height)``;
    arrays are ``(height, width[, channels])``.  Colour images returned by
    this module are RGB ``uint8``.  ``H_view_from_panel`` maps homogeneous
    panel pixels ``(x, y, 1)`` to view pixels (``float64``, ``H[2, 2] == 1``).

Layout written by :func:`make_sample` in ``out_dir``::

    photos/IMG_0101.jpg ...                      the photos, nothing else
    ground_truth/panel.png                       the clean panel (RGB)
    ground_truth/panel_masks/<obj_id>.png        object masks on the panel
    ground_truth/masks/<obj_id>/<stem>.png       object masks in each photo
    ground_truth/occluders/<stem>.png            occluder masks (occluded photos only)
    ground_truth/homographies.json               homographies, sizes, objects, cameras

Masks are 8-bit PNGs, 255 = object, 0 = elsewhere.  File-name order is the
order of the viewpoints along the wall (``IMG_0101`` is the leftmost camera).

:func:`make_curved_sample` (:mod:`devtools.sample.curved`) paints the same panel on the
inside of a cylinder (an apse, ray-cast truth, ``geometry.json`` instead of homographies):
the wall that is not one plane, behind ``sequences/apse``.
"""

from __future__ import annotations

from devtools.sample.curved import (
    CURVED_FORMAT_VERSION,
    CurvedSequence,
    Cylinder,
    load_curved_sample,
    make_curved_sample,
)
from devtools.sample.errors import SampleExistsError, SampleFormatError, SampleValueError
from devtools.sample.panel import PANEL_METRES_PER_PIXEL, PANEL_SIZE
from devtools.sample.sequence import SAMPLE_OBJECTS, SampleObject, SampleSequence
from devtools.sample.store import FORMAT_VERSION, HOMOGRAPHY_CONVENTION, load_sample, make_sample

__all__ = [
    "CURVED_FORMAT_VERSION",
    "FORMAT_VERSION",
    "HOMOGRAPHY_CONVENTION",
    "PANEL_METRES_PER_PIXEL",
    "PANEL_SIZE",
    "SAMPLE_OBJECTS",
    "CurvedSequence",
    "Cylinder",
    "SampleExistsError",
    "SampleFormatError",
    "SampleObject",
    "SampleSequence",
    "SampleValueError",
    "load_curved_sample",
    "load_sample",
    "make_curved_sample",
    "make_sample",
]
