"""Choice field types: boolean, select and multiselect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from gongdan.rules.conditions import FieldInfo

from ..fields import FieldDef, FieldType, register_field_type
from ..shapes import FilterKind, Many, Shown, ValueShape
from ._input import as_choice, as_items, unique

__all__ = ["BooleanType", "MultiselectType", "SelectType"]

_TRUE = frozenset({"1", "checked", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "n", "no", "off"})


@register_field_type
class BooleanType(FieldType):
    name = "boolean"
    template = "fields/boolean.html"
    shape = ValueShape(FilterKind.BOOLEAN)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "boolean"}

    def coerce(self, field: FieldDef, value: Any) -> Any:
        # An unticked checkbox arrives as "" (or "false" from a hidden input): that is
        # an answer, False, not an absent value.
        if isinstance(value, str) and not value.strip():
            return False
        return super().coerce(field, value)

    def parse(self, field: FieldDef, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        word = value.strip().lower() if isinstance(value, str) else None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("must be yes or no")

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("boolean")

    def display(self, field: FieldDef, value: Any) -> tuple[Shown, ...]:
        return () if value is None else (Shown(str(value), answer=bool(value)),)

    def form_value(
        self, field: FieldDef, posted: Sequence[str] | None, companions: Mapping[str, str]
    ) -> Any:
        # An unticked checkbox posts nothing at all: that is an empty answer, not an
        # absent field.
        return posted[-1] if posted else None


@register_field_type
class SelectType(FieldType):
    name = "select"
    template = "fields/select.html"
    allowed_params = frozenset({"options"})
    filter_operators: ClassVar[tuple[str, ...]] = ("eq", "ne", "in", "not_in", "empty")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "enum": [option.value for option in field.options]}

    def parse(self, field: FieldDef, value: Any) -> Any:
        return as_choice(value)

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("string", frozenset(option.value for option in field.options))

    def display(self, field: FieldDef, value: Any) -> tuple[Shown, ...]:
        labels = {option.value: option.label for option in field.options}
        return tuple(
            Shown(item.value, label=labels.get(item.value))
            for item in super().display(field, value)
        )


@register_field_type
class MultiselectType(SelectType):
    name = "multiselect"
    template = "fields/multiselect.html"
    filter_operators = ("contains", "empty")
    shape = ValueShape(many=Many.ALWAYS)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "array", "items": super().json_schema(field), "uniqueItems": True}

    def parse(self, field: FieldDef, value: Any) -> Any:
        return unique([as_choice(item) for item in as_items(value)])

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("list", frozenset(option.value for option in field.options))
