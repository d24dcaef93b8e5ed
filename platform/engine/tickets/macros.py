"""Apply a macro (`kind: Macro`, a canned response) to a ticket: one write.

In one unit of work, in this order: the fields the macro sets and the tags it adds
(`tickets.update_ticket`, except the fields its transition asks for), the team and
assignee it sets (`tickets.assign_ticket`, the same path as the assign form: its
checks, event and notification; `me` is whoever applies it; after the reply when the
macro takes no transition, so a hand-over note is written while the agent still sees
the ticket), then the reply —
as the transition's comment when the macro takes one, else as a comment of its own —
and the transition. Any refusal (a field the ticket's state makes read-only, a
transition not allowed now, a required comment left empty) rolls the whole macro back:
a ticket never ends half done. An internal `macro.applied` event records which macro
was used.

The reply's text is given by the caller: the engine never runs templates (Jinja2 is
the layers above's; `gongdan.ui.macros` renders the macro's text in the sandbox, and
the agent may edit it before sending).
"""

from __future__ import annotations

from typing import Any

from gongdan.bundle.compile_macros import ME, NOBODY, MacroDef
from gongdan.engine.store.models import Ticket
from gongdan.engine.tickets.tickets import add_comment, assign_ticket, update_ticket
from gongdan.engine.tickets.transitions import take_transition
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import NotFound, ValidationFailed

__all__ = ["apply_macro", "find_macro", "macros_for"]


def find_macro(ctx: ReadContext, macro_id: str) -> MacroDef:
    """The macro `macro_id` of the bundle (staff only); NotFound otherwise."""
    ctx.require_staff("use macros")
    macro = ctx.bundle.macros.get(macro_id) if isinstance(macro_id, str) else None
    if macro is None:
        raise NotFound(f"no macro '{macro_id}'")
    return macro


def macros_for(ctx: ReadContext, ticket: Ticket | None) -> list[MacroDef]:
    """The macros offered for `ticket` (its type and team), or every macro."""
    ctx.require_staff("use macros")
    macros = list(ctx.bundle.macros.values())
    if ticket is None:
        return macros
    return [m for m in macros if m.applies_to(ticket.ticket_type, ticket.team_id)]


def apply_macro(
    ctx: UnitOfWork,
    key: str,
    macro_id: str,
    *,
    reply: str | None,
    public: bool | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Apply `macro_id` to `key` with the (rendered, maybe edited) `reply`; `public`
    None: as the macro says."""
    macro = find_macro(ctx, macro_id)
    ticket = ctx.ticket(key, expected_version=expected_version)
    if not macro.applies_to(ticket.ticket_type, ticket.team_id):
        raise ValidationFailed(
            f"macro '{macro.id}' does not apply to {key}",
            {"macro": "does not apply to this ticket's type or team"},
        )
    public = macro.public if public is None else public
    changes: dict[str, Any] = dict(macro.set)
    if macro.add_tags:
        tags = list(ticket.tags or ())
        changes["tags"] = tags + [t for t in macro.add_tags if t not in tags]
    asked: frozenset[str] = frozenset()
    if macro.transition is not None:
        workflow = ctx.workflow(ctx.ticket_type(ticket))
        found = [t for t in workflow.transitions if t.id == macro.transition]
        asked = frozenset(found[0].fields) if found else frozenset()
    assignment: dict[str, Any] = {k: changes.pop(k) for k in ("team", "assignee") if k in changes}
    for_transition = {k: v for k, v in changes.items() if k in asked}
    rest = {k: v for k, v in changes.items() if k not in asked}
    if rest:
        update_ticket(ctx, key, rest)
    text = (reply or "").strip() or None
    if macro.transition is not None:
        # The assignment first: the transition may ask for an assignee (`resolve`).
        _assign(ctx, key, assignment)
        take_transition(
            ctx, key, macro.transition, fields=for_transition or None, comment=text, public=public
        )
    else:
        # The reply first: an assignment to another team may take the ticket out of
        # the agent's sight, and their note for that team is written by then.
        if text is not None:
            add_comment(ctx, key, text, public=public)
        _assign(ctx, key, assignment)
    ctx.event(ticket, "macro.applied", after={"macro": macro.id, "public": False})
    return ticket


def _assign(ctx: UnitOfWork, key: str, assignment: dict[str, Any]) -> None:
    """The team and assignee a macro sets, through the assign path (`me`: the actor)."""
    if not assignment:
        return
    assignee = assignment.get("assignee")
    if assignee == ME:
        assignee = ctx.actor.email or ""
    assign_ticket(
        ctx, key, team=assignment.get("team"), assignee="" if assignee == NOBODY else assignee
    )
