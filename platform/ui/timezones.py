"""Times as a reader sees them: in their own time zone (chosen on the account page), or
else in the zone of the bundle's default calendar (the first by id), always with the
zone named by its offset (`2026-11-02 17:00 UTC+8`). Times are stored in UTC; only
pages convert them (CONVENTIONS.md: "converted for display only")."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context

from gongdan.bundle.compiled import Bundle

__all__ = ["default_zone", "display_zone", "format_when", "when"]


def default_zone(bundle: Bundle | None) -> tzinfo:
    """The zone of the bundle's default calendar (the first by id), or UTC."""
    if bundle is None or not bundle.calendars:
        return UTC
    return bundle.calendars[min(bundle.calendars)].timezone


def display_zone(account: Any, bundle: Bundle | None) -> tzinfo:
    """The reader's own zone, else the default calendar's."""
    chosen = getattr(account, "timezone", "") or ""
    return ZoneInfo(chosen) if chosen else default_zone(bundle)


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_when(moment: datetime | None, zone: tzinfo = UTC, with_time: bool = True) -> str:
    """A stored (UTC) moment in `zone`: `2026-11-02 17:00 UTC+8`, or its date alone."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if not with_time:
        return local.strftime("%Y-%m-%d")
    return f"{local.strftime('%Y-%m-%d %H:%M')} {_offset(local)}"


@pass_context
def when(context: Context, moment: datetime | None, with_time: bool = True) -> str:
    """The `when` filter of every template: the moment in the reader's zone."""
    zone = display_zone(context.get("account"), context.get("bundle"))
    return format_when(moment, zone, with_time)
