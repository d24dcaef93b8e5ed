"""What a candidate bundle would do to the live tickets: the ticket half of a plan.

Reads only (a `ReadContext`), nothing written. "Live" tickets are those not in a state
of category closed: new, open and pending ones, and resolved ones, which can still be
reopened or closed. Three questions, each answered with counts:

- which live tickets sit in a state that the workflow of their type no longer has
  (and where the workflow's `migrate` sends them, or that nothing does: stranded);
- which hold a value in a field the candidate drops, or gives another type, or that
  the candidate's field refuses (an option removed, a stricter pattern or bound);
- which would get another SLA deadline: the ticket's clocks as the candidate's policy
  for it (its type, priority and values) budgets them on its calendar, the business
  time already used counting against new budgets (`rules.sla_clock.follow_policy`, as
  `automation.sla.sync_sla` does at the ticket's next change, and the SLA scan before
  it fires anything). Old is the deadline stored on the ticket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.bundle.diff import plain
from gongdan.engine.automation.sla import DONE, follow_state, policy_for
from gongdan.engine.store.models import Ticket
from gongdan.engine.unit_of_work import ReadContext
from gongdan.errors import ValidationFailed
from gongdan.forms.data import check_ticket_data
from gongdan.forms.fields import FieldDef
from gongdan.rules.sla_clock import TicketSLA, clock_deadline, follow_policy, start_sla, stop
from gongdan.vocabulary import SLA_TARGETS, StateCategory

__all__ = [
    "SLA_SAMPLE",
    "DeadlineChange",
    "FieldImpact",
    "SLAImpact",
    "StateImpact",
    "TypeImpact",
    "deadline_changes",
    "field_impacts",
    "state_impacts",
    "type_impacts",
]

# How many tickets a plan shows old → new SLA deadlines for.
SLA_SAMPLE = 5
_LIVE = Ticket.state_category != StateCategory.CLOSED


@dataclass(frozen=True, slots=True)
class StateImpact:
    """Live tickets of one type in a state its workflow would no longer have."""

    workflow: str
    ticket_type: str
    state: str
    tickets: int
    migrate_to: str | None  # None: nothing moves them (stranded)

    def as_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "ticket_type": self.ticket_type,
            "state": self.state,
            "tickets": self.tickets,
            "migrate_to": self.migrate_to,
        }


@dataclass(frozen=True, slots=True)
class TypeImpact:
    """Live tickets of a ticket type the candidate removes."""

    ticket_type: str
    tickets: int

    def as_json(self) -> dict[str, Any]:
        return {"ticket_type": self.ticket_type, "tickets": self.tickets}


@dataclass(frozen=True, slots=True)
class FieldImpact:
    """Live tickets holding a value in a field that is dropped, changes type or would
    be refused by the field as the candidate defines it."""

    ticket_type: str
    field: str
    what: str  # dropped | retyped | refused (the candidate's field refuses the value)
    detail: str  # retyped: "select → text"; refused: a ticket and the reason
    tickets: int

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_type": self.ticket_type,
            "field": self.field,
            "what": self.what,
            "detail": self.detail,
            "tickets": self.tickets,
        }


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """One SLA deadline of one ticket, now and under the candidate (None: none)."""

    key: str
    target: str
    old: datetime | None
    new: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "target": self.target,
            "old": self.old.isoformat() if self.old else None,
            "new": self.new.isoformat() if self.new else None,
        }


@dataclass(frozen=True, slots=True)
class SLAImpact:
    """How many live tickets would get another deadline, and a few of them."""

    tickets: int = 0
    sample: tuple[DeadlineChange, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"tickets": self.tickets, "sample": [d.as_json() for d in self.sample]}


def _live_by_type_and_state(ctx: ReadContext) -> dict[tuple[str, str], int]:
    rows = ctx.session.execute(
        select(Ticket.ticket_type, Ticket.state, func.count())
        .where(_LIVE)
        .group_by(Ticket.ticket_type, Ticket.state)
    )
    return {(row[0], row[1]): int(row[2]) for row in rows}


def state_impacts(ctx: ReadContext, active: Bundle, candidate: Bundle) -> list[StateImpact]:
    """Live tickets in a state the candidate's workflow of their type does not have:
    states the candidate removes, and any a `migrate` names (a way out for tickets
    already left behind)."""
    out = []
    for (type_id, state), count in sorted(_live_by_type_and_state(ctx).items()):
        new_type = candidate.ticket_types.get(type_id)
        if new_type is None:
            continue  # the type goes: `type_impacts`
        workflow = candidate.workflows[new_type.workflow]
        if state in workflow.states:
            continue
        old_type = active.ticket_types.get(type_id)
        had_it = old_type is not None and state in active.workflows[old_type.workflow].states
        target = workflow.migrate.get(state)
        if had_it or target is not None:
            out.append(StateImpact(workflow.id, type_id, state, count, target))
    return out


def type_impacts(ctx: ReadContext, active: Bundle, candidate: Bundle) -> list[TypeImpact]:
    """Live tickets of the ticket types the candidate removes."""
    removed = sorted(active.ticket_types.keys() - candidate.ticket_types.keys())
    if not removed:
        return []
    rows = ctx.session.execute(
        select(Ticket.ticket_type, func.count())
        .where(_LIVE, Ticket.ticket_type.in_(removed))
        .group_by(Ticket.ticket_type)
    )
    counts = {row[0]: int(row[1]) for row in rows}
    return [TypeImpact(t, counts[t]) for t in removed if counts.get(t)]


# What a field's definition says that no stored value depends on.
_WORDING = frozenset({"label", "help", "placeholder"})


def _checked_again(old: FieldDef, new: FieldDef) -> bool:
    """Whether values kept for `old` must be checked against `new` (same type, another
    rule: options, pattern, bounds…)."""
    before, after = plain(old), plain(new)
    return any(before[k] != after[k] for k in before if k not in _WORDING)


def _refused(
    ticket_type: TicketTypeDef, names: list[str], ticket: Ticket, now: datetime
) -> dict[str, str]:
    """Which of `names` the ticket's stored values break under `ticket_type`, with why."""
    data = dict(ticket.data or {})
    given = {n: data[n] for n in names if data.get(n) not in (None, "", [])}
    if not given:
        return {}
    context = {
        **data,
        "type": ticket.ticket_type,
        "priority": ticket.priority,
        "state": ticket.state,
        "state_category": ticket.state_category,
    }
    try:
        check_ticket_data(
            ticket_type.fields, given, context=context, previous=context, now=now, partial=True
        )
    except ValidationFailed as failed:
        return {n: m for n, m in failed.fields.items() if n in given}
    return {}


