"""Changing a ticket's attributes: the helpers every write path uses, each of which sets
the columns and writes the event that records the change, in the same step.

- `update_fields`: title, description, priority, tags and custom fields →
  `ticket.updated` (what changed, before and after).
- `assign`: team and assignee → `ticket.assigned` (a person's choice: what changed) or
  `ticket.routed` (a rule's or an action's choice: where the ticket was and is, with
  `detail` saying which rule and why).
- `enter_state`: state, its category, `state_since`, `resolved_at`/`closed_at` →
  `ticket.transitioned` or `ticket.merged`; then the state's `on_enter` actions run.
  Entering a state always runs them, whoever moves the ticket (a new ticket entering
  its initial state, a transition, a merge).
- `change`: the primitive under them (columns, `updated_at`, one event), for a change
  none of the above names (a merge into a workflow with no closed state).

Two more set attributes in memory without an event: `apply_fields` and `place`, for a
ticket whose event is written once its whole change is known (a new ticket, recorded
whole by `ticket.created`; routing's plan, recorded by `ticket.routed`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from gongdan.engine.store.models import Ticket
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.forms.data import condition_values
from gongdan.rules.actions import Action
from gongdan.rules.priority import priority_for
from gongdan.rules.workflow import StateDef, WorkflowDef
from gongdan.vocabulary import OPEN_CATEGORIES, StateCategory

__all__ = [
    "KEEP",
    "SET_COLUMNS",
    "Keep",
    "apply_fields",
    "assign",
    "change",
    "enter_state",
    "place",
    "state_columns",
    "update_fields",
]


class Keep:
    """The type of `KEEP`: a team or assignee left as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()
# The columns a declared `set` (a routing rule's, an action's) writes; every other name
# it sets is a field of the ticket's data.
SET_COLUMNS = frozenset({"priority", "title", "description"})


