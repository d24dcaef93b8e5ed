"""Times as a reader sees them on pages: in their own time zone (chosen on the account
page), or else in the zone of the bundle's default calendar, with the zone named
(`bundle.zones`, shared with the mails). Times are stored in UTC; only what a person
reads converts them (CONVENTIONS.md: "converted for display only")."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.zones import default_zone, format_when, reader_zone

__all__ = ["default_zone", "display_zone", "format_when", "when"]


def display_zone(account: Any, bundle: Bundle | None) -> tzinfo:
    """The reader's own zone, else the default calendar's."""
    return reader_zone(getattr(account, "timezone", "") or "", bundle)


@pass_context
def when(context: Context, moment: datetime | None, with_time: bool = True) -> str:
    """The `when` filter of every template: the moment in the reader's zone."""
    zone = display_zone(context.get("account"), context.get("bundle"))
    return format_when(moment, zone, with_time)
