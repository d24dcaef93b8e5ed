"""`migrate_tickets`: move live tickets out of removed states, as the candidate's
workflows say (`migrate: {old_state: new_state}`), when that bundle becomes active.

It runs in the caller's unit of work, the one that stores the new version, so the
version and the moved tickets commit together or not at all. Each ticket enters its
new state through `tickets.changes.enter_state`, as the system: a `ticket.migrated`
event records the move (from, to, the version that moved it) and the new state's
`on_enter` actions run, as for any ticket entering it. Closed tickets stay where they
are (their history is not rewritten); so do tickets in a state the workflow still has
(a `migrate` may only name removed states).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.engine.store.models import Ticket
from gongdan.engine.tickets.changes import enter_state
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.vocabulary import StateCategory

__all__ = ["MIGRATED", "migrate_tickets"]

MIGRATED = "ticket.migrated"


def migrate_tickets(uow: UnitOfWork, active: Bundle, candidate: Bundle) -> int:
    """Move the live tickets of each `migrate: {old_state: new_state}` of `candidate`'s
    workflows (for every ticket type that uses the workflow) into the new state; returns
    how many moved. `active` is the bundle being replaced (its version is recorded with
    each move). The moves act as the system, under `candidate`; open `uow` with the
    candidate too, so the SLA clocks its finishing pass syncs follow the new policies."""
    # Condition values are cached per ticket, not per bundle: the candidate's own cache.
    work = replace(uow, bundle=candidate, _condition_values={}).as_system()
    moved = 0
    for type_id in sorted(candidate.ticket_types):
        workflow = candidate.workflows[candidate.ticket_types[type_id].workflow]
        for old_state, new_state in workflow.migrate.items():
            if old_state in workflow.states:  # (the loader refuses it; never move twice)
                continue
            tickets = work.session.scalars(
                select(Ticket)
                .where(
                    Ticket.ticket_type == type_id,
                    Ticket.state == old_state,
                    Ticket.state_category != StateCategory.CLOSED,
                )
                .order_by(Ticket.id)
            )
            for ticket in list(tickets):
                enter_state(
                    work,
                    ticket,
                    workflow,
                    new_state,
                    kind=MIGRATED,
                    detail={
                        "migrate": {old_state: new_state},
                        "from_version": active.version,
                        "to_version": candidate.version,
                    },
                )
                moved += 1
    return moved
