"""Business calendars: time zone, weekly working hours, holidays and make-up workdays.

`compile_calendar` turns a schema-valid `Calendar` document into an immutable
`Calendar` and reports what the schema cannot see (an unknown time zone, overlapping
intervals, a day given twice, a holiday range that runs backwards or a date that does
not exist). Business-time arithmetic (`business_time`) builds on this value.

Public holidays of a calendar with `public_holidays:` come from the `holidays` package,
looked up one year at a time when first needed and kept: `Calendar.public_days(2026)`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any

from gongdan.errors import did_you_mean

__all__ = [
    "WEEKDAYS",
    "Calendar",
    "CalendarProblem",
    "Interval",
    "PublicDays",
    "compile_calendar",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGE_DAYS = 366

Interval = tuple[int, int]  # minutes from midnight, end may be 1440 (24:00)
ProblemPath = tuple[str | int, ...]
CalendarProblem = tuple[ProblemPath, str]


@dataclass(frozen=True, slots=True)
class PublicDays:
    """One year of a country's public holidays, and its weekend days worked instead (调休)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


NO_PUBLIC_DAYS = PublicDays()


@dataclass(frozen=True, slots=True)
class Calendar:
    """When work happens: `week[0]` is Monday's working intervals, in local time."""

    id: str
    name: Any
    timezone: zoneinfo.ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date]
    workdays: frozenset[date]
    public_holidays: str | None = None
    subdivision: str | None = None
    # What other modules derive from the calendar and keep with it (business_time's
    # timeline of working intervals). Filled lazily, never part of the calendar's value.
    memo: dict[str, object] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @property
    def weekly_seconds(self) -> int:
        return sum((end - start) * 60 for day in self.week for start, end in day)

    @property
    def working_day_seconds(self) -> int:
        """One working day (`1d` in an SLA target): weekly hours / working weekdays."""
        days = sum(1 for day in self.week if day)
        return self.weekly_seconds // days if days else 0

    @property
    def makeup_day_hours(self) -> tuple[Interval, ...]:
        """Hours worked on a make-up workday (调休): those of the first working weekday."""
        return next((day for day in self.week if day), ())

    def public_days(self, year: int) -> PublicDays:
        """The public holidays (and weekend workdays) of the calendar's country in `year`."""
        if self.public_holidays is None:
            return NO_PUBLIC_DAYS
        return _public_days(self.public_holidays, self.subdivision, year)


@lru_cache(maxsize=512)
def _public_days(country: str, subdivision: str | None, year: int) -> PublicDays:
    import holidays as holiday_data

    found = holiday_data.country_holidays(country, subdiv=subdivision, years=year)
    # `weekend_workdays` may also hold other years' days: keep this year's only.
    return PublicDays(
        holidays=frozenset(day for day in found if day.year == year),
        workdays=frozenset(day for day in found.weekend_workdays if day.year == year),
    )


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _parse_clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_date(text: str, path: ProblemPath, problems: list[CalendarProblem]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((path, f"'{text}' is not a real date"))
        return None


def _compile_week(
    hours: Mapping[str, Any], problems: list[CalendarProblem]
) -> list[list[Interval]]:
    week: list[list[Interval]] = [[] for _ in WEEKDAYS]
    given: dict[int, str] = {}
    for spec, intervals in hours.items():
        first, _, last = spec.partition("-")
        start_day, end_day = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if end_day < start_day:
            problems.append((("hours", spec), f"day range '{spec}' runs backwards"))
            continue
        parsed: list[Interval] = []
        for index, text in enumerate(intervals):
            begin_text, end_text = text.split("-")
            begin, end = _parse_clock(begin_text), _parse_clock(end_text)
            if end <= begin:
                problems.append(
                    (("hours", spec, index), f"interval '{text}' ends before it starts")
                )
            else:
                parsed.append((begin, end))
        parsed.sort()
        for (_, end_a), (begin_b, _) in pairwise(parsed):
            if begin_b < end_a:
                problems.append((("hours", spec), "working intervals overlap"))
                break
        for day in range(start_day, end_day + 1):
            if day in given:
                problems.append(
                    (("hours", spec), f"{WEEKDAYS[day]} is already given by '{given[day]}'")
                )
                continue
            given[day] = spec
            week[day] = parsed
    return week


def _compile_holidays(raw: list[str], problems: list[CalendarProblem]) -> set[date]:
    days: set[date] = set()
    for index, text in enumerate(raw):
        first_text, _, last_text = text.partition("..")
        first = _parse_date(first_text, ("holidays", index), problems)
        last = _parse_date(last_text, ("holidays", index), problems) if last_text else first
        if first is None or last is None:
            continue
        if last < first:
            problems.append((("holidays", index), f"range '{text}' ends before it starts"))
            continue
        if (last - first).days >= MAX_RANGE_DAYS:
            problems.append((("holidays", index), f"range '{text}' is longer than a year"))
            continue
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return days


def _check_public_holidays(public: Mapping[str, Any]) -> list[CalendarProblem]:
    import holidays as holiday_data

    country, subdivision = public["country"], public.get("subdivision")
    supported = holiday_data.list_supported_countries()
    if country not in supported:
        return [
            (
                ("public_holidays", "country"),
                f"no public holidays known for country '{country}'"
                f"{did_you_mean(country, supported)}",
            )
        ]
    if subdivision is None:
        return []
    try:  # the package also accepts aliases of subdivision codes: ask it
        holiday_data.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        return [
            (
                ("public_holidays", "subdivision"),
                f"country '{country}' has no subdivision '{subdivision}'"
                f"{did_you_mean(subdivision, supported[country])}",
            )
        ]
    return []


def compile_calendar(
    cal_id: str, raw: Mapping[str, Any]
) -> tuple[Calendar | None, list[CalendarProblem]]:
    """Compile a schema-valid Calendar document; problems carry their document path."""
    problems: list[CalendarProblem] = []
    tz_name = str(raw["timezone"])
    timezone: zoneinfo.ZoneInfo | None = None
    if tz_name in _zones():
        timezone = zoneinfo.ZoneInfo(tz_name)
    else:
        problems.append(
            (("timezone",), f"unknown time zone '{tz_name}'{did_you_mean(tz_name, _zones())}")
        )
    week = _compile_week(raw["hours"], problems)
    if not any(week):
        problems.append((("hours",), "the calendar has no working hours at all"))
    holidays = _compile_holidays(list(raw.get("holidays", ())), problems)
    workdays: set[date] = set()
    for index, text in enumerate(raw.get("workdays", ())):
        day = _parse_date(text, ("workdays", index), problems)
        if day is None:
            continue
        if day in holidays:
            problems.append((("workdays", index), f"{text} is also listed as a holiday"))
        workdays.add(day)
    public = raw.get("public_holidays") or {}
    if public:
        problems.extend(_check_public_holidays(public))
    if problems or timezone is None:
        return None, problems
    calendar = Calendar(
        id=cal_id,
        name=raw.get("name", cal_id),
        timezone=timezone,
        week=tuple(tuple(day) for day in week),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        public_holidays=public.get("country"),
        subdivision=public.get("subdivision"),
    )
    return calendar, problems
