"""How a saved queue's `when` reads a custom field in SQL, from its field type's shape:
each registered type maps to one column kind, and a field whose types disagree across
ticket types cannot be tested in a queue."""

from __future__ import annotations

import pytest

from gongdan.bundle.compile_views import COLUMN_KINDS, column_kind
from gongdan.forms.fields import FIELD_TYPES

KINDS = {
    "attachment": "opaque",  # file ids: only `empty`
    "boolean": "boolean",
    "date": "date",
    "datetime": "opaque",  # UTC text does not sort exactly as the moments do
    "decimal": "opaque",  # stored as text, compared as numbers
    "email": "text",
    "integer": "number",
    "markdown": "text",
    "multiselect": "list",
    "number": "number",
    "phone": "text",
    "select": "text",
    "team": "text",
    "text": "text",
    "textarea": "text",
    "url": "text",
    "user": "text",
}


def test_every_type_has_an_expected_kind() -> None:
    assert set(KINDS) == set(FIELD_TYPES)


@pytest.mark.parametrize("type_name", sorted(KINDS))
def test_a_field_is_read_as_its_type_compares(type_name: str) -> None:
    kind = column_kind("amount", {"amount": {type_name}})
    assert kind == KINDS[type_name] and kind in COLUMN_KINDS


def test_a_field_of_different_kinds_in_different_types_cannot_be_read() -> None:
    assert column_kind("amount", {"amount": {"number", "text"}}) is None
    assert column_kind("amount", {"amount": {"text", "select"}}) == "text"
