"""SLA clocks as pure values: pause and resume, priority changes, reopen, met exactly
at the deadline, escalations firing once, and the next wake-up for the due-scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gongdan.rules.calendar import compile_calendar
from gongdan.rules.durations import parse_duration
from gongdan.rules.sla import Escalation, SLAPolicy
from gongdan.rules.sla_clock import (
    TicketSLA,
    check_due,
    clock_deadline,
    next_wakeup,
    pause,
    restart,
    resume,
    start_sla,
    stop,
    with_priority,
)

SH = ZoneInfo("Asia/Shanghai")
CALENDAR, _ = compile_calendar(
    "office", {"timezone": "Asia/Shanghai", "hours": {"mon-fri": ["09:00-18:00"]}}
)
assert CALENDAR is not None
POLICY = SLAPolicy(
    id="std",
    name="std",
    applies_when=None,
    calendar="office",
    targets={
        "first_response": {"normal": parse_duration("1h"), "urgent": parse_duration("30m")},
        "resolution": {"normal": parse_duration("4h"), "urgent": parse_duration("2h")},
    },
    pause_in=frozenset({"pending"}),
    escalations=(Escalation(80, "resolution", ()), Escalation(None, "resolution", ())),
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)  # 2026-11-02 is a Monday


def deadline(sla: TicketSLA, target: str) -> datetime | None:
    return clock_deadline(sla.clocks[target], CALENDAR)


def test_friday_evening_ticket_is_due_monday() -> None:
    sla = start_sla(POLICY, CALENDAR, "normal", at(6, 17, 30))  # Friday
    assert deadline(sla, "resolution") == at(9, 12, 30)
    assert deadline(sla, "first_response") == at(9, 9, 30)


def test_pause_then_resume_keeps_the_time_left() -> None:
    sla = start_sla(POLICY, CALENDAR, "normal", at(2, 9))
    sla = pause(sla, CALENDAR, at(2, 10))  # 1h used
    assert deadline(sla, "resolution") is None
    sla = resume(sla, at(3, 14))
    assert deadline(sla, "resolution") == at(3, 17)  # 3h left from Tuesday 14:00


def test_priority_raised_midway_counts_time_used() -> None:
    sla = start_sla(POLICY, CALENDAR, "normal", at(2, 9))
    sla = with_priority(sla, POLICY, CALENDAR, "urgent", at(2, 10))
    assert deadline(sla, "resolution") == at(2, 11)  # 2h budget, 1h already used


def test_reopen_restarts_resolution() -> None:
    sla = start_sla(POLICY, CALENDAR, "normal", at(2, 9))
    sla = stop(sla, "resolution", CALENDAR, at(2, 12))
    assert sla.clocks["resolution"].met_at == at(2, 12)
    sla = restart(sla, "resolution", at(3, 9))
    assert deadline(sla, "resolution") == at(3, 13)


@pytest.mark.parametrize(("stopped", "breached"), [(at(2, 13), False), (at(2, 13, 1), True)])
def test_met_exactly_at_the_deadline_is_met(stopped: datetime, breached: bool) -> None:
    sla = stop(start_sla(POLICY, CALENDAR, "normal", at(2, 9)), "resolution", CALENDAR, stopped)
    assert (sla.clocks["resolution"].breached_at is not None) is breached


def test_escalations_fire_once_each_in_order() -> None:
    sla = start_sla(POLICY, CALENDAR, "normal", at(2, 9))
    assert check_due(sla, POLICY, CALENDAR, at(2, 9, 15))[1] == []
    # First response (1h) breaches just after 10:00: the scheduler wakes then.
    assert next_wakeup(sla, POLICY, CALENDAR) == at(2, 10) + timedelta(microseconds=1)
    sla, happened = check_due(sla, POLICY, CALENDAR, at(2, 12, 12))  # 80% of 4h = 3h12m
    assert [(t, k) for t, k, _ in happened] == [
        ("resolution", "warning"),
        ("first_response", "breached"),
    ]
    assert sla.clocks["first_response"].breached_at == at(2, 10)
    sla, again = check_due(sla, POLICY, CALENDAR, at(2, 12, 30))
    assert again == []
    assert next_wakeup(sla, POLICY, CALENDAR) == at(2, 13) + timedelta(microseconds=1)
    sla, happened = check_due(sla, POLICY, CALENDAR, at(2, 13) + timedelta(seconds=1))
    assert [(t, k, len(e)) for t, k, e in happened] == [("resolution", "breached", 1)]
    assert sla.clocks["resolution"].breached_at == at(2, 13)


def test_paused_clocks_do_not_wake_the_scheduler() -> None:
    sla = pause(start_sla(POLICY, CALENDAR, "normal", at(2, 9)), CALENDAR, at(2, 9))
    assert next_wakeup(sla, POLICY, CALENDAR) is None


def test_state_survives_json() -> None:
    sla = pause(start_sla(POLICY, CALENDAR, "urgent", at(2, 9)), CALENDAR, at(2, 10))
    assert TicketSLA.from_json(sla.to_json()) == sla


def test_a_clock_remembers_its_stretches_and_pauses_through_json() -> None:
    from gongdan.rules.sla_clock import Clock as SLAClock
    from gongdan.rules.sla_clock import clock_pauses

    t = [datetime(2026, 11, 2, h, tzinfo=UTC) for h in range(24)]
    clock = SLAClock(3600 * 8, 0, t[1])
    first = clock.ended_at(t[3])
    paused = SLAClock(clock.budget, 7200, None, stretches=first)
    assert clock_pauses(paused) == ((t[3], None),)
    resumed = SLAClock(clock.budget, 7200, t[5], stretches=first)
    assert clock_pauses(resumed) == ((t[3], t[5]),)
    again = SLAClock(clock.budget, 10800, None, stretches=resumed.ended_at(t[6]))
    assert clock_pauses(again) == ((t[3], t[5]), (t[6], None))
    assert SLAClock.from_json(again.to_json()) == again
