"""Physical scale of the reference plane: reference-plane pixels to centimetres.

Restorers measure lacunae and damaged zones in cm². Areas in multiview are first
measured in *reference-plane pixels* (original pixels of the reference photo, see
:mod:`multiview.plane.areas`), which compare across views; one scale on the
reference view turns them into cm².

Convention:
    The scale is pixels of the reference view's *original* photo per centimetre on
    the painted surface. It is only exact for a flat surface seen through the
    reference view's homography (the reference plane); it is the plane's local
    scale, so pick the two points near the area you measure when the reference photo
    is strongly oblique.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import ValidationError

#: Units accepted after a distance, in centimetres.
UNITS_CM = {"cm": 1.0, "mm": 0.1, "m": 100.0}


@dataclass(frozen=True)
class Scale:
    """Pixels per centimetre on the reference view.

    Attributes:
        px_per_cm: reference-view original pixels per centimetre (> 0).
        source: how it was given, e.g. ``"12.5 px/cm"`` or ``"(10,20)-(410,20) = 25 cm"``.
    """

    px_per_cm: float
    source: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.px_per_cm, (int, float)) and math.isfinite(self.px_per_cm) and self.px_per_cm > 0):
            raise ValidationError(f"scale {self.px_per_cm!r} px/cm must be a positive number")

    @classmethod
    def from_points(cls, p1: tuple[float, float], p2: tuple[float, float], distance_cm: float) -> Scale:
        """Scale from two points on the reference view and their real distance.

        Args:
            p1, p2: ``(x, y)`` original pixels of the reference view.
            distance_cm: their distance on the wall, centimetres (> 0).

        Raises:
            ValidationError: coincident points or a non-positive distance.
        """
        if not (math.isfinite(distance_cm) and distance_cm > 0):
            raise ValidationError(f"distance {distance_cm!r} cm must be a positive number")
        d = math.hypot(p2[0] - p1[0], p2[1] - p1[1])
        if not d > 0:
            raise ValidationError(f"the two scale points ({p1[0]:g},{p1[1]:g}) and ({p2[0]:g},{p2[1]:g}) coincide")
        return cls(d / distance_cm, f"({p1[0]:g},{p1[1]:g})-({p2[0]:g},{p2[1]:g}) = {distance_cm:g} cm")

    @classmethod
    def parse(cls, text: str) -> Scale:
        """Parse ``"PX_PER_CM"`` (e.g. ``"12.5"``) or ``"X1,Y1,X2,Y2,DIST"`` with DIST in cm,
        or with a unit ``mm``, ``cm`` or ``m`` (e.g. ``"10,20,410,20,25cm"``).

        Raises:
            ValidationError: anything else.
        """
        s = str(text).strip().lower().replace(" ", "")
        parts = s.split(",")
        hint = "give PX_PER_CM (e.g. 12.5) or X1,Y1,X2,Y2,DISTANCE (e.g. 10,20,410,20,25cm)"
        try:
            if len(parts) == 1:
                v = float(re.sub(r"(px/cm)$", "", parts[0]))
                return cls(v, f"{v:g} px/cm")
            if len(parts) == 5:
                m = re.fullmatch(r"([0-9.eE+-]+)(mm|cm|m)?", parts[4])
                if m is None:
                    raise ValueError(parts[4])
                dist = float(m.group(1)) * UNITS_CM[m.group(2) or "cm"]
                x1, y1, x2, y2 = (float(p) for p in parts[:4])
                return cls.from_points((x1, y1), (x2, y2), dist)
        except ValueError:
            pass
        raise ValidationError(f"scale '{text}' is not understood; {hint}")

    def cm2(self, area_ref_px: float | None) -> float | None:
        """Area in cm² of an area given in reference-plane pixels (None stays None)."""
        return None if area_ref_px is None else float(area_ref_px) / (self.px_per_cm**2)
