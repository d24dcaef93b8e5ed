"""Times as a reader sees them, for pages and mails alike: in the reader's own zone, or
else the zone of the bundle's default calendar (the first by id), always with the zone
named by its offset (`2026-11-02 17:00 UTC+8`). Times are stored in UTC; only what a
person reads converts them."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gongdan.bundle.compiled import Bundle

__all__ = ["default_zone", "format_when", "reader_zone"]


def default_zone(bundle: Bundle | None) -> tzinfo:
    """The zone of the bundle's default calendar (the first by id), or UTC."""
    if bundle is None or not bundle.calendars:
        return UTC
    return bundle.calendars[min(bundle.calendars)].timezone


def reader_zone(chosen: str | None, bundle: Bundle | None) -> tzinfo:
    """The zone a reader chose (an IANA name), else the default calendar's."""
    if chosen:
        try:
            return ZoneInfo(chosen)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_zone(bundle)


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
