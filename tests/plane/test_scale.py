"""Scale parsing: pixels per cm, or two points and their distance with units."""

from __future__ import annotations

import pytest

from multiview import ValidationError
from multiview.plane import Scale


def test_parse_px_per_cm_and_points_with_units() -> None:
    assert Scale.parse("12.5").px_per_cm == pytest.approx(12.5)
    assert Scale.parse("12.5px/cm").px_per_cm == pytest.approx(12.5)
    # 3-4-5 triangle: 500 px apart.
    assert Scale.parse("0,0,300,400,25").px_per_cm == pytest.approx(20.0)
    assert Scale.parse("0,0,300,400,25cm").px_per_cm == pytest.approx(20.0)
    assert Scale.parse("0, 0, 300, 400, 250mm").px_per_cm == pytest.approx(20.0)
    assert Scale.parse("0,0,300,400,0.25m").px_per_cm == pytest.approx(20.0)
    s = Scale.from_points((10, 20), (410, 20), 25)
    assert s.px_per_cm == pytest.approx(16.0) and "25 cm" in s.source
    assert s.cm2(16.0 * 16.0 * 3) == pytest.approx(3.0) and s.cm2(None) is None


@pytest.mark.parametrize(
    "text, msg",
    [
        ("-3", "positive"),
        ("0", "positive"),
        ("abc", "not understood"),
        ("1,2,3", "not understood"),
        ("1,1,1,1,5", "coincide"),
        ("0,0,10,0,0", "positive"),
        ("0,0,10,0,5ft", "not understood"),
    ],
)
def test_parse_errors_name_the_value(text: str, msg: str) -> None:
    with pytest.raises(ValidationError, match=msg):
        Scale.parse(text)
