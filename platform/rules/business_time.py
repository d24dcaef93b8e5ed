"""Business-time arithmetic on SLA calendars: deadlines, elapsed business time and why.

Pure: no I/O and no clock; every instant is a parameter (an aware `datetime`, any zone).

How wall-clock hours become real time. A local time `w` on a date is the first instant
at which the calendar's clock reads `w` or later: a time repeated when DST ends is its
first occurrence, a time skipped when DST starts is the instant of the jump. Each
working interval is therefore one stretch of real time and counts its real length:
00:00-24:00 is 23 h on the spring-forward day and 25 h on the fall-back day, and a day
ending at 24:00 chains seamlessly into a next day starting at 00:00.

Why it is fast. Each calendar lazily builds a *timeline* for whole local years: every
working interval as POSIX seconds (start, end) and the running total of business
seconds at its end. Measuring is a binary search; a deadline is two. Years are added
as queries reach them, and positions already given never change. The timeline is kept
in `Calendar.memo` as an immutable snapshot swapped in whole, so concurrent readers
never see a half-built one.

Instants carry microseconds: inside a working interval they count, outside they do
not (a start at 07:59:59.5 begins at 09:00:00 sharp).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import accumulate
from typing import NamedTuple

from gongdan.rules.calendar import Calendar, Interval
from gongdan.rules.durations import Duration

__all__ = [
    "MAX_IDLE_SECONDS",
    "MAX_SPAN_YEARS",
    "CountedInterval",
    "business_deadline",
    "business_seconds_between",
    "explain_deadline",
    "working_intervals",
]

MAX_IDLE_SECONDS = 3 * 366 * 86400  # no working time for this long: give up on a deadline
MAX_SPAN_YEARS = 400  # the most local years one timeline holds (~30 MB for an office)
MAX_YEAR = 9998  # the last local year a timeline covers (it ends on 9999-01-01)
MIN_YEAR = 2  # year 1 begins, in zones east of UTC, before datetime can show it
YEAR_BOUND_SECONDS = 367 * 86400  # more than any local year lasts, DST changes and all

_MEMO_KEY = "business_time.timeline"
_MICRO = 1_000_000
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CountedInterval:
    """One stretch of working time counted towards a deadline.

    `seconds` is what the stretch adds to the count of whole business seconds since the
    start, so a deadline's stretches add up to its duration exactly.
    """

    day: date  # the calendar's local date whose working hours these are
    start: datetime
    end: datetime
    seconds: int


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Working intervals of local years [first_year, end_year) as POSIX seconds."""

    first_year: int
    end_year: int
    lo: int  # the instant local `first_year`-01-01 00:00 begins
    hi: int  # the instant local `end_year`-01-01 00:00 begins
    starts: list[int]
    ends: list[int]
    totals: list[int]  # business seconds counted at each interval's end
    days: list[date]
    at_lo: int  # business seconds counted at `lo` (and at `hi`, below)
    at_hi: int
    day_seconds: int  # `1d` of an SLA target on this calendar


@dataclass(frozen=True, slots=True)
class _Block:
    starts: list[int]
    ends: list[int]
    days: list[date]


def working_intervals(calendar: Calendar, day: date) -> tuple[Interval, ...]:
    """The local working intervals (minutes from midnight, end up to 1440) of `day`.

    A make-up workday listed in the calendar is worked with `makeup_day_hours`, even on
    a holiday; a listed holiday or a public holiday is not worked; a weekend day the
    public-holiday data says is worked (调休) has `makeup_day_hours`; any other day has
    its weekday's hours.
    """
    if day in calendar.workdays:
        return calendar.makeup_day_hours
    if day in calendar.holidays:
        return ()
    public = calendar.public_days(day.year)
    if day in public.holidays:
        return ()
    if day in public.workdays:
        return calendar.makeup_day_hours
    return calendar.week[day.weekday()]


