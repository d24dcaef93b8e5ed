"""Reports shared by the REST API and the dashboard page: the query parameters that
narrow them, the words their group values are shown in, and their CSV.

Parameters: `from`, `to` (a date `2026-11-02`, `to` inclusive, or an ISO 8601 instant;
dates are days in the report zone, `engine.report_zone`: the bundle's default
calendar's, as the time buckets are), `period` (a preset, `PERIODS`, ignored when `from`/`to` are
given), `type`, `team`, `priority` (comma-separated or repeated) and `fields.<id>`
(repeat for any of several values). A bad value is a `ValidationFailed` naming its
parameter, never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from starlette.datastructures import QueryParams

from gongdan.engine import FieldFilter, ReportFilters, report_csv, row_words, value_text
from gongdan.errors import ValidationFailed

__all__ = [
    "PERIODS",
    "period_bounds",
    "report_csv",
    "report_filters",
    "row_words",
    "value_text",
]

# Presets of the dashboard's period: days back from today (in the report zone), or this month.
PERIODS = ("7d", "30d", "90d", "month", "all")
MAX_VALUES = 50  # values of one parameter


def _many(params: QueryParams, name: str) -> tuple[str, ...]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    if len(values) > MAX_VALUES:
        raise ValidationFailed(f"too many values of '{name}'", {name: "at most 50 values"})
    return tuple(dict.fromkeys(values))


def _instant(params: QueryParams, name: str, zone: tzinfo) -> datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if name == "to":  # `to` is inclusive
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' is not a date or an instant: '{raw[:40]}'",
            {name: "a date (2026-11-02) or an ISO 8601 instant"},
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def period_bounds(
    period: str, now: datetime, zone: tzinfo = UTC
) -> tuple[datetime | None, datetime | None]:
    """The [start, end) of a preset, in days of `zone`: `7d`, `30d`, `90d` (days back
    from tomorrow 00:00), `month` (this calendar month so far), `all` (no bounds)."""
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

    tomorrow = midnight(today + timedelta(days=1))
    if period == "month":
        return midnight(today.replace(day=1)), tomorrow
    if period == "all":
        return None, None
    return midnight(today + timedelta(days=1 - int(period.removesuffix("d")))), tomorrow


def report_filters(params: QueryParams, now: datetime, zone: tzinfo = UTC) -> ReportFilters:
    """The filters of the query string (see the module doc); dates are days of `zone`."""
    start, end = _instant(params, "from", zone), _instant(params, "to", zone)
    period = (params.get("period") or "").strip()
    if period and period not in PERIODS:
        raise ValidationFailed(
            f"unknown period '{period[:20]}'", {"period": f"one of: {', '.join(PERIODS)}"}
        )
    if period and start is None and end is None:
        start, end = period_bounds(period, now, zone)
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
