"""The keys of a raw field mapping: which exist, what each must look like, and the
problems `check_field` reports, every one at once with its path inside the mapping.

Keys every field takes are `COMMON_KEYS`; those only some types take are
`PARAM_NAMES` (a type lists its own in `FieldType.allowed_params`). What depends on a
type (a default that is not a valid value, a type's own param rules) is checked by the
type (`gongdan.forms.fields.FieldType.check`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gongdan.errors import did_you_mean

from .patterns import compile_pattern

__all__ = [
    "COMMON_KEYS",
    "KEY_CHECKS",
    "PARAM_NAMES",
    "FieldProblem",
    "option_problems",
]

# Keys every field may have, whatever its type.
COMMON_KEYS = frozenset(
    {"default", "help", "id", "internal", "label", "placeholder", "readonly_in", "required"}
    | {"required_if", "type", "visible_if"}
)
# Keys that only some types accept (`FieldType.allowed_params`).
PARAM_NAMES = frozenset(
    {"accept", "max", "max_length", "max_size_mb", "min", "min_length", "multiple", "options"}
    | {"pattern", "role", "scale"}
)
_ACCEPT_ENTRY = re.compile(r"\.[A-Za-z0-9]{1,16}|[a-z]{1,32}/(\*|[A-Za-z0-9.+-]{1,64})")
_MAX_SCALE = 12


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem in a raw field mapping; `path` is relative to that mapping."""

    path: tuple[str | int, ...]
    message: str
    severity: Literal["error", "warning"] = "error"


def _label_problem(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    if (
        isinstance(value, dict | Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return None
    return "must be text or a map of locales to text, like {en: Category, zh-CN: 类别}"


def _number_problem(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok else "must be a number"


def _length_problem(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "must be a whole number, 0 or more"


def _pattern_problem(value: Any) -> str | None:
    try:
        compile_pattern(value)
    except ValueError as error:
        return str(error)
    return None


def _bool_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _size_problem(value: Any) -> str | None:
    ok = _number_problem(value) is None and value > 0
    return None if ok else "must be a number of megabytes greater than 0"


def _accept_problem(value: Any) -> str | None:
    entries = value.split(",") if isinstance(value, str) else value
    if (
        isinstance(entries, list)
        and entries
        and all(isinstance(e, str) and _ACCEPT_ENTRY.fullmatch(e.strip()) for e in entries)
    ):
        return None
    return "must list file types, like [.pdf, image/*, application/zip]"


def _scale_problem(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_SCALE
    return None if ok else f"must be a whole number from 0 to {_MAX_SCALE}"


def _string_list_problem(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else "must be a list of state ids"


# What each key must look like (a message, or None when it is fine); `options` and
# `default` need the whole field.
KEY_CHECKS: Mapping[str, Callable[[Any], str | None]] = {
    "accept": _accept_problem,
    "help": _label_problem,
    "internal": _bool_problem,
    "label": _label_problem,
    "max": _number_problem,
    "max_length": _length_problem,
    "max_size_mb": _size_problem,
    "min": _number_problem,
    "min_length": _length_problem,
    "multiple": _bool_problem,
    "pattern": _pattern_problem,
    "placeholder": _label_problem,
    "readonly_in": _string_list_problem,
    "required": _bool_problem,
    "scale": _scale_problem,
}


def option_problems(raw: Mapping[str, Any], type_name: str) -> Iterator[FieldProblem]:
    """The problems of the `options` of a field of a type that takes them."""
    options = raw.get("options")
    if not isinstance(options, list) or not options:
        yield FieldProblem(("options",), f"a {type_name} field needs a non-empty list of options")
        return
    seen: set[str] = set()
    for index, option in enumerate(options):
        value = option.get("value") if isinstance(option, Mapping) else option
        if isinstance(option, Mapping):
            for key in option:
                if key not in ("value", "label"):
                    hint = did_you_mean(str(key), ["value", "label"])
                    yield FieldProblem(("options", index, key), f"unknown key{hint}")
            if "label" in option and (problem := _label_problem(option["label"])):
                yield FieldProblem(("options", index, "label"), problem)
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            yield FieldProblem(("options", index), "an option needs a value that is text")
        elif str(value) in seen:
            yield FieldProblem(("options", index), f"duplicate option '{value}'")
        else:
            seen.add(str(value))