def business_deadline(calendar: Calendar, start: datetime, duration: Duration) -> datetime:
    """The earliest instant at which `duration` of business time has elapsed from `start`.

    `duration.days` are working days of the calendar (`working_day_seconds` each). A
    deadline may fall at the very end of a working interval; a start outside working
    hours begins at the next interval. The result is in the calendar's time zone; a zero
    duration gives `start` itself. Raises `ValueError` for a naive `start`, or when the
    calendar has no working time for three years before the deadline is reached.

    Compare results as instants in UTC: Python compares two datetimes of one zone by
    their wall clocks, and an ambiguous local time is never == one of another zone.
    """
    run = _run(calendar, start, duration)
    if run is None:
        return start.astimezone(calendar.timezone)
    timeline, last = run.timeline, run.last
    moment = timeline.ends[last] - (timeline.totals[last] - run.target)
    return _as_datetime(moment, run.carry, calendar.timezone)


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Whole seconds of business time in [start, end); 0 when `end` is not after `start`."""
    first, first_micro = _instant(start)
    last, last_micro = _instant(end)
    if (last, last_micro) <= (first, first_micro):
        return 0
    timeline = _cover(calendar, first, last)
    _, begin, begin_inside = _locate_instant(timeline, first)
    _, finish, finish_inside = _locate_instant(timeline, last)
    micros = (finish - begin) * _MICRO
    micros += (last_micro if finish_inside else 0) - (first_micro if begin_inside else 0)
    return max(0, micros // _MICRO)


def explain_deadline(
    calendar: Calendar, start: datetime, duration: Duration
) -> list[CountedInterval]:
    """The stretches of working time counted from `start` to the deadline, in order.

    The first begins at `start` (or the next interval), the last ends at the deadline.
    """
    run = _run(calendar, start, duration)
    if run is None:
        return []
    timeline, zone = run.timeline, calendar.timezone
    stretches: list[CountedInterval] = []
    counted = 0
    for index in range(run.first, run.last + 1):
        begin, begin_micro = timeline.starts[index], 0
        if index == run.first and run.inside:
            begin, begin_micro = run.instant, run.micro
        end, end_micro = timeline.ends[index], 0
        # Whole seconds counted at this stretch's end: the start's microseconds make the
        # count tick over just before each interval's end.
        upto = timeline.totals[index] - run.position - (1 if run.carry else 0)
        if index == run.last:
            end, end_micro = end - (timeline.totals[index] - run.target), run.carry
            upto = run.target - run.position
        stretches.append(
            CountedInterval(
                day=timeline.days[index],
                start=_as_datetime(begin, begin_micro, zone),
                end=_as_datetime(end, end_micro, zone),
                seconds=upto - counted,
            )
        )
        counted = upto
    return stretches


class _Run(NamedTuple):
    """Where a deadline computation starts and ends on a timeline."""

    timeline: _Timeline
    instant: int  # the start, in POSIX seconds
    micro: int  # and its microseconds
    inside: bool  # whether the start is inside a working interval
    carry: int  # the microseconds carried to the deadline (those of a start inside)
    first: int  # the first interval counted
    position: int  # business seconds counted at the start
    target: int  # business seconds counted at the deadline
    last: int  # the interval the deadline falls in


def _run(calendar: Calendar, start: datetime, duration: Duration) -> _Run | None:
    """Locate the start and the deadline; None for a zero duration."""
    instant, micro = _instant(start)
    timeline = _cover(calendar, instant, instant)
    seconds = duration.days * timeline.day_seconds + duration.seconds
    if seconds <= 0:
        return None
    first, position, inside = _locate_instant(timeline, instant)
    carry = micro if inside else 0
    if position + seconds >= timeline.at_hi:  # the deadline may lie beyond the timeline
        timeline = _reach(calendar, timeline, instant, seconds, carry > 0)
        first, position, inside = _locate_instant(timeline, instant)
    target = position + seconds
    last = _locate_position(timeline, target, carry > 0)
    return _Run(timeline, instant, micro, inside, carry, first, position, target, last)


def _instant(moment: datetime) -> tuple[int, int]:
    """POSIX whole seconds and microseconds of an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError(f"business time needs an aware datetime, got naive {moment}")
    micro = moment.microsecond
    # The float is exact to well under a microsecond here, so rounding is exact.
    return round(moment.timestamp() - micro / _MICRO), micro


