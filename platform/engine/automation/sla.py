"""SLAs in the engine: pick a ticket's policy, keep its clocks in step with the ticket,
and the scheduler's due-scan that fires warnings, breaches and escalations.

The arithmetic and the clock states are pure (`gongdan.rules.business_time`,
`gongdan.rules.sla_clock`); this module reads and writes them on the ticket row: the
clocks as JSON, the deadlines and the next wake-up in indexed columns. `sync_sla` runs
at the end of every write and is idempotent: it compares the ticket with what the
clocks last saw (state category, priority, policy) and applies only the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select

from gongdan.bundle.compiled import Bundle
from gongdan.engine.store.models import Ticket
from gongdan.engine.store.tickets import SLA_COLUMNS, write_sla_columns
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.rules.business_time import CountedInterval, business_seconds_between, explain_deadline
from gongdan.rules.calendar import Calendar
from gongdan.rules.durations import Duration
from gongdan.rules.sla import SLAPolicy
from gongdan.rules.sla_clock import (
    TicketSLA,
    check_due,
    clock_deadline,
    clock_pauses,
    follow_policy,
    next_wakeup,
    pause,
    restart,
    resume,
    start_sla,
    stop,
)
from gongdan.vocabulary import StateCategory

__all__ = [
    "SLAExplanation",
    "explain_sla",
    "follow_state",
    "on_public_reply",
    "policy_for",
    "report_columns",
    "scan_due",
    "sync_sla",
]

DONE = (StateCategory.RESOLVED, StateCategory.CLOSED)


def policy_for(ctx: ReadContext, ticket: Ticket) -> SLAPolicy | None:
    """The type's explicit `sla:`, else the first policy whose `applies_when` holds:
    decided by the bundle for the ticket's type and priority where they alone decide
    it (`Bundle.policy_choice`), else evaluated on the ticket's values."""
    choice = ctx.bundle.policy_choice(ticket.ticket_type, ticket.priority)
    if choice is None:
        return None
    if not choice.candidates:
        return choice.otherwise
    return choice.choose(ctx.condition_values(ticket), ctx.now)


def _store(
    ctx: UnitOfWork,
    ticket: Ticket,
    sla: TicketSLA | None,
    seen: dict[str, Any],
    policy: SLAPolicy | None,
    calendar: Calendar | None,
) -> None:
    """Write the clocks and their deadlines: part of a new ticket's INSERT, else (when
    they moved) `store.tickets.write_sla_columns`, which leaves the row version alone:
    the clocks follow a write that already counted in it."""
    values: dict[str, Any] = dict.fromkeys(SLA_COLUMNS)
    if sla is not None and policy is not None and calendar is not None:
        due = {name: clock_deadline(clock, calendar) for name, clock in sla.clocks.items()}
        values.update(
            sla={**sla.to_json(), "seen": seen},
            first_response_due=due.get("first_response"),
            next_response_due=due.get("next_response"),
            resolution_due=due.get("resolution"),
            sla_wakeup_at=next_wakeup(sla, policy, calendar),
            **report_columns(sla),
        )
    ctx.sla_stored[ticket] = values["sla"]
    if not inspect(ticket).persistent:
        for name, value in values.items():  # a new ticket: part of its INSERT
            setattr(ticket, name, value)
        return
    if all(getattr(ticket, name) == value for name, value in values.items()):
        return  # nothing moved: no statement
    write_sla_columns(ctx.session, ticket, values)


def report_columns(sla: TicketSLA) -> dict[str, Any]:
    """What reports read of the clocks, as columns (`models.Ticket`): the policy; the
    business seconds a met first-response or resolution clock ran; whether a clock
    with an outcome was met in time (True) or breached (False), None without one."""
    values: dict[str, Any] = {"sla_policy": sla.policy}
    for target in ("first_response", "resolution"):
        clock = sla.clocks.get(target)
        met = clock is not None and clock.met_at is not None
        values[f"{target}_seconds"] = clock.consumed if clock is not None and met else None
        if clock is None or (clock.met_at is None and clock.breached_at is None):
            values[f"{target}_in_time"] = None
        else:
            values[f"{target}_in_time"] = clock.breached_at is None
    return values


