"""Reads the agent desk's ticket page needs besides the service's: the ticket's files,
the tickets linked to it, and the people the assignee picker offers.

Each takes the reader's actor and returns plain records; linked tickets the reader may
not see are left out (a requester's duplicate merged elsewhere stays private).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gongdan.engine.config.bundle import Bundle
from gongdan.engine.context import WriteContext
from gongdan.engine.db.models import Attachment, Membership, Ticket, TicketLink, User
from gongdan.engine.decisions import Actor

__all__ = ["AttachmentInfo", "LinkInfo", "list_assignable", "ticket_attachments", "ticket_links"]

_MAX_PEOPLE = 300


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    field_id: str | None


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A link as seen from one ticket: `kind` read from it (`merged_into`, `merged_from`,
    `split_from`, `split_into`, `duplicates`, `duplicated_by`, `relates`)."""

    kind: str
    key: str
    title: str
    state: str


_REVERSE = {
    "merged_into": "merged_from",
    "split_from": "split_into",
    "duplicates": "duplicated_by",
    "relates": "relates",
}


def ticket_attachments(
    session: Session, bundle: Bundle, actor: Actor, key: str, now: datetime
) -> list[AttachmentInfo]:
    """The files attached to a ticket the actor may see (NotFound otherwise)."""
    ticket = WriteContext(session, bundle, actor, now).ticket(key)
    rows = session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    )
    return [AttachmentInfo(a.id, a.filename, a.content_type, a.size, a.field_id) for a in rows]


def ticket_links(
    session: Session, bundle: Bundle, actor: Actor, key: str, now: datetime
) -> list[LinkInfo]:
    """The tickets linked to `key`, in both directions, that the actor may see."""
    ctx = WriteContext(session, bundle, actor, now)
    ticket = ctx.ticket(key)
    links = list(
        session.scalars(
            select(TicketLink)
            .where(or_(TicketLink.source_id == ticket.id, TicketLink.target_id == ticket.id))
            .order_by(TicketLink.id)
        )
    )
    others = {link.target_id if link.source_id == ticket.id else link.source_id for link in links}
    tickets = {t.id: t for t in _tickets(session, others)}
    out = []
    for link in links:
        outgoing = link.source_id == ticket.id
        other = tickets.get(link.target_id if outgoing else link.source_id)
        if other is None or not ctx.may_see(other):
            continue
        kind = link.kind if outgoing else _REVERSE.get(link.kind, link.kind)
        out.append(LinkInfo(kind, other.key, other.title, other.state))
    return out


def _tickets(session: Session, ids: Iterable[int]) -> list[Ticket]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.id.in_(wanted))))


def list_assignable(session: Session, team_id: str | None = None) -> list[tuple[str, str]]:
    """(email, name) of active agents and admins, of `team_id` only when given, by name."""
    query = select(User.email, User.name).where(
        User.active.is_(True), User.role.in_(("agent", "admin"))
    )
    if team_id:
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.team_id == team_id
        )
    rows = session.execute(query.order_by(User.name, User.email).limit(_MAX_PEOPLE))
    return [(email, name) for email, name in rows]
