"""Taking workflow transitions, and running the actions they and `on_enter` declare.

A transition enters its target state through `changes.enter_state` (the state's
columns, the `ticket.transitioned` event, then the transition's own actions and the
state's `on_enter` actions). Immediate actions (set, assign to a team or user,
add_tags, an internal comment, a chained transition) change the ticket in the same
transaction through the same helpers as a person's change; the others (notify,
webhook, survey) become outbox rows for the background workers. Chained transitions
stop at `MAX_CHAIN` with an event saying so.
"""

from __future__ import annotations

from typing import Any

from gongdan.engine.automation.automations import run_automations
from gongdan.engine.automation.routing import choose_assignment
from gongdan.engine.automation.sla import on_public_reply
from gongdan.engine.store.models import Comment, Ticket
from gongdan.engine.tickets.changes import SET_COLUMNS, assign, enter_state, update_fields
from gongdan.engine.tickets.tickets import _clean_text, _link_attachments, check_references
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import TransitionNotAllowed, ValidationFailed
from gongdan.forms.data import check_ticket_data, condition_values
from gongdan.frozen import thaw
from gongdan.rules.actions import Action, Assignment
from gongdan.rules.workflow import TransitionDef, transition_problems

__all__ = ["MAX_CHAIN", "run_actions", "take_transition"]

MAX_CHAIN = 5
DEFERRED_ACTIONS = frozenset({"notify", "webhook", "survey"})


def _find(ctx: UnitOfWork, ticket: Ticket, transition_id: str) -> TransitionDef:
    workflow = ctx.workflow(ctx.ticket_type(ticket))
    for transition in workflow.transitions:
        if transition.id == transition_id:
            return transition
    raise TransitionNotAllowed(
        f"{ticket.key}: no transition '{transition_id}' in workflow '{workflow.id}'"
    )


def take_transition(
    ctx: UnitOfWork,
    key: str,
    transition_id: str,
    *,
    fields: dict[str, Any] | None = None,
    comment: str | None = None,
    public: bool = True,
    expected_version: int | None = None,
    depth: int = 0,
) -> Ticket:
    """Move a ticket along its workflow, with the fields and comment the transition asks."""
    ticket = ctx.ticket(key, expected_version=expected_version)
    ticket_type = ctx.ticket_type(ticket)
    workflow = ctx.workflow(ticket_type)
    transition = _find(ctx, ticket, transition_id)
    values = condition_values(ticket_type.field_map, ctx.values(ticket))
    problems = transition_problems(workflow, transition, values, ctx.actor, ctx.now)
    if problems:
        raise TransitionNotAllowed(f"{key}: " + "; ".join(problems), {"transition": problems[0]})
    given = dict(fields or {})
    unexpected = [name for name in given if name not in transition.fields]
    if unexpected:
        raise ValidationFailed(
            f"'{transition.id}' does not ask for {', '.join(unexpected)}",
            dict.fromkeys(unexpected, f"is not asked for by '{transition.id}'"),
        )
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    custom_given = {k: v for k, v in given.items() if k in ticket_type.field_map}
    data = dict(ticket.data or {})
    if custom_given:
        cleaned = check_ticket_data(
            ticket_type.fields,
            custom_given,
            context={**values, **data},
            previous=values,
            now=ctx.now,
            partial=True,
        )
        check_references(ctx, ticket_type, cleaned)
        _link_attachments(ctx, ticket, ticket_type, cleaned)
        for name, value in cleaned.items():
            if data.get(name) != value:
                before[name], after[name] = data.get(name), value
            data[name] = value
        data = {k: v for k, v in data.items() if v is not None}
    missing = {
        name: f"is required for '{transition.id}'"
        for name in transition.fields
        if name in ticket_type.field_map and data.get(name) in (None, "", [])
    }
    text = _clean_text(comment, "comment").strip() if comment else ""
    if transition.comment == "required" and not text:
        missing["comment"] = f"is required for '{transition.id}'"
    if missing:
        raise ValidationFailed(f"'{transition.id}' needs: {', '.join(missing)}", missing)

    def arrived() -> None:
        """The transition's comment and its outbox row, once the ticket is in the
        target state (a requester's reply restarts the clock of the new state)."""
        if text:
            if not public:
                ctx.require_staff("write internal notes")
            ctx.session.add(
                Comment(
                    ticket_id=ticket.id,
                    author_id=ctx.actor.user_id,
                    body=text,
                    public=public,
                    created_at=ctx.now,
                )
            )
            if public:
                on_public_reply(ctx, ticket, by_staff=ctx.actor.is_staff)
        ctx.outbox(
            "ticket.transitioned",
            {
                "ticket": ticket.key,
                "transition": transition.id,
                "from": origin,
                "to": transition.target,
            },
        )

    origin = ticket.state
    enter_state(
        ctx,
        ticket,
        workflow,
        transition.target,
        kind="ticket.transitioned",
        columns={"data": data},
        before=before,
        after=after,
        detail={"transition": transition.id, "comment": bool(text)},
        arrived=arrived,
        actions=transition.actions,
        source=f"transition:{transition.id}",
        depth=depth,
    )
    run_automations(ctx, ticket, "ticket.transitioned", previous=values, depth=depth)
    return ticket


def run_actions(
    ctx: UnitOfWork, ticket: Ticket, actions: tuple[Action, ...], *, source: str, depth: int = 0
) -> None:
    """Run declared actions on `ticket` as the system, recording what each did."""
    for action in actions:
        if action.kind in DEFERRED_ACTIONS:
            ctx.outbox(
                action.kind,
                {
                    "ticket": ticket.key,
                    "target": thaw(action.value),
                    "template": action.template,
                    "source": source,
                },
            )
            continue
        if action.kind == "transition":
            if depth + 1 >= MAX_CHAIN:
                ctx.event(
                    ticket,
                    "action.stopped",
                    detail={
                        "source": source,
                        "reason": f"more than {MAX_CHAIN} chained transitions",
                    },
                )
                continue
            system = ctx.as_system()
            take_transition(system, ticket.key, str(action.value), depth=depth + 1)
            continue
        _run_immediate(ctx, ticket, action, source)


def _run_immediate(ctx: UnitOfWork, ticket: Ticket, action: Action, source: str) -> None:
    """An action that changes the ticket now, through the helpers a person's change
    uses (`changes`), its events saying which declaration did it (`source`)."""
    if action.kind == "set":
        values = thaw(action.value)
        columns = {k: v for k, v in values.items() if k in SET_COLUMNS}
        data = {k: v for k, v in values.items() if k not in SET_COLUMNS}
        update_fields(ctx, ticket, columns=columns, data=data, detail={"source": source})
    elif action.kind == "add_tags":
        tags = list(ticket.tags or ())
        added = [t for t in action.value if t not in tags]
        if added:
            update_fields(ctx, ticket, columns={"tags": tags + added}, detail={"source": source})
    elif action.kind == "assign":
        assignment: Assignment = action.value
        team_id, assignee_id, detail = choose_assignment(ctx, ticket, assignment, source=source)
        assign(
            ctx,
            ticket,
            team_id=team_id,
            assignee_id=assignee_id,
            kind="ticket.routed",
            detail=detail,
        )
    elif action.kind == "comment":
        ctx.session.add(
            Comment(
                ticket_id=ticket.id,
                author_id=None,
                body=str(action.value),
                public=False,
                created_at=ctx.now,
            )
        )
        ctx.event(ticket, "comment.added", after={"public": False}, detail={"source": source})