def _stored_here(ctx: UnitOfWork, ticket: Ticket) -> bool:
    """Whether this write stored the ticket's clocks as they are now (so their deadlines,
    computed from them alone, are already the stored ones)."""
    return ticket in ctx.sla_stored and ctx.sla_stored[ticket] is ticket.sla


def _load(ctx: UnitOfWork, ticket: Ticket) -> tuple[TicketSLA | None, dict[str, Any]]:
    if not ticket.sla:
        return None, {}
    return TicketSLA.from_json(ticket.sla), dict(ticket.sla.get("seen", {}))


def sync_sla(ctx: UnitOfWork, ticket: Ticket) -> None:
    """Bring the ticket's clocks in step with its state category, priority and policy."""
    policy = policy_for(ctx, ticket)
    calendar = ctx.bundle.calendars.get(policy.calendar) if policy is not None else None
    now, category = ctx.now, ticket.state_category
    if (
        policy is not None
        and calendar is not None
        and _stored_here(ctx, ticket)
        and ticket.sla is not None
        and ticket.sla.get("seen")
        == {
            "policy": policy.id,
            "priority": ticket.priority,
            "category": category,
        }
    ):
        return  # stored by this write and nothing it depends on has moved since
    sla, seen = _load(ctx, ticket)
    if policy is None or calendar is None:
        if sla is not None:
            _store(ctx, ticket, None, {}, None, None)
        return
    paused = category in policy.pause_in
    if sla is None:
        sla = start_sla(policy, calendar, ticket.priority, now, paused=paused)
        if category in DONE:
            sla = stop(sla, "resolution", calendar, now)
    else:
        # Another policy, another priority or targets changed by a new config: new
        # budgets, the business time already used counting against them.
        sla = follow_policy(sla, policy, calendar, ticket.priority, now)
        sla = follow_state(sla, seen.get("category"), category, policy, calendar, now)
    _store(
        ctx,
        ticket,
        sla,
        {"policy": policy.id, "priority": ticket.priority, "category": category},
        policy,
        calendar,
    )


def follow_state(
    sla: TicketSLA,
    before: str | None,
    after: str,
    policy: SLAPolicy,
    calendar: Calendar,
    now: datetime,
) -> TicketSLA:
    """The clocks of a ticket whose state category went from `before` to `after`: a
    resolution stops, a reopen restarts it, a pause state pauses them all, leaving one
    resumes them."""
    if before == after:
        return sla
    if after in DONE and before not in DONE:
        sla = stop(sla, "resolution", calendar, now)
    if before in DONE and after not in DONE:
        sla = restart(sla, "resolution", now)  # reopened: resolution starts again
    if after in policy.pause_in:
        return pause(sla, calendar, now)
    if before in policy.pause_in:
        return resume(sla, now)
    return sla


def on_public_reply(ctx: UnitOfWork, ticket: Ticket, *, by_staff: bool) -> None:
    """A public agent reply meets first and next response; a requester's reply starts
    the next-response clock."""
    sla, seen = _load(ctx, ticket)
    policy = policy_for(ctx, ticket)
    if sla is None or policy is None or policy.calendar not in ctx.bundle.calendars:
        return
    calendar = ctx.bundle.calendars[policy.calendar]
    if by_staff:
        for target in ("first_response", "next_response"):
            sla = stop(sla, target, calendar, ctx.now)
    elif "next_response" in sla.clocks:
        paused = ticket.state_category in policy.pause_in
        sla = restart(sla, "next_response", ctx.now, paused=paused)
        sla = replace(
            sla,
            clocks={
                **sla.clocks,
                "next_response": replace(sla.clocks["next_response"], active=True),
            },
        )
    _store(ctx, ticket, sla, seen, policy, calendar)


