"""Reports shared by the REST API and the dashboard page: the query parameters that
narrow them, the words their group values are shown in, and their CSV.

Parameters: `from`, `to` (a date `2026-11-02`, `to` inclusive, or an ISO 8601 instant;
dates are UTC days), `period` (a preset, `PERIODS`, ignored when `from`/`to` are
given), `type`, `team`, `priority` (comma-separated or repeated) and `fields.<id>`
(repeat for any of several values). A bad value is a `ValidationFailed` naming its
parameter, never a 500.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from gongdan.bundle.compile_reports import GroupDef, ReportDef
from gongdan.bundle.compiled import Bundle
from gongdan.engine import FieldFilter, ReportFilters, ReportTable
from gongdan.errors import ValidationFailed
from gongdan.ui.i18n import localise, translate

__all__ = [
    "PERIODS",
    "period_bounds",
    "report_csv",
    "report_filters",
    "value_text",
]

# Presets of the dashboard's period: days back from today (UTC), or this month.
PERIODS = ("7d", "30d", "90d", "month", "all")
MAX_VALUES = 50  # values of one parameter


def _many(params: QueryParams, name: str) -> tuple[str, ...]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    if len(values) > MAX_VALUES:
        raise ValidationFailed(f"too many values of '{name}'", {name: "at most 50 values"})
    return tuple(dict.fromkeys(values))


def _instant(params: QueryParams, name: str) -> datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1) if name == "to" else start  # `to` is inclusive
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' is not a date or an instant: '{raw[:40]}'",
            {name: "a date (2026-11-02) or an ISO 8601 instant"},
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def period_bounds(period: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The [start, end) of a preset: `7d`, `30d`, `90d` (days back from tomorrow 00:00
    UTC), `month` (this calendar month so far), `all` (no bounds)."""
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    if period == "month":
        first = now.astimezone(UTC).date().replace(day=1)
        return datetime.combine(first, time(), UTC), tomorrow
    if period == "all":
        return None, None
    return tomorrow - timedelta(days=int(period.removesuffix("d"))), tomorrow


def report_filters(params: QueryParams, now: datetime) -> ReportFilters:
    """The filters of the query string (see the module doc)."""
    start, end = _instant(params, "from"), _instant(params, "to")
    period = (params.get("period") or "").strip()
    if period and period not in PERIODS:
        raise ValidationFailed(
            f"unknown period '{period[:20]}'", {"period": f"one of: {', '.join(PERIODS)}"}
        )
    if period and start is None and end is None:
        start, end = period_bounds(period, now)
    grouped: dict[str, list[str]] = {}
    for name, value in params.multi_items():
        if name.startswith("fields.") and value.strip():
            field = name.removeprefix("fields.")
            if not field or "." in field:
                raise ValidationFailed(f"'{name}' names no field", {name: "fields.<field id>"})
            grouped.setdefault(field, []).append(value.strip())
    fields = tuple(
        FieldFilter(f, "in", tuple(values)) if len(values) > 1 else FieldFilter(f, "eq", values[0])
        for f, values in grouped.items()
    )
    return ReportFilters(
        start=start,
        end=end,
        types=_many(params, "type"),
        teams=_many(params, "team"),
        priorities=_many(params, "priority"),
        fields=fields,
    )


def value_text(bundle: Bundle, report: ReportDef, group: GroupDef, value: Any, lang: str) -> str:
    """A group value in words: a type's, team's, policy's or option's label, a
    priority or state category from the catalogue; ids and dates as they are."""
    if value is None:
        return translate(lang, "reports.none")
    text = str(value)
    if group.kind == "builtin":
        if group.key == "type" and (kind := bundle.ticket_types.get(text)) is not None:
            return localise(kind.name, lang)
        if group.key == "team" and (team := bundle.teams.get(text)) is not None:
            return localise(team.name, lang)
        if group.key == "sla_policy" and (policy := bundle.sla_policy(text)) is not None:
            return localise(policy.name, lang) or text
        if group.key in ("priority", "state_category"):
            return translate(lang, f"{group.key}.{text}")
        if group.key == "state":
            for workflow in bundle.workflows.values():
                if (state := workflow.states.get(text)) is not None and state.label:
                    return localise(state.label, lang)
        return text
    if group.of_field:
        for type_id in report.types or tuple(bundle.ticket_types):
            field = bundle.ticket_types[type_id].field_map.get(group.key)
            for option in field.options if field is not None else ():
                if option.value == text:
                    return localise(option.label, lang)
    return text


def report_csv(bundle: Bundle, table: ReportTable, lang: str) -> bytes:
    """The report as CSV: UTF-8 with a BOM (so Excel reads Chinese right), a header
    row of column labels in `lang`, group values in words."""
    report = bundle.reports[table.id]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([localise(c.label, lang) for c in table.columns])
    writer.writerows(_worded(bundle, report, table.rows, lang))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _worded(
    bundle: Bundle, report: ReportDef, rows: Iterable[tuple[Any, ...]], lang: str
) -> Iterable[list[Any]]:
    for row in rows:
        *groups, value = row
        pairs = zip(report.group_by, groups, strict=True)
        words = [value_text(bundle, report, g, v, lang) for g, v in pairs]
        yield [*words, "" if value is None else value]
