"""Date field types: date (YYYY-MM-DD) and datetime (a moment, stored in UTC)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from gongdan.rules.conditions import FieldInfo

from ..fields import FieldDef, FieldType, register_field_type
from ..shapes import FilterKind, ValueShape
from ._input import as_text, matching

__all__ = ["DateTimeType", "DateType"]

_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
_OFFSET = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"


@register_field_type
class DateType(FieldType):
    name = "date"
    template = "fields/date.html"
    shape = ValueShape(FilterKind.DATE)
    filter_operators = ("eq", "gt", "gte", "lt", "lte", "older_than", "newer_than", "empty")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date", "pattern": _DATE}

    def parse(self, field: FieldDef, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        text = matching(as_text(value).strip(), _DATE, "must be a date like 2026-03-01")
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"'{text}' is not a real date") from None

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("date")


@register_field_type
class DateTimeType(FieldType):
    """A moment in time, stored in UTC as "2026-03-01T08:00:00Z"; input needs an offset."""

    name = "datetime"
    template = "fields/datetime.html"
    # The widget is a datetime-local input (local time, no offset) and a hidden input
    # with the browser's UTC offset.
    companion_inputs = ("offset",)
    filter_operators = ("eq", "gt", "gte", "lt", "lte", "older_than", "newer_than", "empty")
    # Stored as UTC text, which matches but does not quite sort as the moments do
    # ("…:00Z" sorts after "…:00.5Z").
    shape = ValueShape(FilterKind.OPAQUE)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date-time", "pattern": _DATETIME}

    def parse(self, field: FieldDef, value: Any) -> Any:
        example = "like 2026-03-01T08:00:00Z or 2026-03-01T16:00:00+08:00"
        if isinstance(value, datetime):
            moment = value
        else:
            text = as_text(value).strip()
            if not re.fullmatch(_LOCAL_TIME + _OFFSET, text):
                if re.fullmatch(_LOCAL_TIME, text):
                    raise ValueError(f"needs a time zone, {example}")
                raise ValueError(f"must be a date and time {example}")
            try:
                moment = datetime.fromisoformat(text.upper())
            except ValueError:
                raise ValueError(f"'{text}' is not a real date and time") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"needs a time zone, {example}")
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None
        fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"

    def form_value(
        self, field: FieldDef, posted: Sequence[str] | None, companions: Mapping[str, str]
    ) -> Any:
        # The local time the person typed, plus the offset of their browser, unless
        # the text already says its zone.
        text = (posted[-1] if posted else "").strip()
        offset = companions.get("offset", "").strip()
        if not text or not offset:
            return text
        if text.endswith(("Z", "z")) or "+" in text[10:] or text[10:].count("-"):
            return text
        return text + offset

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("datetime")