def change(
    ctx: UnitOfWork,
    ticket: Ticket,
    kind: str,
    columns: Mapping[str, Any],
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Set `columns` on `ticket`, touch `updated_at` and write one `kind` event with
    `before`/`after` (the caller says how the change reads in the audit trail)."""
    for name, value in columns.items():
        setattr(ticket, name, value)
    ticket.updated_at = ctx.now
    ctx.event(ticket, kind, before=before, after=after, detail=detail)


def apply_fields(
    ticket: Ticket, columns: Mapping[str, Any], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set built-in fields (`columns`: title, description, priority, tags) and custom
    fields (`data`; None removes one) in memory, no event; returns what changed,
    before and after."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if data:
        values = dict(ticket.data or {})
        for name, value in data.items():
            if values.get(name) != value:
                before[name], after[name] = values.get(name), value
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        ticket.data = values
    for name, value in columns.items():
        if getattr(ticket, name) != value:
            before[name], after[name] = getattr(ticket, name), value
            setattr(ticket, name, value)
    return before, after


def update_fields(
    ctx: UnitOfWork,
    ticket: Ticket,
    *,
    columns: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Change built-in and custom fields (`apply_fields`) and write `ticket.updated`
    with what changed; nothing changed, no event. With `previous` (the ticket's
    condition values before), the type's priority rules run on the changed ticket and
    the priority they choose is part of the same change. Returns what changed (after)."""
    before, after = apply_fields(ticket, columns or {}, data or {})
    if previous is not None and after:
        ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
        if ticket_type is not None:
            values = condition_values(ticket_type.field_map, ctx.values(ticket))
            fired = priority_for(ticket_type.priority_rules, values, previous, ctx.now)
            if fired is not None and fired != ticket.priority:
                before["priority"], after["priority"] = ticket.priority, fired
                ticket.priority = fired
    if after:
        change(ctx, ticket, "ticket.updated", {}, before=before, after=after, detail=detail)
    return after


def place(ticket: Ticket, team_id: str | Keep | None, assignee_id: int | Keep | None) -> bool:
    """Put the ticket in a team and/or with an assignee in memory, no event (`KEEP`:
    leave it); returns whether anything moved."""
    moved = False
    if not isinstance(team_id, Keep) and ticket.team_id != team_id:
        ticket.team_id, moved = team_id, True
    if not isinstance(assignee_id, Keep) and ticket.assignee_id != assignee_id:
        ticket.assignee_id, moved = assignee_id, True
    return moved


def assign(
    ctx: UnitOfWork,
    ticket: Ticket,
    *,
    team_id: str | Keep | None = KEEP,
    assignee_id: int | Keep | None = KEEP,
    kind: str = "ticket.assigned",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Set the team and/or the assignee and record it: `ticket.assigned` names what
    changed (no event when nothing did); `ticket.routed` (a rule or an action chose,
    `detail` says how) names where the ticket was and is, written even when it stays.
    Assignees are named by email. Returns the event's `after` (empty: no event)."""
    old_team, old_assignee = ticket.team_id, ticket.assignee_id
    moved = place(ticket, team_id, assignee_id)
    routed = kind != "ticket.assigned"
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if routed or ticket.team_id != old_team:
        before["team"], after["team"] = old_team, ticket.team_id
    if routed or ticket.assignee_id != old_assignee:
        before["assignee"] = _email(ctx, old_assignee)
        after["assignee"] = _email(ctx, ticket.assignee_id)
    if not after:
        return {}
    if moved:
        ticket.updated_at = ctx.now
    ctx.event(ticket, kind, before=before, after=after, detail=detail)
    return after


def _email(ctx: UnitOfWork, user_id: int | None) -> str | None:
    user = ctx.user(user_id)
    return user.email if user is not None else None


def state_columns(state: StateDef, now: datetime) -> dict[str, Any]:
    """The columns a ticket entering `state` at `now` gets: the state and its category,
    `state_since`; a resolved state stamps `resolved_at`, a closed one `closed_at`, an
    open one (new, open, pending) clears both (reopened)."""
    columns: dict[str, Any] = {
        "state": state.id,
        "state_category": state.category,
        "state_since": now,
    }
    if state.category == StateCategory.RESOLVED:
        columns["resolved_at"] = now
    elif state.category == StateCategory.CLOSED:
        columns["closed_at"] = now
    elif state.category in OPEN_CATEGORIES:
        columns["resolved_at"] = columns["closed_at"] = None
    return columns


def enter_state(
    ctx: UnitOfWork,
    ticket: Ticket,
    workflow: WorkflowDef,
    state_id: str,
    *,
    kind: str | None,
    columns: Mapping[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    arrived: Callable[[], None] | None = None,
    actions: tuple[Action, ...] = (),
    source: str = "",
    depth: int = 0,
) -> None:
    """Move `ticket` into the state `state_id` of its `workflow` and record it, then
    run what entering it runs.

    1. The state's columns (`state_columns`) and `columns` (what else the move sets: a
       transition's fields, a merge's target) are set and one `kind` event is written,
       its `before`/`after` holding the state and what the caller adds. `kind` None: a
       new ticket, whose row already holds its initial state and whose
       `ticket.created` records it (nothing is set or written here).
    2. `arrived`, if given: what happens once the ticket is in the state and before any
       action (a transition's comment, which counts against the SLA in the new state).
    3. `actions` (the way in: a transition's own, recorded under `source`), then the
       state's `on_enter` actions (`on_enter:<state>`), in that order, at `depth` in a
       chain of transitions.
    """
    # Imported here: declared actions use these helpers, so `transitions` imports this.
    from gongdan.engine.tickets.transitions import run_actions

    state = workflow.states[state_id]
    if kind is not None:
        moved = {"state": ticket.state}
        change(
            ctx,
            ticket,
            kind,
            {**state_columns(state, ctx.now), **(columns or {})},
            before={**moved, **(before or {})},
            after={"state": state.id, **(after or {})},
            detail=detail,
        )
    if arrived is not None:
        arrived()
    if kind is not None:
        ctx.session.flush()
    if actions:
        run_actions(ctx, ticket, actions, source=source, depth=depth)
    on_enter = workflow.on_enter.get(state.id, ())
    run_actions(ctx, ticket, on_enter, source=f"on_enter:{state.id}", depth=depth)