def _as_datetime(instant: int, micro: int, zone: tzinfo) -> datetime:
    moment = datetime.fromtimestamp(instant, zone)
    return moment.replace(microsecond=micro) if micro else moment


def _locate_instant(timeline: _Timeline, instant: int) -> tuple[int, int, bool]:
    """The first interval ending after `instant`, business seconds counted at it, and
    whether it is inside that interval."""
    index = bisect_right(timeline.ends, instant)
    if index == len(timeline.ends):
        return index, timeline.at_hi, False
    begin, end = timeline.starts[index], timeline.ends[index]
    if instant < begin:
        return index, timeline.totals[index] - (end - begin), False
    return index, timeline.totals[index] - (end - instant), True


def _locate_position(timeline: _Timeline, target: int, strict: bool) -> int:
    """The interval in which the count reaches `target` (passes it, when `strict`)."""
    if strict:
        return bisect_right(timeline.totals, target)
    return bisect_left(timeline.totals, target)


def _cover(calendar: Calendar, earliest: int, latest: int, end_year: int = 0) -> _Timeline:
    """The calendar's timeline, covering both instants and the local years before
    `end_year`: the one kept in the memo, grown or started afresh as needed.

    Callers use the snapshot returned, never the memo again: another thread may swap in
    a snapshot grown elsewhere, which would not cover their instants.
    """
    kept = calendar.memo.get(_MEMO_KEY)
    timeline = kept if isinstance(kept, _Timeline) else None
    if (
        timeline is not None
        and timeline.lo <= earliest
        and latest < timeline.hi
        and end_year <= timeline.end_year
    ):
        return timeline
    first = _local_year(calendar, earliest)
    end = max(_local_year(calendar, latest) + 1, end_year)
    while True:
        timeline = _widened(calendar, timeline, first, end)
        # Where the clock goes back over midnight, a year's first instants read the year
        # before: add a year.
        if earliest < timeline.lo:
            first -= 1
        elif latest >= timeline.hi:
            end += 1
        else:
            break
    calendar.memo[_MEMO_KEY] = timeline
    return timeline


