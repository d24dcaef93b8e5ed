"""Request and response bodies of the REST API (pydantic), so `/openapi.json` states
them exactly. Records of the engine become these with the `*_out` functions.

Text that cannot be stored (a NUL character, a lone UTF-16 surrogate) is refused at
the door with a 422 naming the field, wherever in the body it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gongdan.engine import AttachmentRecord, CommentRecord, EventRecord, TicketRecord

__all__ = [
    "CommentIn",
    "CommentOut",
    "EventOut",
    "Priority",
    "SLADeadlines",
    "TicketCreate",
    "TicketOut",
    "TicketPage",
    "TicketPatch",
    "TransitionIn",
    "comment_out",
    "event_out",
    "ticket_out",
]

Priority = Literal["low", "normal", "high", "urgent"]
Label = dict[str, str]


def check_text(value: Any, where: str = "") -> Any:
    """Refuse strings no database can store: NUL, and lone surrogates (not UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'text'} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where or 'text'} is not valid Unicode text") from exc
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            check_text(item, where)
    return value


# A requester who sends one of these is answered 403, naming the field in `fields`.
STAFF_ONLY = "Staff only, unless the ticket type lists it in `requester_may_set`."


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # 0 is not false, "1" not 1

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_text(value)


class TicketCreate(_Body):
    """A new ticket. `fields` are the type's custom fields (see its JSON Schema at
    `/api/v1/config/ticket-types/{type}/schema`)."""

    type: str = Field(min_length=1, max_length=64, examples=["it_incident"])
    title: str = Field(min_length=1, max_length=300, examples=["Printer on floor 3 jams"])
    description: str = Field(default="", max_length=100_000)
    fields: dict[str, Any] = Field(
        default_factory=dict, examples=[{"category": "hardware", "device_serial": "PRN-0042"}]
    )
    requester: str | None = Field(
        default=None,
        max_length=254,
        description="Email of the person asking (staff only; created if new). "
        "Defaults to the caller.",
    )
    priority: Priority | None = Field(default=None, description=STAFF_ONLY)
    tags: list[str] | None = Field(default=None, description=STAFF_ONLY)
    team: str | None = Field(default=None, max_length=64, description=STAFF_ONLY)
    assignee: str | None = Field(default=None, max_length=254, description=STAFF_ONLY)


class TicketPatch(_Body):
    """Fields to change; leave out what stays. `team`/`assignee` (null or "" clears) go
    in a request of their own: each request is one transaction."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=100_000)
    priority: Priority | None = None
    tags: list[str] | None = None
    fields: dict[str, Any] | None = Field(
        default=None, description="Custom fields to change; a null value clears one."
    )
    team: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=254)


class TransitionIn(_Body):
    """What a transition asks for: its `fields` and `comment` (see GET …/transitions)."""

    fields: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=100_000)
    public: bool = Field(default=True, description="false: the comment is an internal note.")


class CommentIn(_Body):
    body: str = Field(
        default="", max_length=100_000, description="Required unless `files` names a file."
    )
    public: bool = Field(default=True, description="false: an internal note (staff only).")
    files: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Ids of the caller's reply uploads (`POST /uploads/reply`).",
    )


class SLADeadlines(BaseModel):
    policy: str | None
    first_response_due: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None


class TicketOut(BaseModel):
    key: str = Field(examples=["INC-42"])
    type: str
    state: str
    state_category: str
    priority: str
    title: str
    description: str
    requester: str
    assignee: str | None
    team: str | None
    tags: list[str]
    fields: dict[str, Any]
    version: int = Field(description="Send it back in If-Match to change the ticket.")
    config_version: str
    created_at: datetime
    updated_at: datetime
    merged_into: str | None
    problems: list[str] = Field(description="E.g. its state no longer exists in the workflow.")
    sla: SLADeadlines


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class CommentOut(BaseModel):
    id: int
    ticket: str
    author: str | None
    body: str
    public: bool
    created_at: datetime
    files: list[AttachmentOut] = Field(default_factory=list, description="Its files.")


class EventOut(BaseModel):
    id: int
    ticket: str | None
    actor: str | None
    kind: str = Field(examples=["ticket.transitioned"])
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]
    detail: dict[str, Any]
    internal: bool


class TransitionFieldOut(BaseModel):
    id: str
    type: str
    label: Label
    required: bool = Field(description="Transition fields must have a value once taken.")
    options: list[str] = Field(description="The values a select field allows.")


class TransitionOut(BaseModel):
    id: str
    label: Label
    to: str
    to_category: str
    fields: list[TransitionFieldOut]
    comment: Literal["required", "optional"] | None


class CountedIntervalOut(BaseModel):
    day: date
    start: datetime
    end: datetime
    seconds: int


class CountedStretchOut(BaseModel):
    start: datetime
    end: datetime
    seconds: int = Field(description="Business seconds this running stretch counted.")


class PauseOut(BaseModel):
    start: datetime
    end: datetime | None = Field(description="None: the clock is paused now.")


class SLATargetOut(BaseModel):
    target: str = Field(examples=["resolution"])
    policy: str
    calendar: str
    budget_seconds: int
    consumed_seconds: int = Field(description="Business seconds used while the clock ran.")
    remaining_seconds: int
    status: Literal["running", "paused", "met", "breached"]
    running_since: datetime | None
    deadline: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    intervals: list[CountedIntervalOut] = Field(
        description="The calendar's working intervals still to count up to the deadline."
    )
    counted: list[CountedStretchOut] = Field(
        description="The running stretches already counted (business seconds in each)."
    )
    pauses: list[PauseOut] = Field(description="When the clock stood still, oldest first.")
    explanation: Label = Field(description="Why the deadline is what it is, in en and zh-CN.")


class AttachmentOut(BaseModel):
    id: str = Field(description="Random; the value to put in an attachment field.")
    field: str | None = Field(description="Its attachment field; null: a reply's file.")
    filename: str
    content_type: str
    size: int
    url: str


class TicketTypeOut(BaseModel):
    id: str
    name: Label
    description: Label
    key_prefix: str
    workflow: str
    portal: bool = Field(description="Requesters may create tickets of this type.")
    schema_url: str


def label(value: Any) -> Label:
    """A config label as `{locale: text}`."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    return {str(k): str(v) for k, v in dict(value).items()}


