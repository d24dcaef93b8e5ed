"""SLA clocks: pure state transitions for one ticket's targets, and what is due when.

A ticket's SLA state is a `TicketSLA` value: per target (first_response, next_response,
resolution) a `Clock` that knows its budget (business seconds for the ticket's
priority), the business time consumed before its current running stretch, and when
that stretch began (None while paused). Every function returns a new value; the engine
stores it (as JSON plus indexed deadline columns) in the ticket's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gongdan.rules.business_time import business_deadline, business_seconds_between
from gongdan.rules.calendar import Calendar
from gongdan.rules.durations import Duration
from gongdan.rules.sla import Escalation, SLAPolicy

__all__ = [
    "Clock",
    "TicketSLA",
    "budget_seconds",
    "check_due",
    "clock_deadline",
    "clock_pauses",
    "follow_policy",
    "next_wakeup",
    "pause",
    "restart",
    "resume",
    "start_sla",
    "stop",
    "with_priority",
]

# How many finished running stretches a clock remembers for its explanation; a ticket
# paused more often than this keeps the latest ones (the consumed total stays exact).
MAX_STRETCHES = 50


@dataclass(frozen=True, slots=True)
class Clock:
    """One target's clock. `consumed` is business seconds used before `running_since`;
    `stretches` are the finished running stretches (start, end) behind it, so the gaps
    between them are the pauses an explanation shows."""

    budget: int
    consumed: int = 0
    running_since: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    active: bool = True  # next_response is inactive until a customer replies
    stretches: tuple[tuple[datetime, datetime], ...] = ()

    def ended_at(self, now: datetime) -> tuple[tuple[datetime, datetime], ...]:
        """The stretches with the running one ended at `now`."""
        if self.running_since is None or now <= self.running_since:
            return self.stretches
        return (*self.stretches, (self.running_since, now))[-MAX_STRETCHES:]

    def to_json(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "consumed": self.consumed,
            "running_since": _iso(self.running_since),
            "met_at": _iso(self.met_at),
            "breached_at": _iso(self.breached_at),
            "active": self.active,
            "stretches": [[start.isoformat(), end.isoformat()] for start, end in self.stretches],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Clock:
        return cls(
            budget=int(raw["budget"]),
            consumed=int(raw.get("consumed", 0)),
            running_since=_parse(raw.get("running_since")),
            met_at=_parse(raw.get("met_at")),
            breached_at=_parse(raw.get("breached_at")),
            active=bool(raw.get("active", True)),
            stretches=tuple(
                (datetime.fromisoformat(start), datetime.fromisoformat(end))
                for start, end in raw.get("stretches", ())
            ),
        )


@dataclass(frozen=True, slots=True)
class TicketSLA:
    """The SLA of one ticket: its policy, calendar and clocks, and escalations fired."""

    policy: str
    calendar: str
    clocks: dict[str, Clock]
    fired: tuple[str, ...] = ()  # "resolution:80", "resolution:breach"

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "calendar": self.calendar,
            "clocks": {name: clock.to_json() for name, clock in self.clocks.items()},
            "fired": list(self.fired),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TicketSLA:
        return cls(
            policy=str(raw["policy"]),
            calendar=str(raw["calendar"]),
            clocks={name: Clock.from_json(c) for name, c in raw.get("clocks", {}).items()},
            fired=tuple(raw.get("fired", ())),
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def budget_seconds(duration: Duration, calendar: Calendar) -> int:
    """A target's business seconds: `1d` is one working day of the calendar."""
    return duration.days * calendar.working_day_seconds + duration.seconds


def start_sla(
    policy: SLAPolicy, calendar: Calendar, priority: str, now: datetime, *, paused: bool = False
) -> TicketSLA:
    """The clocks of a new ticket: first response and resolution run from `now`."""
    clocks = {}
    for target, by_priority in policy.targets.items():
        if priority not in by_priority:
            continue
        budget = budget_seconds(by_priority[priority], calendar)
        running = None if paused else now
        clocks[target] = Clock(budget, 0, running, active=target != "next_response")
    return TicketSLA(policy.id, calendar.id, clocks)


