"""`gongdan sla deadline` and `gongdan sla between`: check a calendar from the shell.

    gongdan sla deadline --calendar cn_business --start 2026-09-30T17:00+08:00 --duration 4h
    2026-10-08T12:00:00+08:00

    gongdan sla between --calendar cn_business --start 2026-10-09T09:00+08:00 \\
        --end 2026-10-09T18:00+08:00
    27000 business seconds (7h30m) on cn_business

`deadline` prints the instant in ISO 8601 with the calendar's UTC offset; `between`
prints the whole number of business seconds first on its line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from gongdan.bundle.loader import load_bundle
from gongdan.errors import ConfigError, did_you_mean
from gongdan.rules.business_time import business_deadline, business_seconds_between
from gongdan.rules.calendar import Calendar
from gongdan.rules.durations import Duration, parse_duration

__all__ = ["add_sla_commands"]


def _calendar(args: argparse.Namespace) -> Calendar:
    try:
        bundle = load_bundle(args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        raise SystemExit(1) from None
    if args.calendar not in bundle.calendars:
        hint = did_you_mean(args.calendar, bundle.calendars)
        print(f"gongdan sla: no calendar '{args.calendar}' in {args.config}{hint}", file=sys.stderr)
        raise SystemExit(1)
    return bundle.calendars[args.calendar]


def _instant(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        print(
            f"gongdan sla: --{what} '{text}' is not an ISO 8601 instant "
            "(like 2026-10-09T09:00+08:00)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    if value.tzinfo is None:
        print(
            f"gongdan sla: --{what} '{text}' needs a UTC offset (like +08:00 or Z)", file=sys.stderr
        )
        raise SystemExit(1)
    return value


def cmd_deadline(args: argparse.Namespace) -> int:
    calendar = _calendar(args)
    start = _instant(args.start, "start")
    try:
        duration = parse_duration(args.duration)
        deadline = business_deadline(calendar, start, duration)
    except ValueError as error:
        print(f"gongdan sla deadline: {error}", file=sys.stderr)
        return 1
    print(deadline.isoformat())
    return 0


def cmd_between(args: argparse.Namespace) -> int:
    calendar = _calendar(args)
    start, end = _instant(args.start, "start"), _instant(args.end, "end")
    seconds = business_seconds_between(calendar, start, end)
    spoken = str(Duration(seconds=seconds)) if seconds else "0s"
    print(f"{seconds} business seconds ({spoken}) on {calendar.id}")
    return 0


def add_sla_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `sla deadline` and `sla between`; returns the leaf parsers."""
    sla = commands.add_parser("sla", help="check a business calendar")
    sla_commands = sla.add_subparsers(dest="sla_command", required=True)
    deadline = sla_commands.add_parser("deadline", help="when a business duration has elapsed")
    deadline.add_argument("--calendar", required=True)
    deadline.add_argument("--start", required=True, help="ISO 8601 with offset")
    deadline.add_argument("--duration", required=True, help="30m, 4h, 3d, 1d4h")
    deadline.set_defaults(handler=cmd_deadline)
    between = sla_commands.add_parser("between", help="business seconds between two instants")
    between.add_argument("--calendar", required=True)
    between.add_argument("--start", required=True)
    between.add_argument("--end", required=True)
    between.set_defaults(handler=cmd_between)
    return [deadline, between]
