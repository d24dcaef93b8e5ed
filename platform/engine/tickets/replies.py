"""A reply to a ticket, with what a requester's reply means once the work is done.

Staff replies and internal notes are comments (`tickets.add_comment`). A requester's
public reply to a resolved ticket takes the workflow's declared `reopen` transition
(with the reply as its comment) when the requester may take it now, so an agent sees
the ticket again; to a closed ticket (its work over, nobody looks at it), the reply
starts a follow-up: a new ticket of the same type and requester, linked to the closed
one (`follow_up_of`), where the reply goes. A reply to a merged ticket goes to the
ticket it was merged into, when the requester may see that one. The caller learns which ticket the reply
landed on from the comment's ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from gongdan.engine.store.models import Comment, Ticket
from gongdan.engine.tickets.attachments import attach_to_comment, find_upload
from gongdan.engine.tickets.links import add_link
from gongdan.engine.tickets.tickets import add_comment, create_ticket
from gongdan.engine.tickets.transitions import take_transition
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.rules.workflow import allowed_transitions
from gongdan.vocabulary import StateCategory

__all__ = ["REOPEN", "add_reply"]

REOPEN = "reopen"  # the transition id a workflow declares for a requester's reply


def add_reply(
    ctx: UnitOfWork, key: str, body: str, *, public: bool = True, files: Sequence[Any] = ()
) -> Comment:
    """Reply to `key` (see the module docstring), with the actor's reply uploads named
    in `files`; returns the comment written."""
    ticket = ctx.ticket(key)
    if not (public and ctx.actor.is_requester):
        return add_comment(ctx, key, body, public=public, files=files)
    survivor = _survivor(ctx, ticket)
    if survivor is not None:  # merged: the conversation goes on where it was merged
        return add_reply(ctx, survivor.key, body, public=True, files=files)
    if ticket.state_category == StateCategory.CLOSED:
        follow_up = _follow_up(ctx, ticket)
        return add_comment(ctx, follow_up.key, body, public=True, files=files)
    if ticket.state_category == StateCategory.RESOLVED and _may_reopen(ctx, ticket):
        if not body.strip():  # files alone: their names are the reply's text
            uploads = [find_upload(ctx.session, f) for f in files]
            body = ", ".join(u.filename for u in uploads if u is not None)
        take_transition(ctx, key, REOPEN, comment=body, public=True)
        latest = select(Comment).where(Comment.ticket_id == ticket.id)
        comment = ctx.session.scalar(latest.order_by(Comment.id.desc()).limit(1))
        assert comment is not None  # noqa: S101 - the transition wrote the reply
        if files:
            attached = attach_to_comment(ctx, ticket, comment, list(files))
            after = {"comment_id": comment.id, "files": [f.filename for f in attached]}
            ctx.event(ticket, "comment.files_added", after=after)
        return comment
    return add_comment(ctx, key, body, public=True, files=files)


def _survivor(ctx: UnitOfWork, ticket: Ticket) -> Ticket | None:
    """The ticket `ticket` was merged into, if the actor may see it."""
    if ticket.merged_into_id is None:
        return None
    target = ctx.session.get(Ticket, ticket.merged_into_id)
    return target if target is not None and ctx.may_see(target) else None


def _may_reopen(ctx: UnitOfWork, ticket: Ticket) -> bool:
    ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
    if ticket_type is None:
        return False
    workflow = ctx.workflow(ticket_type)
    allowed = allowed_transitions(workflow, ctx.condition_values(ticket), ctx.actor, ctx.now)
    return any(t.id == REOPEN for t in allowed)


def _follow_up(ctx: UnitOfWork, closed: Ticket) -> Ticket:
    """A new ticket like `closed` (type, requester, title, fields), linked to it."""
    requester = ctx.user(closed.requester_id)
    assert requester is not None  # noqa: S101 - a ticket always has a requester
    new = create_ticket(
        ctx,
        closed.ticket_type,
        title=closed.title,
        description="",
        fields=dict(closed.data or {}),
        requester=requester.email,
    )
    add_link(ctx, new, closed, "follow_up_of")
    ctx.event(closed, "ticket.followed_up", after={"by": new.key})
    ctx.event(new, "ticket.follow_up_of", after={"source": closed.key})
    return new
