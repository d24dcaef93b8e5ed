"""Automations on ticket events: `on: ticket.created | ticket.updated |
ticket.transitioned` (and `sla.warning` / `sla.breached` when the SLA engine raises
them), with `when` and actions, run as the system in the same transaction as the
change that fired them.

Loop guard: an automation never fires on a change it made itself (directly or through
another automation it set off), and a chain of automations setting each other off stops
at `MAX_AUTOMATION_DEPTH` with an `automation.stopped` event that says so.
"""

from __future__ import annotations

from typing import Any

from gongdan.engine.store.models import Ticket
from gongdan.engine.unit_of_work import UnitOfWork

__all__ = ["MAX_AUTOMATION_DEPTH", "run_automations"]

MAX_AUTOMATION_DEPTH = 5


def _fingerprint(ticket: Ticket) -> tuple[object, ...]:
    """What an automation's actions may change: compared before and after them."""
    return (
        ticket.updated_at,
        ticket.state,
        ticket.priority,
        dict(ticket.data or {}),
        list(ticket.tags or ()),
        ticket.team_id,
        ticket.assignee_id,
    )


def run_automations(
    ctx: UnitOfWork,
    ticket: Ticket,
    event: str,
    *,
    previous: dict[str, Any] | None = None,
    depth: int = 0,
) -> None:
    """Run every enabled automation `on: event` whose `when` holds for `ticket`."""
    automations = ctx.bundle.automations_on(event)
    if not automations:
        return
    # Imported here: transitions imports this module to fire ticket.transitioned.
    from gongdan.engine.tickets.transitions import run_actions

    values = ctx.condition_values(ticket)
    for automation in automations:
        if automation.id in ctx.automation_stack:
            continue  # its own change does not fire it again
        if automation.when is not None and not automation.when(values, previous, ctx.now):
            continue
        if depth >= MAX_AUTOMATION_DEPTH:
            ctx.event(
                ticket,
                "automation.stopped",
                detail={
                    "automation": automation.id,
                    "event": event,
                    "reason": f"more than {MAX_AUTOMATION_DEPTH} automations set each other off",
                },
            )
            continue
        before = _fingerprint(ticket)
        ctx.automation_stack.append(automation.id)
        system = ctx.as_system()
        try:
            ctx.event(
                ticket, "automation.ran", detail={"automation": automation.id, "event": event}
            )
            run_actions(
                system,
                ticket,
                automation.actions,
                source=f"automation:{automation.id}",
                depth=depth + 1,
            )

            if _fingerprint(ticket) != before:
                run_automations(system, ticket, "ticket.updated", previous=values, depth=depth + 1)
        finally:
            ctx.automation_stack.pop()
