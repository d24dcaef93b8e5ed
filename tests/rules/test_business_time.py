"""Tests of business-time arithmetic: working intervals, deadlines, elapsed time, explanations.

The cases computed by hand are tables in tests/fixtures/business_time/*.yaml. Property
tests compare the fast timeline with a slow reference written here from the definition
(walk the days, turn each wall-clock interval into real time, count).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gongdan.rules.business_time import (
    CountedInterval,
    business_deadline,
    business_seconds_between,
    explain_deadline,
    working_intervals,
)
from gongdan.rules.calendar import Calendar, compile_calendar
from gongdan.rules.durations import Duration, parse_duration

FIXTURES = Path(__file__).parent.parent / "fixtures" / "business_time"
CONFIG_CALENDARS = Path(__file__).parent.parent.parent / "config" / "sla" / "calendars.yaml"
ONE_SECOND = timedelta(seconds=1)


class FixtureLoader(yaml.SafeLoader):
    """YAML as the config loader reads it: dates and times stay text."""


FixtureLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=FixtureLoader)  # noqa: S506 - a SafeLoader subclass


def compiled(cal_id: str, raw: Mapping[str, Any]) -> Calendar:
    calendar, problems = compile_calendar(cal_id, raw)
    assert problems == [], f"{cal_id}: {problems}"
    assert calendar is not None
    return calendar


CALENDARS = {key: compiled(key, raw) for key, raw in load(FIXTURES / "calendars.yaml").items()}
DEADLINES = load(FIXTURES / "deadlines.yaml")["cases"]
BETWEEN = load(FIXTURES / "between.yaml")["cases"]
INTERVALS = load(FIXTURES / "intervals.yaml")["cases"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc(instant: datetime) -> datetime:
    """`instant` in UTC, to compare instants. Aware datetimes in one zone compare by wall
    clock (01:30 EDT == 01:30 EST in New York), and across zones an ambiguous local time
    is never == anything (PEP 495), so deadlines are compared in UTC."""
    return instant.astimezone(UTC)


# --- the tables ---------------------------------------------------------------------


@pytest.mark.parametrize("case", DEADLINES, ids=[case["name"] for case in DEADLINES])
def test_deadline(case: Mapping[str, Any]) -> None:
    calendar = CALENDARS[case["calendar"]]
    start, duration = moment(case["start"]), parse_duration(case["duration"])
    deadline = business_deadline(calendar, start, duration)
    assert deadline.isoformat() == case["deadline"]
    assert deadline.tzinfo is calendar.timezone
    # The target is met exactly at the deadline, and not one second earlier (in real
    # time: arithmetic on an aware datetime moves its wall clock).
    seconds = duration.total_seconds(calendar.working_day_seconds)
    assert business_seconds_between(calendar, start, deadline) == seconds
    just_before = deadline.astimezone(UTC) - ONE_SECOND
    assert business_seconds_between(calendar, start, just_before) == seconds - 1
    stretches = explain_deadline(calendar, start, duration)
    assert sum(stretch.seconds for stretch in stretches) == seconds
    assert utc(stretches[-1].end) == utc(deadline)
    if "explain" in case:
        assert [
            [
                stretch.day.isoformat(),
                stretch.start.isoformat(),
                stretch.end.isoformat(),
                stretch.seconds,
            ]
            for stretch in stretches
        ] == case["explain"]


@pytest.mark.parametrize("case", BETWEEN, ids=[case["name"] for case in BETWEEN])
def test_between(case: Mapping[str, Any]) -> None:
    calendar = CALENDARS[case["calendar"]]
    seconds = business_seconds_between(calendar, moment(case["start"]), moment(case["end"]))
    assert seconds == case["seconds"]


@pytest.mark.parametrize(
    "case", INTERVALS, ids=[f"{case['calendar']} {case['day']}" for case in INTERVALS]
)
def test_working_intervals(case: Mapping[str, Any]) -> None:
    intervals = working_intervals(CALENDARS[case["calendar"]], date.fromisoformat(case["day"]))
    assert [list(interval) for interval in intervals] == case["intervals"]


def test_the_fixture_copy_of_cn_business_is_the_shipped_calendar() -> None:
    with CONFIG_CALENDARS.open(encoding="utf-8") as stream:
        documents = list(yaml.load_all(stream, Loader=FixtureLoader))
    shipped = next(doc for doc in documents if doc and doc.get("id") == "cn_business")
    ours = CALENDARS["cn_business"]
    assert compiled("cn_business", shipped) == dataclasses.replace(ours, name=shipped["name"])


# --- edges ----------------------------------------------------------------------------


def test_a_zero_duration_is_the_start_itself() -> None:
    calendar = CALENDARS["nine_to_six"]
    start = moment("2026-03-14T10:00:00+00:00")  # a Saturday: outside hours
    assert utc(business_deadline(calendar, start, Duration())) == start
    assert business_deadline(calendar, start, Duration()).tzinfo is calendar.timezone
    assert explain_deadline(calendar, start, Duration()) == []


def test_a_naive_start_is_refused() -> None:
    calendar = CALENDARS["nine_to_six"]
    naive = datetime(2026, 3, 16, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        business_deadline(calendar, naive, Duration(seconds=60))
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(calendar, naive, naive + ONE_SECOND)


def test_a_calendar_without_working_time_gives_up() -> None:
    years = [f"{year}-01-01..{year}-12-31" for year in range(2026, 2031)]
    calendar = compiled(
        "never", {"timezone": "UTC", "hours": {"sat": ["09:00-10:00"]}, "holidays": years}
    )
    with pytest.raises(ValueError, match="no working time for three years"):
        business_deadline(calendar, moment("2026-01-01T00:00:00+00:00"), Duration(seconds=60))


def test_an_empty_week_gives_up() -> None:
    calendar = Calendar(
        id="empty",
        name="empty",
        timezone=ZoneInfo("UTC"),
        week=((),) * 7,
        holidays=frozenset(),
        workdays=frozenset(),
    )
    with pytest.raises(ValueError, match="no working time"):
        business_deadline(
            calendar, moment("2026-01-01T00:00:00+00:00"), Duration(days=1, seconds=1)
        )


def test_a_deadline_beyond_the_last_year_is_refused() -> None:
    calendar = CALENDARS["nine_to_six"]
    with pytest.raises(ValueError, match="within the years"):
        business_deadline(calendar, moment("2026-01-01T00:00:00+00:00"), Duration(days=10**9))


def test_a_hundred_years_is_exact() -> None:
    calendar = CALENDARS["cn_factory_24x7"]
    start = moment("2026-03-16T08:00:00+08:00")
    deadline = business_deadline(calendar, start, parse_duration("5214w2d"))  # 36,500 days
    assert utc(deadline) == utc(start) + timedelta(days=36_500)
    assert business_seconds_between(calendar, start, deadline) == 36_500 * 86_400


def test_starts_before_the_cached_years() -> None:
    calendar = compiled(
        "fresh", {"timezone": "Asia/Shanghai", "hours": {"mon-fri": ["09:00-18:00"]}}
    )
    later = moment("2026-03-13T17:30:00+08:00")
    assert business_deadline(calendar, later, parse_duration("4h")).isoformat() == (
        "2026-03-16T12:30:00+08:00"
    )
    earlier = moment("2019-03-15T17:30:00+08:00")  # also a Friday
    assert business_deadline(calendar, earlier, parse_duration("4h")).isoformat() == (
        "2019-03-18T12:30:00+08:00"
    )
    assert business_seconds_between(calendar, earlier, later) > 0
    assert business_deadline(calendar, later, parse_duration("4h")).isoformat() == (
        "2026-03-16T12:30:00+08:00"
    )


def test_a_timeline_spans_at_most_400_years() -> None:
    calendar = compiled(
        "span", {"timezone": "Asia/Shanghai", "hours": {"mon-fri": ["09:00-18:00"]}}
    )
    start = moment("2026-03-13T17:30:00+08:00")
    far = moment("2626-03-17T17:30:00+08:00")  # also a Friday
    with pytest.raises(ValueError, match="at most 400 years"):
        business_seconds_between(calendar, start, far)
    # Far apart queries each get a timeline of their own.
    for _ in range(2):
        for when, expected in (
            (start, "2026-03-16T12:30:00+08:00"),
            (far, "2626-03-20T12:30:00+08:00"),
        ):
            assert business_deadline(calendar, when, parse_duration("4h")).isoformat() == expected


def test_a_subdivision_the_package_does_not_know_is_a_problem() -> None:
    raw = {
        "timezone": "America/New_York",
        "hours": {"mon-fri": ["09:00-17:00"]},
        "public_holidays": {"country": "US", "subdivision": "CAL"},
    }
    calendar, problems = compile_calendar("bad", raw)
    assert calendar is None
    assert problems == [
        (
            ("public_holidays", "subdivision"),
            "country 'US' has no subdivision 'CAL' (did you mean 'CA'?)",
        )
    ]


def test_counted_intervals_are_values() -> None:
    stretch = CountedInterval(
        day=date(2026, 3, 16),
        start=moment("2026-03-16T09:00:00+08:00"),
        end=moment("2026-03-16T10:00:00+08:00"),
        seconds=3600,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        stretch.seconds = 1  # type: ignore[misc]


# --- properties, against a slow reference -----------------------------------------------


def reference_instant(zone: tzinfo, day: date, minute: int) -> datetime:
    """The first instant (UTC) at which the local clock reads `minute` past `day`'s midnight."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    real = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [instant for instant in real if instant.astimezone(zone).replace(tzinfo=None) == wall]
    if real:
        return min(real)
    instant = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # before the jump
    while instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    # Jumps need not fall on a whole minute of UTC (the right/ zones count leap seconds).
    while (instant - ONE_SECOND).astimezone(zone).replace(tzinfo=None) >= wall:
        instant -= ONE_SECOND
    return instant


