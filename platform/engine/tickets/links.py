"""Relations between tickets: link, merge (keeping both histories) and split.

A merge closes the source by entering its workflow's closed state (`changes.enter_state`:
its `on_enter` actions run, as for a transition into it). A split creates the new
ticket with its source's team and assignee, recorded in its `ticket.created` event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gongdan.engine.store.models import Ticket, TicketLink
from gongdan.engine.tickets.changes import change, enter_state
from gongdan.engine.tickets.tickets import create_ticket
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import Conflict, ValidationFailed
from gongdan.vocabulary import StateCategory

__all__ = ["LINK_KINDS", "link_tickets", "merge_tickets", "split_ticket"]

LINK_KINDS = ("relates", "duplicates", "blocks")


def _link(ctx: UnitOfWork, source: Ticket, target: Ticket, kind: str) -> bool:
    exists = ctx.session.scalar(
        select(TicketLink.id).where(
            TicketLink.source_id == source.id,
            TicketLink.target_id == target.id,
            TicketLink.kind == kind,
        )
    )
    if exists is not None:
        return False
    ctx.session.add(
        TicketLink(source_id=source.id, target_id=target.id, kind=kind, created_at=ctx.now)
    )
    return True


def link_tickets(ctx: UnitOfWork, key: str, other_key: str, kind: str = "relates") -> Ticket:
    """Relate two tickets the actor can see."""
    ctx.require_staff("link tickets")
    if kind not in LINK_KINDS:
        raise ValidationFailed(
            f"unknown link kind '{kind}'", {"kind": f"must be one of: {', '.join(LINK_KINDS)}"}
        )
    source, target = ctx.ticket(key), ctx.ticket(other_key)
    if source.id == target.id:
        raise ValidationFailed("a ticket cannot be linked to itself", {"target": "is this ticket"})
    if _link(ctx, source, target, kind):
        ctx.event(source, "ticket.linked", after={"target": target.key, "kind": kind})
        ctx.event(target, "ticket.linked", after={"source": source.key, "kind": kind})
    return source


def merge_tickets(
    ctx: UnitOfWork, key: str, into_key: str, *, expected_version: int | None = None
) -> Ticket:
    """Merge ticket `key` into `into_key`: the source is closed and points at the target;
    both keep their own history, and the target's history lists the source's."""
    ctx.require_staff("merge tickets")
    source = ctx.ticket(key, expected_version=expected_version)
    target = ctx.ticket(into_key)
    if source.id == target.id:
        raise ValidationFailed(
            "a ticket cannot be merged into itself", {"target": "is this ticket"}
        )
    if source.merged_into_id is not None:
        raise Conflict(f"{key} is already merged")
    if target.merged_into_id is not None:
        raise Conflict(f"{into_key} is itself merged into another ticket")
    workflow = ctx.workflow(ctx.ticket_type(source))
    closed = next((s for s in workflow.states.values() if s.category == StateCategory.CLOSED), None)
    target.updated_at = ctx.now
    _link(ctx, source, target, "merged_into")

    def merged_in() -> None:
        ctx.event(target, "ticket.merged_in", after={"source": source.key})
        ctx.outbox("ticket.merged", {"ticket": source.key, "into": target.key})

    pointer = {"merged_into_id": target.id}
    if closed is None:  # a workflow without a closed state: the source stays where it is
        state = {"state": source.state}
        change(
            ctx,
            source,
            "ticket.merged",
            pointer,
            before=state,
            after={**state, "merged_into": target.key},
        )
        merged_in()
    else:
        enter_state(
            ctx,
            source,
            workflow,
            closed.id,
            kind="ticket.merged",
            columns=pointer,
            after={"merged_into": target.key},
            arrived=merged_in,
        )
    return target


def split_ticket(
    ctx: UnitOfWork,
    key: str,
    *,
    title: str,
    description: str = "",
    fields: dict[str, Any] | None = None,
) -> Ticket:
    """A new ticket of the same type and requester, split from `key` and linked to it.

    It keeps the source's team and assignee, and its audit trail says so: it is
    created with them (routing does not run), so its `ticket.created` event names the
    team and assignee it has, like any other part of the new ticket. (Routing it and
    then moving it would record a choice nobody made.)"""
    ctx.require_staff("split tickets")
    source = ctx.ticket(key)
    requester = ctx.user(source.requester_id)
    assert requester is not None  # noqa: S101 - a ticket always has a requester
    # The new ticket goes on with the source's people: created in their team and with
    # their assignee (not routed), which its `ticket.created` event records.
    new = create_ticket(
        ctx,
        source.ticket_type,
        title=title,
        description=description,
        fields=fields if fields is not None else dict(source.data or {}),
        requester=requester.email,
        placed=(source.team_id, source.assignee_id),
    )
    _link(ctx, new, source, "split_from")
    ctx.event(source, "ticket.split", after={"into": new.key})
    ctx.event(new, "ticket.split_from", after={"source": source.key})
    return new
