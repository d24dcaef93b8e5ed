"""Reads of one ticket — the transitions its reader may take now, its comments, its
events (with those of tickets merged into it), its files and linked tickets — and the
ticket page, everything the desk's or the portal's page of a ticket shows, read in one
session from the same functions.

Each read takes the read's unit of work and the ticket `ctx.ticket(key)` found (so
scoped: NotFound for a ticket the reader may not see). `TicketService`'s single reads
(`transitions_for`, `list_comments`, `list_events`, `list_attachments`) and its
`read_ticket_page` are built from them: what a reader may see of a ticket is decided
here once. A requester sees no internal note, event or field value; the portal's page
is the requester's view whoever looks (a staff member opening the portal too). The
people a page names are read in one statement (`ReadContext.preload_users`), never
one per comment or event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gongdan.engine.automation.sla import SLAExplanation, explain_sla
from gongdan.engine.outbox.relay import DeliveryRecord
from gongdan.engine.reads.queries import select_comments, select_events
from gongdan.engine.records import AttachmentRecord, CommentRecord, EventRecord, TicketRecord
from gongdan.engine.store.models import (
    Attachment,
    Comment,
    Delivery,
    Membership,
    Ticket,
    TicketLink,
    User,
)
from gongdan.engine.tickets.followers import CC, FOLLOWER, people_following
from gongdan.engine.tickets.links import REVERSE_KINDS
from gongdan.engine.tickets.surveys import SurveyRecord, list_surveys
from gongdan.engine.unit_of_work import ReadContext
from gongdan.rules.workflow import TransitionDef, allowed_transitions
from gongdan.vocabulary import STAFF_ROLES

__all__ = [
    "LinkInfo",
    "TicketPage",
    "assignable_people",
    "attachments_of",
    "comment_files",
    "comments_of",
    "events_of",
    "files_of_comments",
    "find_people",
    "links_of",
    "read_ticket_page",
    "transitions_of",
]

_MAX_PEOPLE = 300
_MAX_DELIVERIES = 20


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A link as seen from one ticket: `kind` read from it (`merged_into`, `merged_from`,
    `split_from`, `split_into`, `duplicates`, `duplicated_by`, `blocks`, `blocked_by`,
    `parent_of`, `child_of`, `relates`: `links.REVERSE_KINDS`)."""

    kind: str
    key: str
    title: str
    state: str
    type: str = ""  # the other ticket's type (its state's label is its workflow's)


@dataclass(frozen=True, slots=True)
class TicketPage:
    """A ticket's page. The desk's has everything but surveys (people to assign and
    deliveries for staff only); the portal's is the requester's view: the ticket
    without internal fields, public comments, the transitions open to requesters, the
    files of fields that are not internal, and the satisfaction surveys."""

    ticket: TicketRecord
    read_at: datetime  # the `now` the page was read at (SLA clocks, conditions)
    transitions: tuple[TransitionDef, ...]
    comments: tuple[CommentRecord, ...]
    attachments: tuple[AttachmentRecord, ...]
    events: tuple[EventRecord, ...] = ()
    sla: tuple[SLAExplanation, ...] = ()
    links: tuple[LinkInfo, ...] = ()
    assignable: tuple[tuple[str, str], ...] = ()
    deliveries: tuple[DeliveryRecord, ...] = ()
    surveys: tuple[SurveyRecord, ...] = ()
    # (email, name) of the agents following it (desk only) and the colleagues copied in.
    followers: tuple[tuple[str, str], ...] = ()
    cc: tuple[tuple[str, str], ...] = ()


def read_ticket_page(ctx: ReadContext, key: str, *, portal: bool = False) -> TicketPage:
    """The page of ticket `key` as `ctx.actor` may see it (NotFound if they may not):
    the desk's, or with `portal` the requester's view."""
    ticket = ctx.ticket(key)
    transitions = transitions_of(ctx, ticket, portal=portal)
    following = people_following(ctx, ticket.id)
    if portal:
        files = attachments_of(ctx, ticket, as_requester=True)
        return TicketPage(
            ticket=ctx.record(ticket, as_requester=True),
            read_at=ctx.now,
            transitions=tuple(transitions),
            comments=tuple(comments_of(ctx, ticket, public_only=True, attachments=files)),
            attachments=tuple(files),
            surveys=tuple(list_surveys(ctx, key)),
            cc=tuple(following[CC]),
        )
    staff = ctx.actor.is_staff
    linked = _linked(ctx, ticket)
    files = attachments_of(ctx, ticket)  # (the comments' files among them)
    return TicketPage(
        ticket=ctx.record(ticket),
        read_at=ctx.now,
        transitions=tuple(transitions),
        comments=tuple(comments_of(ctx, ticket, attachments=files)),
        attachments=tuple(files),
        events=tuple(_events(ctx, ticket, linked)),
        sla=tuple(explain_sla(ctx.bundle, ticket)),
        links=tuple(_link_infos(ctx, ticket, linked)),
        assignable=tuple(assignable_people(ctx.session, ticket.team_id)) if staff else (),
        deliveries=tuple(_deliveries(ctx.session, ticket)) if staff else (),
        followers=tuple(following[FOLLOWER]) if staff else (),
        cc=tuple(following[CC]),
    )


