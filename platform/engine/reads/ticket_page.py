"""Everything the desk's ticket page shows, read in one session: the ticket, the
transitions the reader may take, comments, events (with those of tickets merged into
it), SLA explanations, files, linked tickets and the people the assignee picker offers.

The same scoping and filtering as `TicketService`'s reads (a requester sees no internal
note or field; a ticket outside an agent's teams is NotFound), done once per page instead
of once per read: the page is one transaction and one ticket lookup. Tickets merged into
this one are found through their `merged_into` link (indexed by the link table, not a
scan of all tickets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gongdan.bundle.compiled import Bundle
from gongdan.engine.automation.sla import SLAExplanation, explain_sla
from gongdan.engine.reads.queries import select_comments, select_events
from gongdan.engine.records import CommentRecord, EventRecord, TicketRecord
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Attachment, Delivery, Membership, Ticket, TicketLink, User
from gongdan.engine.unit_of_work import ReadContext
from gongdan.forms.data import condition_values
from gongdan.rules.workflow import Actor, TransitionDef, allowed_transitions
from gongdan.vocabulary import STAFF_ROLES

__all__ = [
    "AttachmentInfo",
    "DeliveryInfo",
    "LinkInfo",
    "TicketPage",
    "list_assignable",
    "read_ticket_page",
    "ticket_attachments",
    "ticket_links",
]

_MAX_PEOPLE = 300
_MAX_DELIVERIES = 20


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    """One attempt to deliver a notification or webhook about the ticket."""

    at: datetime
    kind: str
    target: str
    outcome: str
    attempt: int
    error: str | None


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
    ticket = ReadContext(session, bundle, actor, now).ticket(key)
    return _attachments(session, ticket)


def ticket_links(
    session: Session, bundle: Bundle, actor: Actor, key: str, now: datetime
) -> list[LinkInfo]:
    """The tickets linked to `key`, in both directions, that the actor may see."""
    ctx = ReadContext(session, bundle, actor, now)
    return _links(ctx, ctx.ticket(key))


def _links(ctx: ReadContext, ticket: Ticket) -> list[LinkInfo]:
    session = ctx.session
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
        User.active.is_(True), User.role.in_(sorted(STAFF_ROLES))
    )
    if team_id:
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.team_id == team_id
        )
    rows = session.execute(query.order_by(User.name, User.email).limit(_MAX_PEOPLE))
    return [(email, name) for email, name in rows]


@dataclass(frozen=True, slots=True)
class TicketPage:
    ticket: TicketRecord
    transitions: tuple[TransitionDef, ...]
    comments: tuple[CommentRecord, ...]
    events: tuple[EventRecord, ...]
    sla: tuple[SLAExplanation, ...]
    attachments: tuple[AttachmentInfo, ...]
    links: tuple[LinkInfo, ...]
    assignable: tuple[tuple[str, str], ...]
    deliveries: tuple[DeliveryInfo, ...] = ()


def read_ticket_page(
    db: Database, bundle: Bundle, actor: Actor, key: str, now: datetime
) -> TicketPage:
    """The ticket page of `key` as `actor` may see it (NotFound if they may not)."""
    with db.reading() as session:
        ctx = ReadContext(session, bundle, actor, now)
        ticket = ctx.ticket(key)
        record = ctx.record(ticket)
        return TicketPage(
            ticket=record,
            transitions=tuple(_transitions(ctx, ticket)),
            comments=tuple(
                CommentRecord.build(c, key, ctx.user(c.author_id))
                for c in select_comments(session, [ticket.id], actor)
            ),
            events=tuple(_events(ctx, ticket)),
            sla=tuple(explain_sla(bundle, ticket)),
            attachments=tuple(_attachments(session, ticket)),
            links=tuple(_links(ctx, ticket)),
            assignable=tuple(list_assignable(session, ticket.team_id)),
            deliveries=tuple(_deliveries(session, ticket)) if actor.is_staff else (),
        )


def _transitions(ctx: ReadContext, ticket: Ticket) -> list[TransitionDef]:
    ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
    if ticket_type is None:
        return []
    workflow = ctx.bundle.workflows[ticket_type.workflow]
    values = condition_values(ticket_type.fields, ctx.values(ticket))
    return allowed_transitions(workflow, values, ctx.actor, ctx.now)


def _events(ctx: ReadContext, ticket: Ticket) -> list[EventRecord]:
    merged_ids = ctx.session.scalars(
        select(TicketLink.source_id).where(
            TicketLink.target_id == ticket.id, TicketLink.kind == "merged_into"
        )
    )
    merged = _tickets(ctx.session, merged_ids)
    # A merged ticket's history is shown only to those who may see that ticket.
    shown = {t.id: t for t in [ticket, *merged] if ctx.may_see(t)}
    records = (
        EventRecord.build(
            e,
            shown[e.ticket_id].key,
            ctx.user(e.actor_id),
            ctx.hidden_fields(shown[e.ticket_id]),
            requester=ctx.actor.is_requester,
        )
        for e in select_events(ctx.session, list(shown), ctx.actor)
        if e.ticket_id is not None
    )
    return [record for record in records if record is not None]


def _attachments(session: Session, ticket: Ticket) -> list[AttachmentInfo]:
    rows = session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    )
    return [AttachmentInfo(a.id, a.filename, a.content_type, a.size, a.field_id) for a in rows]


def _deliveries(session: Session, ticket: Ticket) -> list[DeliveryInfo]:
    """The latest delivery attempts about the ticket, newest first (staff only)."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.ticket_key == ticket.key)
        .order_by(Delivery.id.desc())
        .limit(_MAX_DELIVERIES)
    )
    return [DeliveryInfo(d.at, d.kind, d.target, d.outcome, d.attempt, d.error) for d in rows]
