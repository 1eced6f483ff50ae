"""The shape of ``project.json`` as a JSON Schema, checked every time a project is opened.

A file that is valid JSON but of the wrong shape (``[]``, ``null``, a list where an
object belongs, a version written as the text ``"1"``) is refused with one line that
names the first place it is damaged, e.g. ``damaged at prompts[2].points[0]
(expected a list of 3 numbers)``, instead of a traceback or a misleading message.

Validation uses the ``jsonschema`` library (JSON Schema draft 2020-12,
https://json-schema.org/draft/2020-12); unknown keys are allowed so that a newer
multiview's additions do not make a file unreadable. The consistency rules that
span several keys (every view ordered once, prompts naming known views) stay in
:meth:`multiview.project.ProjectState.check`.
"""

from __future__ import annotations

from typing import Any

_INT = {"type": "integer"}
_NUM = {"type": "number"}
_STR = {"type": "string"}
_OPT_NUM = {"type": ["number", "null"]}
_OPT_STR = {"type": ["string", "null"]}
_COLOR = {"type": "string", "pattern": "^#?[0-9a-fA-F]{6}$"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


VIEW = _obj(
    {
        "id": {"type": "string", "minLength": 1},
        "path": _STR,
        "sha256": _STR,
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "work_width": {"type": "integer", "minimum": 1},
        "work_height": {"type": "integer", "minimum": 1},
        "file_size": {"type": "integer", "minimum": 0},
        "mtime_ns": _INT,
    },
    {"orientation": {"type": ["integer", "null"], "minimum": 1, "maximum": 8}, "name": _STR},
)

OBJECT = _obj(
    {"id": {"type": "integer", "minimum": 1, "maximum": 255}, "name": _STR, "color": _COLOR},
    {"category": _STR},
)

PROMPT = _obj(
    {"id": _INT, "obj_id": {"type": "integer", "minimum": 1, "maximum": 255}, "view": _STR},
    {
        "points": {
            "type": ["array", "null"],
            "items": {"type": "array", "prefixItems": [_NUM, _NUM, {"enum": [0, 1]}], "minItems": 3, "maxItems": 3},
        },
        "box": {"type": ["array", "null"], "items": _NUM, "minItems": 4, "maxItems": 4},
        "mask": _OPT_STR,
        "candidate": {"type": ["integer", "null"], "minimum": 0, "maximum": 2},
        "created": _STR,
    },
)

REGISTRATION = _obj(
    {"view": _STR, "status": {"enum": ["reference", "registered", "unregistered"]}},
    {
        "H_ref_from_view": {
            "type": ["array", "null"],
            "items": {"type": "array", "items": _NUM, "minItems": 3, "maxItems": 3},
            "minItems": 3,
            "maxItems": 3,
        },
        "inliers": _INT,
        "reproj_error": _OPT_NUM,
        "overlap": _OPT_NUM,
        "method": _STR,
        "reason": _OPT_STR,
    },
)

CATEGORY = _obj(
    {"key": _STR, "color": _COLOR},
    {"label": _OPT_STR, "hatch": _STR, "description": _STR, "damage": {"type": "boolean"}},
)

PROJECT = _obj(
    {
        "format": _STR,
        "version": _INT,
        "views": {"type": "array", "items": VIEW, "minItems": 1},
        "order": _obj(
            {"mode": _STR, "views": {"type": "array", "items": _STR}},
            {"neighbour_scores": {"type": ["array", "null"], "items": _OPT_NUM}},
        ),
        "reference": _STR,
    },
    {
        "tool_version": _STR,
        "created": _STR,
        "photos_dir": _STR,
        "work_max_side": {"type": "integer", "minimum": 16},
        "objects": {"type": ["array", "null"], "items": OBJECT},
        "categories": {"type": ["array", "null"], "items": CATEGORY},
        "scale": {"oneOf": [{"type": "null"}, _obj({"px_per_cm": {"type": "number", "exclusiveMinimum": 0}})]},
        "prompts": {"type": ["array", "null"], "items": PROMPT},
        "registrations": {"type": ["array", "null"], "items": REGISTRATION},
        "sections": {"type": ["object", "null"]},
    },
)

_TYPE_WORDS = {
    "object": "an object {...}",
    "array": "a list [...]",
    "string": "a text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _where(path: Any) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the top level"


def first_problem(data: Any) -> str | None:
    """Where and how ``data`` (parsed ``project.json``) breaks :data:`PROJECT`; None if it fits.

    Returns:
        e.g. ``"prompts[2].obj_id (a text; expected an integer)"``.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(PROJECT)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if not errors:
        return None
    err = errors[0]
    while err.context:  # oneOf/anyOf: the most specific sub-error
        err = min(err.context, key=lambda e: -len(e.absolute_path))
    where = _where(err.absolute_path)
    if err.validator == "required":
        missing = [k for k in err.validator_value if not isinstance(err.instance, dict) or k not in err.instance]
        key = missing[0] if missing else "?"
        return f"{where + '.' if err.absolute_path else ''}{key} (missing)"
    if err.validator == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        expected = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)
        return f"{where} ({_kind(err.instance)}; expected {expected})"
    message = err.message if len(err.message) <= 80 else err.message[:77] + "..."
    return f"{where} ({message})"