# The parts ------------------------------------------------------------------------------


def transitions_of(
    ctx: ReadContext, ticket: Ticket, *, portal: bool = False
) -> list[TransitionDef]:
    """The transitions the actor may take on `ticket` now (none if its type is gone);
    with `portal`, only those open to a requester role too (the portal offers no
    staff-only step, whoever looks)."""
    ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
    if ticket_type is None:
        return []
    workflow = ctx.bundle.workflows[ticket_type.workflow]
    allowed = allowed_transitions(workflow, ctx.condition_values(ticket), ctx.actor, ctx.now)
    return [t for t in allowed if t.roles - STAFF_ROLES] if portal else allowed


def comments_of(
    ctx: ReadContext,
    ticket: Ticket,
    *,
    public_only: bool = False,
    attachments: list[AttachmentRecord] | None = None,
) -> list[CommentRecord]:
    """The comments of `ticket`, oldest first, each with its files (their authors and
    files read in one statement each; the files taken from `attachments`, the ticket's
    as `attachments_of` read them, when given); a requester (or `public_only`) sees the
    public ones only."""
    comments = select_comments(ctx.session, [ticket.id], ctx.actor)
    if public_only:
        comments = [c for c in comments if c.public]
    ctx.preload_users(c.author_id for c in comments)
    files = (
        files_of_comments(ctx.session, [c.id for c in comments])
        if attachments is None
        else _by_comment(attachments)
    )
    return [
        CommentRecord.build(c, ticket.key, ctx.user(c.author_id), files.get(c.id, ()))
        for c in comments
    ]


def files_of_comments(
    session: Session, comment_ids: Sequence[int]
) -> dict[int, tuple[AttachmentRecord, ...]]:
    """The files of each of `comment_ids`, oldest first, in one statement."""
    if not comment_ids:
        return {}
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.comment_id.in_(list(comment_ids)))
        .order_by(Attachment.id)
    )
    return _by_comment(_attachment_record(row) for row in rows)


def _by_comment(records: Iterable[AttachmentRecord]) -> dict[int, tuple[AttachmentRecord, ...]]:
    files: dict[int, list[AttachmentRecord]] = {}
    for record in records:
        if record.comment is not None:
            files.setdefault(record.comment, []).append(record)
    return {comment: tuple(found) for comment, found in files.items()}


def events_of(ctx: ReadContext, ticket: Ticket) -> list[EventRecord]:
    """The audit trail of `ticket`, with the history of the tickets merged into it that
    the actor may see; a requester sees no internal event and no internal field."""
    return _events(ctx, ticket, _linked(ctx, ticket))


def links_of(ctx: ReadContext, ticket: Ticket) -> list[LinkInfo]:
    """The links of `ticket` to tickets the actor may see, oldest first."""
    return _link_infos(ctx, ticket, _linked(ctx, ticket))


def attachments_of(
    ctx: ReadContext, ticket: Ticket, *, as_requester: bool = False
) -> list[AttachmentRecord]:
    """The files of `ticket` (of its fields and its comments), oldest first; a
    requester (or `as_requester`) sees none of an internal field or internal note."""
    hidden = ctx.hidden_fields(ticket, as_requester=as_requester)
    rows = ctx.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    ).all()
    notes: set[int] = set()
    if ctx.actor.is_requester or as_requester:
        commented = {r.comment_id for r in rows if r.comment_id is not None}
        if commented:
            notes = set(
                ctx.session.scalars(
                    select(Comment.id).where(Comment.id.in_(commented), Comment.public.is_(False))
                )
            )
    return [
        _attachment_record(r)
        for r in rows
        if (r.field_id or "") not in hidden and r.comment_id not in notes
    ]


