"""What the scheduler does on its own: the SLA due-scan, workflow `after:` transitions
and `on: schedule` automations. Registered in `outbox.runner.SCHEDULED_JOBS`, so Celery
beat and the in-process runner run the same functions. Each of them writes through the
unit of work's runner (`unit_of_work.begin_write`, via `TicketService` for the first
two), so its changes get the finishing steps of any write: a scheduled automation that
raises a priority moves the ticket's SLA deadlines in the same run.

Each reads through an index on its due instant and takes bounded batches, so a run
costs in proportion to what is due, not to the tickets kept (issue 24): the SLA scan
the partial index on `sla_wakeup_at`, the `after:` transitions the index on (type,
state, `state_since`), a scheduled automation's claim the index on its run markers
(migration 0018); a scheduled automation reads only the tickets its `when` selects in
SQL when it can be written so (`_prefilter`). The runners take a job's lease before
running it (`automation.leases`), so one process runs each per period; each job is
still safe to run in several processes at once: the SLA scan locks and skips the rows
it takes, an `after:` transition is an ordinary transition (the loser of a race gets
a conflict and moves on), and a scheduled automation claims its run by writing a
marker event only if no other process wrote one for the same period.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, true

from gongdan.bundle.compile_views import column_kind, sql_refusal
from gongdan.bundle.compiled import Bundle
from gongdan.engine.automation.automations import run_automations
from gongdan.engine.reads.queue_sql import condition_sql
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event, Ticket
from gongdan.engine.tickets.transitions import run_actions
from gongdan.engine.unit_of_work import UnitOfWork, begin_read, begin_write
from gongdan.errors import GongdanError
from gongdan.forms.data import condition_values
from gongdan.rules.conditions import AllOf, AnyOf, Condition, KeyTest, Negation, Node
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import StateCategory

__all__ = ["run_after_transitions", "run_scheduled_automations", "run_sla_scan"]

log = logging.getLogger(__name__)
BATCH = 500


def run_sla_scan(db: Database, bundle: Bundle, now: datetime) -> int:
    """Fire every SLA warning, breach and escalation that is due, batch by batch."""
    service = TicketService(db, bundle, clock=lambda: now)
    total = 0
    while (seen := service.scan_sla(limit=BATCH)) > 0:
        total += seen
        if seen < BATCH:
            break
    return total


def run_after_transitions(db: Database, bundle: Bundle, now: datetime) -> int:
    """Take every workflow transition with `after:` whose time in state has passed
    (e.g. close 72 h after resolve), as the system, where its guard holds."""
    service = TicketService(db, bundle, clock=lambda: now)
    taken = 0
    for type_id, ticket_type in bundle.ticket_types.items():
        workflow = bundle.workflows.get(ticket_type.workflow)
        for transition in workflow.transitions if workflow else ():
            if transition.after is None:
                continue
            cutoff = now - transition.after.as_timedelta()
            with begin_read(db, bundle, Actor.system(), now) as read:
                keys = list(
                    read.session.scalars(
                        select(Ticket.key)
                        .where(
                            Ticket.ticket_type == type_id,
                            Ticket.state.in_(sorted(transition.sources)),
                            Ticket.state_since <= cutoff,
                        )
                        .order_by(Ticket.state_since)
                        .limit(BATCH)
                    )
                )
            for key in keys:
                try:
                    service.take_transition(Actor.system(), key, transition.id)
                    taken += 1
                except GongdanError as error:  # a guard, or another process was first
                    log.info("after: %s on %s not taken: %s", transition.id, key, error)
    return taken


def _claim_run(ctx: UnitOfWork, automation_id: str, every_seconds: int) -> bool:
    """Whether this process runs the automation now: its last run is old enough, and
    the marker event written here is the only one for this period."""
    named: Any = Event.detail["automation"].as_string()
    if ctx.session.get_bind().dialect.name == "postgresql":
        # The key as a constant in the text: the expression of the index on these
        # markers (migration 0018), so this is one index probe however many exist.
        named = Event.detail.op("->>")(literal_column("'automation'"))
    last = ctx.session.scalar(
        select(func.max(Event.at)).where(
            Event.kind == literal_column("'automation.scheduled'"),
            Event.ticket_id.is_(None),
            named == automation_id,
        )
    )
    if last is not None and (ctx.now - last).total_seconds() < every_seconds:
        return False
    ctx.event(None, "automation.scheduled", detail={"automation": automation_id})
    return True


def _prefilter(bundle: Bundle, when: Condition | None, session: Any, now: datetime) -> Any:
    """`when` as SQL when every test of it can run in the database (as a queue's `when`
    does: `reads.queue_sql`), so a run reads only the tickets it may act on through
    their indexes (e.g. a window of `updated_at`), not every ticket not closed; true
    otherwise. Each ticket read is still checked against `when` itself."""
    if when is None:
        return true()
    field_types: dict[str, set[str]] = {}
    for ticket_type in bundle.ticket_types.values():
        for field in ticket_type.field_map.values():
            field_types.setdefault(field.id, set()).add(field.type)
    kinds: dict[str, str] = {}
    for test in _tests(when.tree):
        kind = column_kind(test.key, field_types)
        if kind is None or sql_refusal(test, kind) is not None:
            return true()
        kinds[test.key] = kind
    return condition_sql(when, kinds, session.get_bind().dialect.name, now)


def _tests(node: Node) -> Iterator[KeyTest]:
    if isinstance(node, KeyTest):
        yield node
    elif isinstance(node, Negation):
        yield from _tests(node.child)
    elif isinstance(node, (AllOf, AnyOf)):
        for child in node.children:
            yield from _tests(child)


def run_scheduled_automations(db: Database, bundle: Bundle, now: datetime) -> int:
    """Run each `on: schedule` automation whose `every` has elapsed, over the tickets
    that are not closed and match its `when`."""
    acted = 0
    for automation in bundle.automations_on("schedule"):
        if automation.every is None:
            continue
        with begin_write(db, bundle, Actor.system(), now) as ctx:
            if not _claim_run(ctx, automation.id, automation.every.total_seconds()):
                continue
            narrowed = _prefilter(bundle, automation.when, ctx.session, now)
            tickets = ctx.session.scalars(
                select(Ticket)
                .where(Ticket.state_category != StateCategory.CLOSED, narrowed)
                .order_by(Ticket.id)
                .execution_options(yield_per=BATCH)
            )
            for ticket in tickets:
                ticket_type = bundle.ticket_types.get(ticket.ticket_type)
                if ticket_type is None:
                    continue
                values = condition_values(ticket_type.field_map, ctx.values(ticket))
                if automation.when is not None and not automation.when(values, None, now):
                    continue
                ctx.automation_stack.append(automation.id)
                try:
                    run_actions(
                        ctx, ticket, automation.actions, source=f"automation:{automation.id}"
                    )
                    run_automations(ctx, ticket, "ticket.updated", previous=values, depth=1)
                finally:
                    ctx.automation_stack.pop()
                acted += 1
    return acted
