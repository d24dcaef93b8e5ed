"""Relations between tickets: link, merge (keeping both histories) and split.

A link is stored once, from the ticket it was made on to the other, in one of
`LINK_KINDS`; the reverse reading (`blocked_by`, `child_of`…) is how the other end sees
it, so "A is blocked by B" is stored as "B blocks A" (`REVERSE_KINDS`). A merge closes
the source by entering its workflow's closed state (`changes.enter_state`: its
`on_enter` actions run, as for a transition into it). A split creates the new ticket
with its source's team and assignee, recorded in its `ticket.created` event, and moves
the comments chosen (with their files) to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update

from gongdan.engine.store.models import Attachment, Comment, Ticket, TicketLink
from gongdan.engine.tickets.changes import change, enter_state
from gongdan.engine.tickets.tickets import create_ticket
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.vocabulary import StateCategory

__all__ = [
    "LINK_KINDS",
    "REVERSE_KINDS",
    "add_link",
    "link_tickets",
    "merge_tickets",
    "split_ticket",
    "unlink_tickets",
]

# What an agent may link by hand, stored from the ticket it was made on.
LINK_KINDS = ("relates", "duplicates", "blocks", "parent_of")
# How each stored kind reads from its other end (merges and splits included); a link
# asked for in a reverse reading is stored the other way round.
REVERSE_KINDS = {
    "relates": "relates",
    "duplicates": "duplicated_by",
    "blocks": "blocked_by",
    "parent_of": "child_of",
    "merged_into": "merged_from",
    "split_from": "split_into",
    "follow_up_of": "followed_up_by",  # a requester's reply to a closed ticket
}
_STORED_AS = {
    reverse: kind
    for kind, reverse in REVERSE_KINDS.items()
    if kind in LINK_KINDS and reverse != kind
}


def add_link(ctx: UnitOfWork, source: Ticket, target: Ticket, kind: str) -> bool:
    """Store the link `source` `kind` `target` unless it is there; whether it was new
    (the caller records its events)."""
    return _link(ctx, source, target, kind)


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
    """Relate two tickets the actor can see: `key` `kind` `other_key` (a kind of
    `LINK_KINDS`, or its reverse reading: `blocked_by`, `child_of`, `duplicated_by`)."""
    ctx.require_staff("link tickets")
    if kind not in LINK_KINDS and kind not in _STORED_AS:
        known = ", ".join([*LINK_KINDS, *_STORED_AS])
        raise ValidationFailed(f"unknown link kind '{kind}'", {"kind": f"must be one of: {known}"})
    source, target = ctx.ticket(key), ctx.ticket(other_key)
    if source.id == target.id:
        raise ValidationFailed("a ticket cannot be linked to itself", {"target": "is this ticket"})
    if kind in _STORED_AS:
        source, target, kind = target, source, _STORED_AS[kind]
    if _link(ctx, source, target, kind):
        ctx.event(source, "ticket.linked", after={"target": target.key, "kind": kind})
        ctx.event(target, "ticket.linked", after={"source": source.key, "kind": kind})
    return source


def unlink_tickets(ctx: UnitOfWork, key: str, other_key: str, kind: str = "relates") -> Ticket:
    """Remove the link `key` `kind` `other_key` made by hand (a kind of `LINK_KINDS` or
    its reverse reading, as `link_tickets` takes it). Merges, splits and follow-ups are
    the tickets' history: they stay."""
    ctx.require_staff("unlink tickets")
    if kind not in LINK_KINDS and kind not in _STORED_AS:
        raise ValidationFailed(
            f"only a link made by hand can be removed, not '{kind}'",
            {"kind": f"must be one of: {', '.join([*LINK_KINDS, *_STORED_AS])}"},
        )
    source, target = ctx.ticket(key), ctx.ticket(other_key)
    if kind in _STORED_AS:
        source, target, kind = target, source, _STORED_AS[kind]
    ends = [(source.id, target.id)]
    if kind == "relates":  # read the same from both ends: stored from either
        ends.append((target.id, source.id))
    link = ctx.session.scalars(
        select(TicketLink).where(
            TicketLink.kind == kind,
            or_(*(and_(TicketLink.source_id == a, TicketLink.target_id == b) for a, b in ends)),
        )
    ).first()
    if link is None:
        raise NotFound(f"{key} has no such link to {other_key}")
    ctx.session.delete(link)
    ctx.event(source, "ticket.unlinked", before={"target": target.key, "kind": kind})
    ctx.event(target, "ticket.unlinked", before={"source": source.key, "kind": kind})
    return ctx.ticket(key)


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
    comments: Sequence[int] = (),
) -> Ticket:
    """A new ticket of the same type and requester, split from `key` and linked to it;
    the `comments` of `key` named (ids) move to it with their files.

    It keeps the source's team and assignee, and its audit trail says so: it is
    created with them (routing does not run), so its `ticket.created` event names the
    team and assignee it has, like any other part of the new ticket. (Routing it and
    then moving it would record a choice nobody made.)"""
    ctx.require_staff("split tickets")
    source = ctx.ticket(key)
    moving = _comments_of(ctx, source, comments)
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
    moved: dict[str, Any] = {}
    if moving:
        ctx.session.execute(update(Comment).where(Comment.id.in_(moving)).values(ticket_id=new.id))
        ctx.session.execute(
            update(Attachment).where(Attachment.comment_id.in_(moving)).values(ticket_id=new.id)
        )
        moved = {"comments": moving}
    ctx.event(source, "ticket.split", after={"into": new.key, **moved})
    ctx.event(new, "ticket.split_from", after={"source": source.key, **moved})
    return new


def _comments_of(ctx: UnitOfWork, ticket: Ticket, ids: Sequence[int]) -> list[int]:
    """`ids` (sorted, once each) if every one is a comment of `ticket`; else refused."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    storable = [i for i in wanted if 0 < i < 2**63]  # an id no row can have is not looked up
    found = set(
        ctx.session.scalars(
            select(Comment.id).where(Comment.ticket_id == ticket.id, Comment.id.in_(storable))
        )
    )
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            f"{', '.join(missing)} {'is not a comment' if len(missing) == 1 else 'are not comments'}"
            f" of {ticket.key}",
            {"comments": f"not comments of {ticket.key}: {', '.join(missing)}"},
        )
    return wanted
