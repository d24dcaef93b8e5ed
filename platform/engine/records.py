"""What the service returns: plain immutable snapshots, never live ORM objects.

A record is built for one reader: a requester's copy of a ticket has no internal
fields, and their comment and event lists have no internal notes and no values of
internal fields. Times are timezone-aware UTC on every database (see `db.models.UTCDateTime`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.engine.store.models import Comment, Event, Ticket, User

__all__ = [
    "AttachmentRecord",
    "CommentRecord",
    "EventRecord",
    "NewEvent",
    "Page",
    "TicketRecord",
    "WriteResult",
    "internal_fields",
    "ticket_values",
    "user_values",
]


def internal_fields(bundle: Bundle, type_id: str) -> frozenset[str]:
    """The ids of a ticket type's internal fields (none for a type no longer known)."""
    ticket_type = bundle.ticket_types.get(type_id)
    return ticket_type.internal_fields if ticket_type is not None else frozenset()


def user_values(user: User | None) -> dict[str, Any] | None:
    """A user as conditions see it (`requester.tier`, `assignee.email`…)."""
    if user is None:
        return None
    return {
        **(user.attributes or {}),
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organization": user.organization,
        "language": user.language,
    }


def ticket_values(ticket: Ticket, requester: User | None, assignee: User | None) -> dict[str, Any]:
    """Everything a condition may read about a ticket: custom data plus built-ins."""
    return {
        **(ticket.data or {}),
        "key": ticket.key,
        "type": ticket.ticket_type,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "state": ticket.state,
        "state_category": ticket.state_category,
        "team": ticket.team_id,
        "tags": list(ticket.tags or ()),
        "requester": user_values(requester),
        "assignee": user_values(assignee),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    key: str
    type: str
    state: str
    state_category: str
    priority: str
    title: str
    description: str
    requester: str
    assignee: str | None
    team: str | None
    tags: tuple[str, ...]
    data: Mapping[str, Any]
    version: int
    config_version: str
    created_at: datetime
    updated_at: datetime
    merged_into: str | None = None
    problems: tuple[str, ...] = ()  # e.g. its state no longer exists in the workflow
    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None
    sla_policy: str | None = None
    # When the ticket entered its state (`after:` transitions count from it) and the
    # next instant the SLA scheduler looks at it (a warning or a breach).
    state_since: datetime | None = None
    sla_wakeup_at: datetime | None = None

    @classmethod
    def build(
        cls,
        ticket: Ticket,
        bundle: Bundle,
        *,
        requester: User,
        assignee: User | None,
        for_requester: bool,
        merged_into: str | None = None,
    ) -> TicketRecord:
        ticket_type = bundle.ticket_types.get(ticket.ticket_type)
        problems = []
        data = dict(ticket.data or {})
        if ticket_type is None:
            problems.append(f"ticket type '{ticket.ticket_type}' no longer exists")
        else:
            workflow = bundle.workflows.get(ticket_type.workflow)
            if workflow is None or ticket.state not in workflow.states:
                problems.append(
                    f"state '{ticket.state}' no longer exists in workflow '{ticket_type.workflow}'"
                )
            if for_requester:
                hidden = ticket_type.internal_fields
                data = {k: v for k, v in data.items() if k not in hidden}
        return cls(
            id=ticket.id,
            key=ticket.key,
            type=ticket.ticket_type,
            state=ticket.state,
            state_category=ticket.state_category,
            priority=ticket.priority,
            title=ticket.title,
            description=ticket.description,
            requester=requester.email,
            assignee=assignee.email if assignee is not None else None,
            team=ticket.team_id,
            tags=tuple(ticket.tags or ()),
            data=data,
            version=ticket.version,
            config_version=ticket.config_version,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            merged_into=merged_into,
            problems=tuple(problems),
            first_response_due=ticket.first_response_due,
            next_response_due=ticket.next_response_due,
            resolution_due=ticket.resolution_due,
            sla_policy=(ticket.sla or {}).get("policy"),
            state_since=ticket.state_since,
            sla_wakeup_at=ticket.sla_wakeup_at,
        )


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    """A file of a ticket (`field`: the attachment field it is in; `id`: its public
    id, the value attachment fields hold and URLs carry)."""

    id: str
    field: str | None
    filename: str
    content_type: str
    size: int
    uploaded_by: int | None
    created_at: datetime
    comment: int | None = None  # the comment it came with (None: a field's file)

    @property
    def preview(self) -> str | None:
        """How a page may show it: "image" or "pdf" (served inline, `ui.serving`
        checks the bytes), None for a download."""
        if self.content_type in INLINE_IMAGE_TYPES:
            return "image"
        return "pdf" if self.content_type == "application/pdf" else None


# Files shown inline in a page when their bytes are what they say (never SVG).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: int
    ticket_key: str
    author: str | None
    body: str
    public: bool
    created_at: datetime
    files: tuple[AttachmentRecord, ...] = ()

    @classmethod
    def build(
        cls,
        comment: Comment,
        ticket_key: str,
        author: User | None,
        files: tuple[AttachmentRecord, ...] = (),
    ) -> CommentRecord:
        return cls(
            id=comment.id,
            ticket_key=ticket_key,
            author=author.email if author is not None else None,
            body=comment.body,
            public=comment.public,
            created_at=comment.created_at,
            files=files,
        )


@dataclass(slots=True)
class NewEvent:
    """An event row a write has made (an `events` row once written; `id` is set then).
    A plain object, not an ORM one: events are written in a batch (`engine.store.writes`)."""

    ticket_id: int | None
    actor_id: int | None
    kind: str
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]
    detail: dict[str, Any]
    internal: bool
    id: int = 0


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    ticket_key: str | None
    actor: str | None
    kind: str
    at: datetime
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    detail: Mapping[str, Any]
    internal: bool

    @classmethod
    def build(
        cls,
        event: Event | NewEvent,
        ticket_key: str | None,
        actor: User | None,
        hidden: frozenset[str] = frozenset(),
        *,
        requester: bool = False,
    ) -> EventRecord | None:
        """The event as its reader may see it: without the fields in `hidden` (the
        internal fields, for a requester). None when the event changed only those. A
        `requester` does not see how routing decided (the rules matched, their names,
        why an agent was chosen): what it changed stays in `before`/`after`."""
        before, after = _without(event.before or {}, hidden), _without(event.after or {}, hidden)
        if hidden and (event.before or event.after) and not (before or after):
            return None
        detail: Mapping[str, Any] = event.detail or {}
        if requester and detail:
            if event.kind == "ticket.routed":
                detail = {}
            elif "routing" in detail:
                detail = {k: v for k, v in detail.items() if k != "routing"}
        return cls(
            id=event.id,
            ticket_key=ticket_key,
            actor=actor.email if actor is not None else None,
            kind=event.kind,
            at=event.at,
            before=before,
            after=after,
            detail=detail,
            internal=event.internal,
        )


def _without(values: Mapping[str, Any], hidden: frozenset[str]) -> Mapping[str, Any]:
    """`values` without the `hidden` fields, at the top level and in a snapshot's data."""
    if not hidden:
        return values
    out = {k: v for k, v in values.items() if k not in hidden}
    if isinstance(out.get("data"), Mapping):
        out["data"] = {k: v for k, v in out["data"].items() if k not in hidden}
    return out


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did: the ticket as it is now, and the events it wrote."""

    ticket: TicketRecord
    events: tuple[EventRecord, ...] = ()
    comment: CommentRecord | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list; `next_cursor` is None on the last page."""

    items: tuple[TicketRecord, ...]
    next_cursor: str | None = None
    total: int | None = field(default=None)