def utc(moment: datetime | None) -> datetime | None:
    """Times leave the API in UTC, whatever zone a calendar computed them in."""
    return moment.astimezone(UTC) if moment is not None else None


def ticket_response(
    record: TicketRecord, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The ticket as the JSON of `TicketOut`, with its version as the ETag. Serialised
    here rather than by FastAPI, which validates and serialises what a plain-function
    route returns on a worker thread: a second hop there and back per request."""
    return Response(
        ticket_out(record).model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": f'"{record.version}"', **(headers or {})},
    )


def ticket_out(record: TicketRecord) -> TicketOut:
    return TicketOut(
        key=record.key,
        type=record.type,
        state=record.state,
        state_category=record.state_category,
        priority=record.priority,
        title=record.title,
        description=record.description,
        requester=record.requester,
        assignee=record.assignee,
        team=record.team,
        tags=list(record.tags),
        fields=dict(record.data),
        version=record.version,
        config_version=record.config_version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        merged_into=record.merged_into,
        problems=list(record.problems),
        sla=SLADeadlines(
            policy=record.sla_policy,
            first_response_due=utc(record.first_response_due),
            next_response_due=utc(record.next_response_due),
            resolution_due=utc(record.resolution_due),
        ),
    )


def comment_out(record: CommentRecord) -> CommentOut:
    return CommentOut(
        id=record.id,
        ticket=record.ticket_key,
        author=record.author,
        body=record.body,
        public=record.public,
        created_at=record.created_at,
        files=[attachment_out(f) for f in record.files],
    )


def attachment_out(record: AttachmentRecord) -> AttachmentOut:
    return AttachmentOut(
        id=record.id,
        field=record.field,
        filename=record.filename,
        content_type=record.content_type,
        size=record.size,
        url=f"/api/v1/attachments/{record.id}",
    )


def event_out(record: EventRecord) -> EventOut:
    return EventOut(
        id=record.id,
        ticket=record.ticket_key,
        actor=record.actor,
        kind=record.kind,
        at=record.at,
        before=dict(record.before),
        after=dict(record.after),
        detail=dict(record.detail),
        internal=record.internal,
    )


# Relations between tickets ---------------------------------------------------------

# The API's names of link kinds where they differ from the engine's (DESIGN.md).
API_LINK_NAMES = {"relates": "relates_to"}
LinkType = Literal[
    "relates_to", "duplicates", "duplicated_by", "blocks", "blocked_by", "parent_of", "child_of"
]


class MergeIn(_Body):
    """This ticket is merged into `into`: it is closed and points there."""

    into: str = Field(min_length=1, max_length=64, examples=["INC-7"])


class LinkIn(_Body):
    """This ticket `type` `ticket` ("INC-1 blocks INC-2"); a reverse reading
    (`blocked_by`, `child_of`, `duplicated_by`) is stored the other way round."""

    type: LinkType
    ticket: str = Field(min_length=1, max_length=64, examples=["INC-7"])


class LinkOut(BaseModel):
    type: str = Field(
        description="As read from this ticket: also merged_into / merged_from, "
        "split_from / split_into.",
        examples=["blocks"],
    )
    ticket: str
    title: str
    state: str


class SplitIn(_Body):
    """A new ticket of the same type and requester, linked to this one; the comments
    named (ids from GET …/comments) move to it."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=100_000)
    comments: list[int] = Field(default_factory=list, max_length=500)
    fields: dict[str, Any] | None = Field(
        default=None, description="The new ticket's custom fields; default: this ticket's."
    )