def field_impacts(ctx: ReadContext, active: Bundle, candidate: Bundle) -> list[FieldImpact]:
    """Live tickets holding a value in a field the candidate drops or retypes, or whose
    value the candidate's field refuses (an option removed, a stricter pattern)."""
    out = []
    for type_id in sorted(active.ticket_types.keys() & candidate.ticket_types.keys()):
        old = active.ticket_types[type_id].field_map
        new_type = candidate.ticket_types[type_id]
        new = new_type.field_map
        moved = {
            name: ("dropped", "")
            if name not in new
            else ("retyped", f"{f.type} → {new[name].type}")
            for name, f in old.items()
            if name not in new or new[name].type != f.type
        }
        recheck = [n for n, f in old.items() if n not in moved and _checked_again(f, new[n])]
        if not moved and not recheck:
            continue
        counts: dict[str, int] = defaultdict(int)
        why: dict[str, str] = {}
        for ticket in ctx.session.scalars(
            select(Ticket).where(_LIVE, Ticket.ticket_type == type_id).order_by(Ticket.id)
        ):
            data = ticket.data or {}
            for name in moved:
                if data.get(name) not in (None, "", []):
                    counts[name] += 1
            for name, message in _refused(new_type, recheck, ticket, ctx.now).items():
                counts[name] += 1
                why.setdefault(name, f"e.g. {ticket.key}: {message}")
        found = {**moved, **{n: ("refused", why[n]) for n in recheck if n in why}}
        out += [
            FieldImpact(type_id, name, what, detail, counts[name])
            for name, (what, detail) in sorted(found.items())
            if counts[name]
        ]
    return out


def _sla_config(bundle: Bundle) -> Any:
    """What a ticket's SLA deadlines depend on in a bundle."""
    return plain(
        (
            bundle.sla_policies,
            bundle.calendars,
            {t.id: (t.sla, t.priority_default) for t in bundle.ticket_types.values()},
        )
    )


def _candidate_sla(ctx: ReadContext, ticket: Ticket, category: str) -> tuple[TicketSLA | None, Any]:
    """The ticket's clocks under `ctx.bundle`'s policy for it, once in a state of
    `category` (another one than its own when a `migrate` moves it), and that calendar."""
    policy = policy_for(ctx, ticket)
    calendar = ctx.bundle.calendars.get(policy.calendar) if policy is not None else None
    if policy is None or calendar is None:
        return None, None
    priority, now = ticket.priority, ctx.now
    if not ticket.sla:
        sla = start_sla(policy, calendar, priority, now, paused=category in policy.pause_in)
        if category in DONE:
            sla = stop(sla, "resolution", calendar, now)
        return sla, calendar
    sla = follow_policy(TicketSLA.from_json(ticket.sla), policy, calendar, priority, now)
    return follow_state(sla, ticket.state_category, category, policy, calendar, now), calendar


def deadline_changes(
    ctx: ReadContext,
    active: Bundle,
    candidate: Bundle,
    moves: Mapping[tuple[str, str], str] | None = None,
) -> SLAImpact:
    """Live tickets whose SLA deadlines would differ under the candidate's policies and
    calendars, with old → new for the first `SLA_SAMPLE` of them (oldest first).
    `moves`: the tickets a `migrate` moves, by (ticket type, state), to the category of
    their new state. When the candidate changes nothing the deadlines depend on, only
    those are read."""
    moves = moves or {}
    query = select(Ticket).where(_LIVE, Ticket.ticket_type.in_(sorted(candidate.ticket_types)))
    if _sla_config(active) == _sla_config(candidate):
        if not moves:
            return SLAImpact()
        query = query.where(
            or_(*(and_(Ticket.ticket_type == t, Ticket.state == s) for t, s in sorted(moves)))
        )
    under_candidate = ReadContext(ctx.session, candidate, ctx.actor, ctx.now)
    tickets = list(ctx.session.scalars(query.order_by(Ticket.id)))
    under_candidate.preload_users(
        [t.requester_id for t in tickets] + [t.assignee_id for t in tickets]
    )
    changed = 0
    sample: list[DeadlineChange] = []
    for ticket in tickets:
        category = moves.get((ticket.ticket_type, ticket.state), ticket.state_category)
        sla, calendar = _candidate_sla(under_candidate, ticket, category)
        differing = []
        for target in SLA_TARGETS:
            old = getattr(ticket, f"{target}_due")
            clock = sla.clocks.get(target) if sla is not None else None
            new = clock_deadline(clock, calendar) if clock is not None else None
            if old != new:
                differing.append(DeadlineChange(ticket.key, target, old, new))
        if differing:
            changed += 1
            if len({d.key for d in sample}) < SLA_SAMPLE:
                sample += differing
    return SLAImpact(changed, tuple(sample))
