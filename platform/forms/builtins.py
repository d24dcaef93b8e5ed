"""The field types that show and read the built-in fields of every ticket in a form.

A form may place built-in fields (title, priority, team…) beside custom ones. They are
no custom fields — the ticket keeps them in columns of its own — but a form edits
each with a field type's widget, as it does a custom field. `builtin_field` describes
a built-in as a `FieldDef` of that type, so the UI asks the registry what to render
and how to read it instead of naming types itself.
"""

from __future__ import annotations

from types import MappingProxyType

from gongdan.vocabulary import BUILTIN_FIELDS, PRIORITIES

from .fields import FieldDef, FieldType, Option
from .types.choices import SelectType
from .types.references import TeamType, UserType
from .types.text import MarkdownType, TextType

__all__ = ["builtin_field"]

# The widget of each built-in a form may place; any other (state) shows as text.
_TYPES: dict[str, type[FieldType]] = {
    "assignee": UserType,
    "description": MarkdownType,
    "priority": SelectType,
    "requester": UserType,
    "tags": TextType,  # the tags as one text, separated by commas
    "team": TeamType,
    "title": TextType,
}
_PRIORITY_OPTIONS = tuple(Option(str(p), MappingProxyType({"en": str(p)})) for p in PRIORITIES)


def _define(field_id: str) -> FieldDef:
    return FieldDef(
        id=field_id,
        type=_TYPES.get(field_id, TextType).name,
        label=MappingProxyType({"en": field_id.capitalize()}),
        options=_PRIORITY_OPTIONS if field_id == "priority" else (),
    )


_DEFINED = {field_id: _define(field_id) for field_id in BUILTIN_FIELDS}


def builtin_field(field_id: str) -> FieldDef:
    """The FieldDef a form renders and reads the built-in field `field_id` with."""
    return _DEFINED.get(field_id) or _define(field_id)