def _elapsed(clock: Clock, calendar: Calendar, now: datetime) -> int:
    running = 0
    if clock.running_since is not None and now > clock.running_since:
        running = business_seconds_between(calendar, clock.running_since, now)
    return clock.consumed + running


def clock_deadline(clock: Clock, calendar: Calendar) -> datetime | None:
    """When the clock breaches if it keeps running (None: paused, met or inactive)."""
    if not clock.active or clock.met_at is not None or clock.running_since is None:
        return None
    left = max(clock.budget - clock.consumed, 0)
    return business_deadline(calendar, clock.running_since, Duration(seconds=left))


def clock_pauses(clock: Clock) -> tuple[tuple[datetime, datetime | None], ...]:
    """When the clock stood still: the gaps between its running stretches, and the
    pause it is in now (end None) when it is neither running nor met."""
    gaps: list[tuple[datetime, datetime | None]] = [
        (end, start)
        for (_, end), (start, _) in zip(clock.stretches, clock.stretches[1:], strict=False)
        if start > end
    ]
    if clock.stretches and clock.running_since is not None:
        last_end = clock.stretches[-1][1]
        if clock.running_since > last_end:
            gaps.append((last_end, clock.running_since))
    if clock.stretches and clock.running_since is None and clock.met_at is None:
        gaps.append((clock.stretches[-1][1], None))
    return tuple(gaps)


def _each(sla: TicketSLA, change: Any) -> TicketSLA:
    return replace(sla, clocks={name: change(name, clock) for name, clock in sla.clocks.items()})


def pause(sla: TicketSLA, calendar: Calendar, now: datetime) -> TicketSLA:
    """Stop every running clock (a pending state): keep the business time used."""

    def change(_: str, clock: Clock) -> Clock:
        if clock.running_since is None:
            return clock
        return replace(
            clock,
            consumed=_elapsed(clock, calendar, now),
            running_since=None,
            stretches=clock.ended_at(now),
        )

    return _each(sla, change)


def resume(sla: TicketSLA, now: datetime) -> TicketSLA:
    """Start the paused clocks again with the time they had left."""

    def change(_: str, clock: Clock) -> Clock:
        if clock.running_since is not None or clock.met_at is not None or not clock.active:
            return clock
        return replace(clock, running_since=now)

    return _each(sla, change)


def stop(sla: TicketSLA, target: str, calendar: Calendar, now: datetime) -> TicketSLA:
    """The target is met now (first public agent reply, or resolved)."""
    clock = sla.clocks.get(target)
    if clock is None or not clock.active or clock.met_at is not None:
        return sla
    consumed = _elapsed(clock, calendar, now)
    breached = clock.breached_at
    if breached is None and consumed > clock.budget:
        breached = now
    stopped = replace(
        clock,
        consumed=consumed,
        running_since=None,
        met_at=now,
        breached_at=breached,
        stretches=clock.ended_at(now),
    )
    return replace(sla, clocks={**sla.clocks, target: stopped})


def restart(sla: TicketSLA, target: str, now: datetime, *, paused: bool = False) -> TicketSLA:
    """Start a target afresh (reopen restarts resolution; a customer reply starts the
    next-response clock). Its escalations may fire again."""
    clock = sla.clocks.get(target)
    if clock is None:
        return sla
    fresh = Clock(clock.budget, 0, None if paused else now)
    fired = tuple(f for f in sla.fired if not f.startswith(f"{target}:"))
    return replace(sla, clocks={**sla.clocks, target: fresh}, fired=fired)


def _rebudget(clock: Clock, budget: int, calendar: Calendar, now: datetime) -> Clock:
    """`clock` with a new budget; the time it has used counts against it."""
    if clock.running_since is None:
        return replace(clock, budget=budget)
    return replace(
        clock,
        budget=budget,
        consumed=_elapsed(clock, calendar, now),
        running_since=now,
        stretches=clock.ended_at(now),
    )