def reference_intervals(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    day = start.astimezone(calendar.timezone).date() - timedelta(days=1)
    while True:
        for begin, end in working_intervals(calendar, day):
            first = reference_instant(calendar.timezone, day, begin)
            last = reference_instant(calendar.timezone, day, end)
            if last > first:
                yield first, last
        day += timedelta(days=1)


def reference_deadline(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    start = start.astimezone(UTC)  # so that adding is real time, not wall-clock time
    remaining = timedelta(seconds=seconds)
    for first, last in reference_intervals(calendar, start):
        begin = max(first, start)
        if last > begin:
            if last - begin >= remaining:
                return begin + remaining
            remaining -= last - begin
    raise AssertionError("unreachable")


def reference_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    start, end = utc(start), utc(end)
    total = timedelta()
    for first, last in reference_intervals(calendar, start):
        if first >= end:
            return int(total // ONE_SECOND)
        total += max(timedelta(), min(last, end) - max(first, start))
    raise AssertionError("unreachable")


def in_working_time(calendar: Calendar, instant: datetime) -> bool:
    """Whether `instant` is inside a working interval or at its very end."""
    for first, last in reference_intervals(calendar, instant.astimezone(UTC) - timedelta(days=2)):
        if first < utc(instant) <= last:
            return True
        if first >= utc(instant):
            return False
    raise AssertionError("unreachable")


PROPERTY_CALENDARS = [
    "nine_to_six",
    "cn_business",
    "cn_factory_24x7",
    "new_york",
    "new_york_24x7",
    "new_york_night",
    "new_york_odd_hours",
    "late_shift",
    "us_office",
    "cn_public",
]
calendars = st.sampled_from(PROPERTY_CALENDARS).map(CALENDARS.__getitem__)
starts = st.datetimes(
    min_value=datetime(2025, 10, 1),  # noqa: DTZ001 - hypothesis adds the zone
    max_value=datetime(2027, 3, 1),  # noqa: DTZ001
    timezones=st.timezones(),
)
# Starts near the DST changes of 2026 in New York, where the arithmetic is hardest.
dst_starts = st.sampled_from(["2026-03-07", "2026-03-08", "2026-10-31", "2026-11-01"]).flatmap(
    lambda day: st.integers(0, 2 * 86400).map(
        lambda offset: datetime.fromisoformat(f"{day}T00:00:00-05:00") + timedelta(seconds=offset)
    )
)
durations = st.builds(Duration, days=st.integers(0, 4), seconds=st.integers(0, 40 * 3600)).filter(
    lambda duration: duration != Duration()
)


@settings(max_examples=300, deadline=None)
@given(calendars, starts | dst_starts, durations)
def test_deadlines_agree_with_the_reference(
    calendar: Calendar, start: datetime, duration: Duration
) -> None:
    seconds = duration.total_seconds(calendar.working_day_seconds)
    deadline = business_deadline(calendar, start, duration)
    assert utc(deadline) == reference_deadline(calendar, start, seconds)
    assert deadline.tzinfo is calendar.timezone
    assert in_working_time(calendar, deadline)


@settings(max_examples=300, deadline=None)
@given(calendars, starts | dst_starts, durations)
def test_measuring_a_deadline_gives_back_the_duration(
    calendar: Calendar, start: datetime, duration: Duration
) -> None:
    seconds = duration.total_seconds(calendar.working_day_seconds)
    deadline = business_deadline(calendar, start, duration)
    assert business_seconds_between(calendar, start, deadline) == seconds
    stretches = explain_deadline(calendar, start, duration)
    assert sum(stretch.seconds for stretch in stretches) == seconds
    assert utc(stretches[0].start) >= utc(start)
    assert utc(stretches[-1].end) == utc(deadline)
    for stretch, following in pairwise(stretches):
        assert utc(stretch.start) < utc(stretch.end) <= utc(following.start)


@settings(max_examples=200, deadline=None)
@given(calendars, starts | dst_starts, durations, durations)
def test_deadlines_are_monotone_in_the_duration(
    calendar: Calendar, start: datetime, one: Duration, other: Duration
) -> None:
    day = calendar.working_day_seconds
    shorter, longer = sorted((one, other), key=lambda duration: duration.total_seconds(day))
    early = utc(business_deadline(calendar, start, shorter))
    late = utc(business_deadline(calendar, start, longer))
    assert early <= late
    if shorter.total_seconds(day) < longer.total_seconds(day):
        assert early < late


@settings(max_examples=300, deadline=None)
@given(calendars, starts | dst_starts, st.integers(0, 20 * 86400))
def test_between_agrees_with_the_reference(calendar: Calendar, start: datetime, span: int) -> None:
    end = start + timedelta(seconds=span, microseconds=span % 1_000_000)
    assert business_seconds_between(calendar, start, end) == reference_between(calendar, start, end)


@settings(max_examples=100, deadline=None)
@given(calendars, starts, starts)
def test_the_start_zone_does_not_matter(
    calendar: Calendar, start: datetime, zone_of: datetime
) -> None:
    elsewhere = start.astimezone(zone_of.tzinfo)
    duration = parse_duration("4h")
    assert business_deadline(calendar, elsewhere, duration).isoformat() == (
        business_deadline(calendar, start, duration).isoformat()
    )


@settings(max_examples=200, deadline=None)
@given(
    calendars,
    st.timezones(),
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.timezones(),
    ),
    durations,
)
def test_any_calendar_zone_agrees_with_the_reference(
    calendar: Calendar, zone: ZoneInfo, start: datetime, duration: Duration
) -> None:
    # Zones whose DST changes at midnight, by 30 minutes, or that skipped a whole day.
    calendar = dataclasses.replace(calendar, timezone=zone)
    seconds = duration.total_seconds(calendar.working_day_seconds)
    deadline = business_deadline(calendar, start, duration)
    assert utc(deadline) == reference_deadline(calendar, start, seconds)
    assert business_seconds_between(calendar, start, deadline) == seconds