def scan_due(ctx: UnitOfWork, limit: int = 500) -> int:
    """The scheduler's due-scan: tickets whose wake-up has come (one index range scan,
    rows locked and skipped by other scanners on PostgreSQL); fires what is due once."""
    statement = (
        select(Ticket)
        .where(Ticket.sla_wakeup_at.is_not(None), Ticket.sla_wakeup_at <= ctx.now)
        .order_by(Ticket.sla_wakeup_at)
        .limit(limit)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    tickets = list(ctx.session.scalars(statement))
    for ticket in tickets:
        _fire_due(ctx, ticket)
    return len(tickets)


def _fire_due(ctx: UnitOfWork, ticket: Ticket) -> None:
    # Imported here: transitions and automations import modules that import this one.
    from gongdan.engine.automation.automations import run_automations
    from gongdan.engine.tickets.transitions import run_actions

    # The clocks follow the config first: a target changed since they were last stored
    # moves the deadline (no breach at one the ticket no longer has).
    sync_sla(ctx, ticket)
    sla, seen = _load(ctx, ticket)
    policy = ctx.bundle.sla_policy(sla.policy) if sla else None
    calendar = ctx.bundle.calendars.get(policy.calendar) if policy else None
    if sla is None or policy is None or calendar is None:
        _store(ctx, ticket, None, {}, None, None)
        return
    sla, happened = check_due(sla, policy, calendar, ctx.now)
    _store(ctx, ticket, sla, seen, policy, calendar)
    for target, kind, escalations in happened:
        clock = sla.clocks[target]
        ctx.event(
            ticket,
            f"sla.{kind}",
            detail={
                "target": target,
                "policy": policy.id,
                "breached_at": clock.breached_at.isoformat() if clock.breached_at else None,
                "escalations": [e.at_percent or "breach" for e in escalations],
            },
        )
        ctx.outbox(f"sla.{kind}", {"ticket": ticket.key, "target": target})
        system = ctx.as_system()
        for escalation in escalations:
            run_actions(
                system,
                ticket,
                escalation.actions,
                source=f"sla:{target}:{escalation.at_percent or 'breach'}",
            )
        run_automations(system, ticket, f"sla.{kind}")
    sync_sla(ctx, ticket)  # an escalation may have raised the priority


@dataclass(frozen=True, slots=True)
class SLAExplanation:
    """Why a target's deadline is what it is."""

    target: str
    policy: str
    calendar: str
    budget_seconds: int
    consumed_seconds: int
    running_since: datetime | None
    deadline: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    intervals: tuple[CountedInterval, ...]
    # The running stretches already counted (start, end, business seconds) and the
    # pauses between them (end None: paused now).
    counted: tuple[tuple[datetime, datetime, int], ...] = ()
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()


def explain_sla(bundle: Bundle, ticket: Ticket) -> list[SLAExplanation]:
    """For each target: policy, calendar, budget, time used, pauses and the working
    intervals still to count up to the deadline."""
    if not ticket.sla:
        return []
    sla = TicketSLA.from_json(ticket.sla)
    calendar = bundle.calendars.get(sla.calendar)
    out = []
    for name, clock in sla.clocks.items():
        if not clock.active or calendar is None:
            continue
        deadline = clock_deadline(clock, calendar)
        intervals: tuple[CountedInterval, ...] = ()
        if deadline is not None and clock.running_since is not None:
            left = Duration(seconds=max(clock.budget - clock.consumed, 0))
            intervals = tuple(explain_deadline(calendar, clock.running_since, left))
        out.append(
            SLAExplanation(
                name,
                sla.policy,
                sla.calendar,
                clock.budget,
                clock.consumed,
                clock.running_since,
                deadline,
                clock.met_at,
                clock.breached_at,
                intervals,
                tuple(
                    (start, end, business_seconds_between(calendar, start, end))
                    for start, end in clock.stretches
                ),
                clock_pauses(clock),
            )
        )
    return out
