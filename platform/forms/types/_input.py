"""Input parsing shared by the field-type families: form text and API JSON alike."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EMAIL", "as_choice", "as_email", "as_items", "as_text", "matching", "unique"]

# Our own format patterns are written in the syntax RE2, Python and ECMA-262 share, so
# the same text checks input here and goes into the published JSON Schema.
EMAIL = r"^[^@\s]{1,64}@[^@\s.]{1,63}(\.[^@\s.]{1,63})+$"


def as_text(value: Any) -> str:
    """The value when it is text; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def as_items(value: Any) -> list[Any]:
    """The values of a multi-valued field, empties dropped.

    A form posts one value as a plain string and several as a list, often with an empty
    hidden input so that "nothing selected" is posted at all.
    """
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [item for item in items if not (item is None or str(item).strip() == "")]


def unique(items: list[Any]) -> list[Any] | None:
    """The items without repeats, in first-seen order; None when there are none."""
    return list(dict.fromkeys(items)) or None


def matching(value: str, pattern: str, message: str) -> str:
    """The value when the whole of it matches `pattern`; ValueError(message) otherwise."""
    if not re.fullmatch(pattern, value):
        raise ValueError(message)
    return value


def as_choice(value: Any) -> str:
    """An option value or id: text, or a whole number from JSON taken as its text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return as_text(value).strip()


def as_email(value: Any) -> str:
    """An email address, its domain in lower case."""
    text = matching(as_text(value).strip(), EMAIL, "is not a valid email address")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"
