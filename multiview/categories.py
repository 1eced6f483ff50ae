"""Condition-mapping categories: the vocabulary every object is classified with.

A restorer's damage map (condition map) draws each phenomenon with the legend
colour and hatch of its category and reports areas per category. Every object of
a project has one category key (:attr:`multiview.project.ObjectInfo.category`);
keys are short, lower-case ASCII (``[a-z0-9_-]``, at most 32 characters) so they
survive as CAD layer names, GIS field values and file names.

Default vocabulary (:data:`DEFAULT_CATEGORIES`), for wall paintings:

=================  ==========================================  ==============================
key                term (legend label)                          source term
=================  ==========================================  ==============================
``figure``         iconography / figure (neutral, not damage)   -
``loss``           loss / lacuna                                ISCS "missing part" / "lacuna";
                                                                UNI 11182 "lacuna", "mancanza"
``flaking``        paint flaking                                ISCS "flaking" (detachment);
                                                                UNI 11182 "esfoliazione"
``detachment``     detachment of plaster                        ISCS "detachment";
                                                                UNI 11182 "distacco"
``crack``          crack                                        ISCS "crack" (crack &
                                                                deformation); UNI 11182
                                                                "fratturazione o fessurazione"
``efflorescence``  salt efflorescence                           ISCS "efflorescence";
                                                                UNI 11182 "efflorescenza"
``biological``     biological growth                            ISCS "biological colonization";
                                                                UNI 11182 "colonizzazione
                                                                biologica", "patina biologica"
``deposit``        deposit / soiling                            ISCS "deposit", "soiling";
                                                                UNI 11182 "deposito superficiale"
``intervention``   previous intervention / retouching           wall-painting survey practice
                                                                (fills, retouching, earlier
                                                                restorations)
=================  ==========================================  ==============================

Sources. The phenomena and their grouping follow the ICOMOS-ISCS *Illustrated
glossary on stone deterioration patterns* (Monuments and Sites XV, ICOMOS, 2008;
families: crack & deformation, detachment, features induced by material loss,
discolouration & deposit, biological colonization) and the Italian lexicon
UNI 11182:2006 *Beni culturali - Materiali lapidei naturali ed artificiali -
Descrizione della forma di alterazione - Termini e definizioni*, which replaced
NorMaL 1/88 and is the usual vocabulary of Italian condition maps (it covers
plasters and renders, i.e. the support of wall paintings). EN 16096:2012
(*Condition survey and report of built cultural heritage*) describes the survey
and report these maps belong to; it does not fix a vocabulary. Neither source fixes
colours or hatches: the legend styles below are this project's own choice, made to
stay distinguishable in colour and in black-and-white print (hatch), with the
neutral category drawn as an outline only.

Hatches (:data:`HATCHES`) are named after the AutoCAD/ezdxf predefined patterns
they are written as in DXF (``ANSI31`` diagonal lines, ``ANSI37`` cross-hatch, ...);
SVG and PNG legends draw the same line families.

User categories: a project may add its own (:meth:`multiview.project.Project.define_category`),
stored in ``project.json``; a user category may not reuse a default key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import Hint, ValidationError

#: Hatch name -> (DXF pattern name or None for no hatch, description). "solid" is a solid fill.
HATCHES: dict[str, tuple[str | None, str]] = {
    "none": (None, "no hatch (outline only)"),
    "solid": ("SOLID", "solid fill"),
    "diagonal": ("ANSI31", "lines at 45 degrees"),
    "backdiagonal": ("ANSI31", "lines at 135 degrees"),
    "cross": ("ANSI37", "crossed lines at 45 and 135 degrees"),
    "horizontal": ("LINE", "horizontal lines"),
    "vertical": ("LINE", "vertical lines"),
    "grid": ("NET", "horizontal and vertical lines"),
    "dots": ("DOTS", "dots"),
}

#: Rotation of the DXF pattern in degrees, for hatches that reuse a pattern.
HATCH_ANGLE: dict[str, float] = {"backdiagonal": 90.0, "vertical": 90.0}

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Category:
    """One condition-mapping category and its legend style.

    Attributes:
        key: identifier stored in ``project.json`` (``[a-z0-9_-]``, at most 32 characters).
        label: legend label, e.g. ``"loss / lacuna"``.
        color: (r, g, b) 0..255 legend colour.
        hatch: a key of :data:`HATCHES`.
        description: what is mapped with it.
        source: where the term comes from (glossary term), "" for user categories.
        damage: True for a damage phenomenon (counted in the damaged share of the wall).
        builtin: True for the default vocabulary.
    """

    key: str
    label: str
    color: tuple[int, int, int]
    hatch: str = "none"
    description: str = ""
    source: str = ""
    damage: bool = True
    builtin: bool = False

    def __post_init__(self) -> None:
        check_key(self.key)
        if self.hatch not in HATCHES:
            raise ValidationError(f"hatch '{self.hatch}' is unknown; use one of {', '.join(HATCHES)}")
        if len(self.color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in self.color):
            raise ValidationError(f"category colour {self.color!r} must be three integers 0..255")

    @property
    def hex(self) -> str:
        """``"#rrggbb"``."""
        return "#{:02x}{:02x}{:02x}".format(*self.color)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "color": self.hex,
            "hatch": self.hatch,
            "description": self.description,
            "damage": self.damage,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Category:
        return cls(
            key=str(d["key"]),
            label=str(d.get("label") or d["key"]),
            color=parse_color(str(d["color"])),
            hatch=str(d.get("hatch", "none")),
            description=str(d.get("description", "")),
            damage=bool(d.get("damage", True)),
        )


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid category key.

    Raises:
        ValidationError: not ``[a-z0-9][a-z0-9_-]*`` of at most 32 characters.
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValidationError(
            f"category '{key}' is not a valid key; use lower-case letters, digits, '-' or '_' "
            "(at most 32 characters, e.g. 'loss' or 'old-fill')"
        )
    return key


def parse_color(text: str) -> tuple[int, int, int]:
    """Parse ``"#rrggbb"`` (or ``"rrggbb"``).

    Raises:
        ValidationError: anything else.
    """
    c = str(text).strip().lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", c):
        raise ValidationError(f"colour '{text}' is not #RRGGBB (e.g. #d62728)")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


#: Key of the neutral category objects get when none is given.
DEFAULT_CATEGORY = "figure"

_ISCS = "ICOMOS-ISCS glossary (2008)"
_UNI = "UNI 11182:2006"

#: The default vocabulary, in legend order (see the module docstring for the sources).
DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category(
        "figure",
        "iconography / figure",
        (31, 119, 180),
        "none",
        "a painted figure, ornament or inscription mapped for reference (not damage)",
        "",
        damage=False,
        builtin=True,
    ),
    Category(
        "loss",
        "loss / lacuna",
        (214, 39, 40),
        "cross",
        "paint and plaster missing down to the support or an earlier layer",
        f'{_ISCS} "missing part"; {_UNI} "lacuna", "mancanza"',
        builtin=True,
    ),
    Category(
        "flaking",
        "paint flaking",
        (255, 127, 14),
        "diagonal",
        "paint layer lifting or falling off in flakes",
        f'{_ISCS} "flaking"; {_UNI} "esfoliazione"',
        builtin=True,
    ),
    Category(
        "detachment",
        "detachment of plaster",
        (148, 103, 189),
        "backdiagonal",
        "plaster layers separated from the wall or from each other (hollow areas)",
        f'{_ISCS} "detachment"; {_UNI} "distacco"',
        builtin=True,
    ),
    Category(
        "crack",
        "crack",
        (0, 0, 0),
        "solid",
        "cracks and fissures through paint and plaster",
        f'{_ISCS} "crack"; {_UNI} "fratturazione o fessurazione"',
        builtin=True,
    ),
    Category(
        "efflorescence",
        "salt efflorescence",
        (23, 190, 207),
        "dots",
        "salt crystals on the surface (white, powdery or crusty)",
        f'{_ISCS} "efflorescence"; {_UNI} "efflorescenza"',
        builtin=True,
    ),
    Category(
        "biological",
        "biological growth",
        (44, 160, 44),
        "grid",
        "algae, fungi, lichens, mosses or plants on the surface",
        f'{_ISCS} "biological colonization"; {_UNI} "colonizzazione biologica", "patina biologica"',
        builtin=True,
    ),
    Category(
        "deposit",
        "deposit / soiling",
        (140, 86, 75),
        "horizontal",
        "dust, soot, dirt or other foreign material on the surface",
        f'{_ISCS} "deposit", "soiling"; {_UNI} "deposito superficiale"',
        builtin=True,
    ),
    Category(
        "intervention",
        "previous intervention / retouching",
        (227, 119, 194),
        "vertical",
        "fills, retouching, overpaint and other earlier restorations",
        "wall-painting condition survey practice",
        damage=False,
        builtin=True,
    ),
)

_DEFAULT_BY_KEY = {c.key: c for c in DEFAULT_CATEGORIES}


def vocabulary(user: Iterable[Category] = ()) -> dict[str, Category]:
    """Key -> category: the defaults in legend order, then the user categories."""
    out = dict(_DEFAULT_BY_KEY)
    for c in user:
        out[c.key] = c
    return out


def resolve(key: str, user: Iterable[Category] = ()) -> Category:
    """The category named ``key`` (case-insensitive; ``label`` also accepted).

    Raises:
        ValidationError: unknown category, with the list of known keys and the fix.
    """
    voc = vocabulary(user)
    k = str(key).strip().lower()
    if k in voc:
        return voc[k]
    for c in voc.values():
        if c.label.lower() == k:
            return c
    raise ValidationError(
        f"category '{key}' is unknown; use one of {', '.join(voc)} or define it first",
        hint=Hint(command="multiview category PROJECT_DIR NAME --color #RRGGBB"),
    )


def define(key: str, label: str | None, color: tuple[int, int, int], hatch: str = "none") -> Category:
    """A new user category.

    Raises:
        ValidationError: invalid key, colour or hatch, or a key of the default vocabulary.
    """
    check_key(key)
    if key in _DEFAULT_BY_KEY:
        raise ValidationError(f"category '{key}' is a default category and cannot be redefined; choose another name")
    r, g, b = (int(c) for c in color)
    return Category(key, label or key, (r, g, b), hatch)