def comment_files(ctx: ReadContext, comment_id: int) -> tuple[AttachmentRecord, ...]:
    """The files of one comment, oldest first."""
    return files_of_comments(ctx.session, [comment_id]).get(comment_id, ())


def _attachment_record(row: Attachment) -> AttachmentRecord:
    return AttachmentRecord(
        row.public_id, row.field_id, row.filename, row.content_type, row.size,
        row.uploaded_by, row.created_at, row.comment_id,
    )  # fmt: skip


def find_people(
    session: Session, text: str, roles: frozenset[str], limit: int = 20
) -> list[tuple[str, str]]:
    """(email, name) of up to `limit` active users of `roles` whose name or email contain
    `text` (any case; those starting with it first), for a picker as one types."""
    text = text.replace("\x00", "").strip()[:254]
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    starts = func.lower(User.email).startswith(text.lower(), autoescape=True)
    query = (
        select(User.email, User.name)
        .where(
            User.active.is_(True),
            User.role.in_(sorted(roles)),
            or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")),
        )
        .order_by(starts.desc(), User.name, User.email)
        .limit(limit)
    )
    return [(email, name) for email, name in session.execute(query)]


def assignable_people(session: Session, team_id: str | None = None) -> list[tuple[str, str]]:
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


# Helpers --------------------------------------------------------------------------------


def _linked(ctx: ReadContext, ticket: Ticket) -> list[tuple[TicketLink, Ticket]]:
    """The links of `ticket` in both directions, each with the ticket at its other end
    (two statements; the second only when there are links)."""
    links = list(
        ctx.session.scalars(
            select(TicketLink)
            .where(or_(TicketLink.source_id == ticket.id, TicketLink.target_id == ticket.id))
            .order_by(TicketLink.id)
        )
    )
    ends = {_other_end(link, ticket) for link in links}
    if not ends:
        return []
    others = ctx.session.scalars(select(Ticket).where(Ticket.id.in_(sorted(ends))))
    tickets = {t.id: t for t in others}
    return [
        (link, tickets[_other_end(link, ticket)])
        for link in links
        if _other_end(link, ticket) in tickets
    ]


def _other_end(link: TicketLink, ticket: Ticket) -> int:
    return link.target_id if link.source_id == ticket.id else link.source_id


def _link_infos(
    ctx: ReadContext, ticket: Ticket, linked: list[tuple[TicketLink, Ticket]]
) -> list[LinkInfo]:
    out = []
    for link, other in linked:
        if not ctx.may_see(other):
            continue
        outgoing = link.source_id == ticket.id
        kind = link.kind if outgoing else REVERSE_KINDS.get(link.kind, link.kind)
        out.append(LinkInfo(kind, other.key, other.title, other.state, other.ticket_type))
    return out


def _shown(
    ctx: ReadContext, ticket: Ticket, linked: list[tuple[TicketLink, Ticket]]
) -> dict[int, Ticket]:
    """`ticket` and the tickets merged into it whose history the actor may see: two
    requesters' duplicates merged together stay private to each."""
    merged = [
        other
        for link, other in linked
        if link.kind == "merged_into" and link.target_id == ticket.id
    ]
    return {t.id: t for t in [ticket, *merged] if ctx.may_see(t)}


def _events(
    ctx: ReadContext, ticket: Ticket, linked: list[tuple[TicketLink, Ticket]]
) -> list[EventRecord]:
    # A merged ticket's history is shown only to those who may see that ticket: two
    # requesters' duplicates merged together stay private to each.
    merged = [
        other
        for link, other in linked
        if link.kind == "merged_into" and link.target_id == ticket.id
    ]
    shown = {t.id: t for t in [ticket, *merged] if ctx.may_see(t)}
    events = select_events(ctx.session, list(shown), ctx.actor)
    ctx.preload_users(e.actor_id for e in events)
    records = (
        EventRecord.build(
            e,
            shown[e.ticket_id].key,
            ctx.user(e.actor_id),
            ctx.hidden_fields(shown[e.ticket_id]),
            requester=ctx.actor.is_requester,
        )
        for e in events
        if e.ticket_id is not None
    )
    return [record for record in records if record is not None]


def _deliveries(session: Session, ticket: Ticket) -> list[DeliveryRecord]:
    """The latest delivery attempts about the ticket, newest first (staff only)."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.ticket_key == ticket.key)
        .order_by(Delivery.id.desc())
        .limit(_MAX_DELIVERIES)
    )
    return [DeliveryRecord.build(row) for row in rows]