def _reach(
    calendar: Calendar, timeline: _Timeline, instant: int, seconds: int, strict: bool
) -> _Timeline:
    """A timeline covering `instant` and long enough to count `seconds` of business time
    from it (and a moment more, when `strict`)."""
    while True:
        missing = _locate_instant(timeline, instant)[1] + seconds - timeline.at_hi
        if missing < 0 or (missing == 0 and not strict):
            return timeline
        last_work = max(instant, timeline.ends[-1] if timeline.ends else timeline.lo)
        if timeline.hi - last_work > MAX_IDLE_SECONDS:
            raise ValueError(
                f"calendar '{calendar.id}' has no working time for three years after "
                f"{_as_datetime(last_work, 0, calendar.timezone).isoformat()}"
            )
        if missing > (MAX_YEAR + 1 - timeline.end_year) * YEAR_BOUND_SECONDS:
            raise ValueError(_out_of_years(calendar))
        # Grow by as many years as the weekly hours suggest, so that a long duration
        # builds its years in one go.
        weekly = calendar.weekly_seconds
        years = max(1, missing // (weekly * 52)) if weekly else 1
        end_year = min(timeline.end_year + years, MAX_YEAR + 1)
        timeline = _cover(calendar, instant, instant, end_year)


def _out_of_years(calendar: Calendar) -> str:
    return (
        f"calendar '{calendar.id}': business time is counted only within the years "
        f"{MIN_YEAR}-{MAX_YEAR}"
    )


def _widened(
    calendar: Calendar, timeline: _Timeline | None, first_year: int, end_year: int
) -> _Timeline:
    """A timeline covering local years [first_year, end_year): `timeline` grown, or a
    fresh one if growing it would make it longer than `MAX_SPAN_YEARS`."""
    if end_year - first_year > MAX_SPAN_YEARS:
        raise ValueError(
            f"calendar '{calendar.id}': business time is counted over at most "
            f"{MAX_SPAN_YEARS} years at once"
        )
    if timeline is not None:
        wide_first = min(first_year, timeline.first_year)
        wide_end = max(end_year, timeline.end_year)
        if wide_end - wide_first <= MAX_SPAN_YEARS:
            return _grow(calendar, timeline, wide_first, wide_end)
    return _grow(calendar, None, first_year, end_year)


def _local_year(calendar: Calendar, instant: int) -> int:
    try:
        return datetime.fromtimestamp(instant, calendar.timezone).year
    except (OverflowError, OSError, ValueError) as error:
        raise ValueError(f"instant {instant} is outside the years calendars cover") from error


def _grow(
    calendar: Calendar, timeline: _Timeline | None, first_year: int, end_year: int
) -> _Timeline:
    """A timeline for local years [first_year, end_year), reusing what `timeline` has."""
    if first_year < MIN_YEAR or end_year > MAX_YEAR + 1:
        raise ValueError(_out_of_years(calendar))
    if timeline is None:
        return _assemble(calendar, first_year, end_year, _build(calendar, first_year, end_year), 0)
    before = _build(calendar, first_year, timeline.first_year)
    after = _build(calendar, timeline.end_year, end_year)
    joined = _Block(
        starts=before.starts + timeline.starts + after.starts,
        ends=before.ends + timeline.ends + after.ends,
        days=before.days + timeline.days + after.days,
    )
    # Years added before start counting below the old origin, so the old intervals keep
    # their totals and positions already handed out stay valid.
    before_seconds = sum(end - begin for begin, end in zip(before.starts, before.ends, strict=True))
    return _assemble(calendar, first_year, end_year, joined, timeline.at_lo - before_seconds)


def _assemble(
    calendar: Calendar, first_year: int, end_year: int, block: _Block, at_lo: int
) -> _Timeline:
    lengths = (end - begin for begin, end in zip(block.starts, block.ends, strict=True))
    totals = list(accumulate(lengths, initial=at_lo))
    zone = calendar.timezone
    return _Timeline(
        first_year=first_year,
        end_year=end_year,
        lo=_wall_instant(zone, date(first_year, 1, 1), 0),
        hi=_wall_instant(zone, date(end_year, 1, 1), 0),
        starts=block.starts,
        ends=block.ends,
        totals=totals[1:],
        days=block.days,
        at_lo=at_lo,
        at_hi=totals[-1],
        day_seconds=calendar.working_day_seconds,
    )


def _build(calendar: Calendar, first_year: int, end_year: int) -> _Block:
    """The working intervals of local years [first_year, end_year), in order."""
    block = _Block(starts=[], ends=[], days=[])
    if first_year >= end_year:
        return block
    zone = calendar.timezone
    day, stop = date(first_year, 1, 1), date(end_year, 1, 1)
    while day < stop:
        for begin_minute, end_minute in working_intervals(calendar, day):
            begin = _wall_instant(zone, day, begin_minute)
            end = _wall_instant(zone, day, end_minute)
            if end > begin:  # a stretch wholly inside a DST gap lasts no time at all
                block.starts.append(begin)
                block.ends.append(end)
                block.days.append(day)
        day += _ONE_DAY
    return block


def _wall_instant(zone: tzinfo, day: date, minute: int) -> int:
    """The first instant at which the local clock reads `minute` past `day`'s midnight."""
    wall = datetime.combine(day, time(), zone) + timedelta(minutes=minute)
    # An aware datetime with fold=0 is the first occurrence of a repeated local time, and
    # for a skipped one uses the offset before the jump, landing after it.
    instant = int(wall.timestamp())
    local = wall.replace(tzinfo=None)
    if datetime.fromtimestamp(instant, zone).replace(tzinfo=None) == local:
        return instant
    return _jump_over(zone, local, instant)


def _jump_over(zone: tzinfo, local: datetime, after: int) -> int:
    """The instant the clock jumps over the skipped local time `local`: binary search
    between a day before, when the clock read less, and `after`, when it read more."""
    before = after - 2 * 86400
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= local:
            after = middle
        else:
            before = middle
    return after