def with_priority(
    sla: TicketSLA, policy: SLAPolicy, calendar: Calendar, priority: str, now: datetime
) -> TicketSLA:
    """New budgets for a new priority; time already used counts against them."""

    def change(name: str, clock: Clock) -> Clock:
        durations = policy.targets.get(name, {})
        if priority not in durations:
            return clock
        return _rebudget(clock, budget_seconds(durations[priority], calendar), calendar, now)

    return _each(sla, change)


def follow_policy(
    sla: TicketSLA, policy: SLAPolicy, calendar: Calendar, priority: str, now: datetime
) -> TicketSLA:
    """The clocks as `policy` on `calendar` budgets them for `priority` (another policy
    applies, the priority changed, a new config changed the targets): each clock whose
    budget differs gets the new one, the time it has used counting against it; the
    others are left as they are. `sla` itself when nothing differs."""

    def change(name: str, clock: Clock) -> Clock:
        durations = policy.targets.get(name, {})
        if priority not in durations:
            return clock
        budget = budget_seconds(durations[priority], calendar)
        return clock if budget == clock.budget else _rebudget(clock, budget, calendar, now)

    followed = _each(sla, change)
    if followed.clocks == sla.clocks and (sla.policy, sla.calendar) == (policy.id, calendar.id):
        return sla
    return replace(followed, policy=policy.id, calendar=calendar.id)


def _threshold(escalation: Escalation, clock: Clock) -> int:
    return clock.budget * (escalation.at_percent or 100) // 100


def _key(escalation: Escalation) -> str:
    return f"{escalation.target}:{escalation.at_percent or 'breach'}"


def check_due(
    sla: TicketSLA, policy: SLAPolicy, calendar: Calendar, now: datetime
) -> tuple[TicketSLA, list[tuple[str, str, tuple[Escalation, ...]]]]:
    """What has happened by `now`, in order: (target, "warning" | "breached", the
    escalations to run). A breach is recorded at its deadline; each escalation fires
    once (a warning at its percentage, the breach ones with the breach)."""
    clocks = dict(sla.clocks)
    fired = list(sla.fired)
    happened: list[tuple[str, str, tuple[Escalation, ...]]] = []
    for escalation in policy.escalations:
        clock = clocks.get(escalation.target)
        key = _key(escalation)
        if (
            escalation.at_percent is None
            or clock is None
            or not clock.active
            or clock.met_at is not None
            or key in fired
        ):
            continue
        if _elapsed(clock, calendar, now) >= _threshold(escalation, clock):
            fired.append(key)
            happened.append((escalation.target, "warning", (escalation,)))
    for name, clock in sla.clocks.items():
        deadline = clock_deadline(clock, calendar)
        if deadline is None or clock.breached_at is not None or now <= deadline:
            continue
        clocks[name] = replace(clock, breached_at=deadline)
        at_breach = tuple(
            e
            for e in policy.escalations
            if e.target == name and e.at_percent is None and _key(e) not in fired
        )
        fired.extend(_key(e) for e in at_breach)
        happened.append((name, "breached", at_breach))
    return replace(sla, clocks=clocks, fired=tuple(fired)), happened


def next_wakeup(sla: TicketSLA, policy: SLAPolicy, calendar: Calendar) -> datetime | None:
    """The earliest instant something will happen (a warning or a breach): the indexed
    column the scheduler's due-scan reads. None when every clock is met or paused."""
    moments: list[datetime] = []
    for name, clock in sla.clocks.items():
        deadline = clock_deadline(clock, calendar)
        if deadline is None or clock.running_since is None:
            continue
        if clock.breached_at is None:
            moments.append(deadline + timedelta(microseconds=1))  # breached just after
        for escalation in policy.escalations:
            if (
                escalation.target != name
                or escalation.at_percent is None
                or _key(escalation) in sla.fired
            ):
                continue
            left = _threshold(escalation, clock) - clock.consumed
            moments.append(
                clock.running_since
                if left <= 0
                else business_deadline(calendar, clock.running_since, Duration(seconds=left))
            )
    return min(moments) if moments else None
