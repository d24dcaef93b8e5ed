"""SQLAlchemy 2 models: the tables under the ticket engine.

Custom field values live in one JSON column (`tickets.data`, JSONB on PostgreSQL), so
adding a field or a ticket type never needs a migration. Events are append-only (a
trigger refuses UPDATE and DELETE, see the initial migration). Side effects leave a
transaction only through `outbox` rows written in it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AgentOpenTickets",
    "ApiToken",
    "Attachment",
    "Base",
    "Comment",
    "ConfigActivation",
    "ConfigVersion",
    "DeclaredMember",
    "Delivery",
    "DirectoryGeneration",
    "EmailVerification",
    "Event",
    "JobLease",
    "MailMessage",
    "Membership",
    "NotificationPreference",
    "Outbox",
    "PasswordReset",
    "RoutingPointer",
    "SavedView",
    "Survey",
    "Team",
    "Ticket",
    "TicketCounter",
    "TicketFollower",
    "TicketLink",
    "User",
    "built",
]

# Constraint names are fixed so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database: SQLite keeps no offset, so values are
    stored as UTC and read back with `tzinfo=UTC`; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Gongdan stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDoc = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Stamp = UTCDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JsonDoc,
        list[Any]: JsonDoc,
        datetime: Stamp,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | agent | requester
    password_hash: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    organization: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # tier, site, …
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Team(Base):
    """A team synced from `config/teams/`; `id` is the config id."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict[str, Any]]
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Membership(Base):
    __tablename__ = "memberships"

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)


class TicketCounter(Base):
    """The last number given per ticket type on SQLite: keys are gapless and never
    repeat. PostgreSQL numbers from a sequence per type owned by `last_number`
    (`db.sequences`): no lock held until commit, a gap only where a create fails after
    taking its number."""

    __tablename__ = "ticket_counters"

    ticket_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("ticket_type", "number"),
        Index("ix_tickets_state_created", "state", "created_at", "id"),
        Index("ix_tickets_team_state", "team_id", "state"),
        Index("ix_tickets_assignee_state", "assignee_id", "state"),
        Index("ix_tickets_requester", "requester_id", "created_at"),
        Index("ix_tickets_updated", "updated_at", "id"),
        # The SLA scheduler's due-scan: one range scan over tickets with a wake-up.
        Index(
            "ix_tickets_sla_wakeup",
            "sla_wakeup_at",
            postgresql_where=text("sla_wakeup_at IS NOT NULL"),
            sqlite_where=text("sla_wakeup_at IS NOT NULL"),
        ),
        Index("ix_tickets_resolution_due", "resolution_due"),
        Index("ix_tickets_first_response_due", "first_response_due"),
        # Newest-first lists whatever else they filter on (text, ranges, requesters).
        Index("ix_tickets_created", "created_at", "id"),
        # Open tickets per agent: least-loaded routing and capacities.
        Index(
            "ix_tickets_open_by_assignee",
            "assignee_id",
            postgresql_where=text("state_category IN ('new', 'open', 'pending')"),
            sqlite_where=text("state_category IN ('new', 'open', 'pending')"),
        ),
        # Workflow `after:` transitions: the tickets of a type in a state since before a
        # moment, oldest first (`automation.scheduler`), one range whatever the backlog.
        Index("ix_tickets_after_due", "ticket_type", "state", "state_since"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    ticket_type: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(64))
    state_category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_version: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the ticket entered its state: workflow `after:` transitions count from it.
    state_since: Mapped[datetime | None]
    # SLA: the clocks as JSON (`gongdan.rules.sla_clock.TicketSLA`), their deadlines in
    # indexed columns for queues and reports, and the next instant the scheduler must
    # look at this ticket (a warning or a breach).
    sla: Mapped[dict[str, Any] | None]
    first_response_due: Mapped[datetime | None]
    next_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    sla_wakeup_at: Mapped[datetime | None]
    # What reports read of the clocks, kept with them (`automation.sla`): the policy,
    # the business seconds a met first-response / resolution clock ran, and whether a
    # clock with an outcome was met in time (True), breached (False) or has none (NULL).
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_in_time: Mapped[bool | None]
    resolution_in_time: Mapped[bool | None]

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's API


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class Attachment(Base):
    """Metadata of a stored file; the content lives on disk under its SHA-256.

    `public_id` is what leaves the server (URLs, the API, the values of attachment
    fields): random, so no one finds a file by counting; `id` stays internal."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_ticket", "ticket_id"),
        Index("ix_attachments_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    field_id: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Event(Base):
    """Append-only audit trail: who did what to which ticket, before and after."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    at: Mapped[datetime]
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)


class Outbox(Base):
    """Side effects to deliver after commit (notifications, webhooks, timers).

    A row is due while `done_at` is null and `next_attempt_at` has passed. Claiming it
    (the relay, then the delivery) pushes `next_attempt_at` forward by a lease, so the
    row of a worker that died is due again once the lease runs out. `status` ends as
    delivered, dead (after the last attempt) or skipped (a topic nobody handles).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A new row is due at once: at its `created_at`.
    next_attempt_at: Mapped[datetime] = mapped_column(
        default=lambda context: context.get_current_parameters()["created_at"]
    )
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """One attempt to deliver an outbox row: a webhook POST or a notification, with its
    outcome. Kept as history (no foreign key), read per ticket."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_ticket", "ticket_key", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger)
    ticket_key: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # webhook | notification
    target: Mapped[str] = mapped_column(String(2000))  # URL or recipient
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | logged | failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class TicketLink(Base):
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))  # relates | duplicates | merged_into | split_from
    created_at: Mapped[datetime]


class AgentOpenTickets(Base):
    """How many open tickets (a category of `OPEN_CATEGORIES`) each agent has assigned:
    kept by triggers on `tickets` in the transaction of every change (migration 0018),
    read by routing and by the count of an agent's own queue."""

    __tablename__ = "agent_open_tickets"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    open_tickets: Mapped[int] = mapped_column(Integer)


class JobLease(Base):
    """Who may run a periodic job until when (`store.leases`): one process per period."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime]
    holder: Mapped[str] = mapped_column(String(128))


class RoutingPointer(Base):
    """A team's round-robin turns taken so far, shared by every process (on PostgreSQL
    a sequence per team owned by `turns` counts them instead: `db.sequences`)."""

    __tablename__ = "routing_pointers"

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    turns: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class DirectoryGeneration(Base):
    """One row: a number that triggers bump in the transaction of any change to `users`
    or `memberships` (migration 0010), so a process may keep a team's members in memory
    and know when to read them again (`engine.automation.routing`)."""

    __tablename__ = "directory_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class ConfigVersion(Base):
    """Every config bundle the platform has run with, by content hash (the `version`
    tickets record): its files as [relative path, text] pairs in the loader's order
    (None for versions recorded before migration 0011) and when it was first stored."""

    __tablename__ = "config_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    loaded_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    content: Mapped[list[Any] | None]


class ConfigActivation(Base):
    """One promotion of a version to active: the newest row names the active version
    every process follows. Each row names the activation it replaced (`previous_id`,
    0 for the first), and that column is unique: of two processes promoting from the
    same active version at once, only one commits (`engine.lifecycle.promote`)."""

    __tablename__ = "config_activations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("config_versions.version"))
    previous_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    activated_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # start-up | file change | apply | editor
    activated_by: Mapped[str] = mapped_column(String(254))


class DeclaredMember(Base):
    """A member a `kind: Team` of the active version names, by email, whether or not
    they have an account yet: a user made later joins their teams from these rows
    (`engine.accounts.users.join_declared_teams`), whatever process makes them."""

    __tablename__ = "declared_members"
    __table_args__ = (Index("ix_declared_members_email", "email"),)

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    """A bearer token for the REST API. Only its SHA-256 is stored; the token itself is
    shown once, when it is created. A revoked token stays as history."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so a token can be recognised
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class MailMessage(Base):
    """Every mail in or out: its Message-ID threads replies to tickets, marks our own
    messages (loop protection) and logs what intake did with it (and why)."""

    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    sender: Mapped[str] = mapped_column(String(254), default="")
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(998), default="")
    status: Mapped[str] = mapped_column(String(16))  # accepted | ignored | rejected | sent
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Survey(Base):
    """A satisfaction survey (`survey: csat`) sent to a ticket's requester; answered
    once with a rating of 1-5 and an optional comment."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default="csat")
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class PasswordReset(Base):
    """A one-time link to set a password, sent by e-mail. Only the token's SHA-256 is
    stored; a link is spent when used, when it expires or when a newer one is issued."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EmailVerification(Base):
    """An address waiting to be proved: a sign-up whose account is made only when the
    mailed link is followed (`purpose` "sign-up"; `user_id` names the account for a
    change of address). Holds the argon2 hash of the chosen password, never the
    password; only the token's SHA-256 is stored."""

    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


_Mapped = TypeVar("_Mapped", bound=Base)


def built(cls: type[_Mapped], fields: dict[str, Any]) -> _Mapped:
    """A new (transient) instance of a mapped class with `fields` set in place, as the
    ORM sets a loaded row's attributes: no change events, so far cheaper than the
    constructor (for the hot paths that build whole rows: a new ticket, a user read
    with the driver)."""
    instance: _Mapped = manager_of_class(cls).new_instance()
    instance.__dict__.update(fields)
    return instance


class WebSession(Base):
    """A signed-in browser session. The cookie holds a random key; only its SHA-256 is
    stored, so the table cannot sign anyone in. Deleting the row ends the session at
    once (logout, a new password, an admin's "sign out everywhere")."""

    __tablename__ = "web_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ThrottleCount(Base):
    """How often something happened to one key (an account's failed sign-ins, an
    address's password mails…) in the fixed window that began at `window_start` (Unix
    seconds: plain integers compare alike on every database); shared by every process
    (`engine.accounts.throttle`)."""

    __tablename__ = "throttle_counts"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


class ReportMailing(Base):
    """A mailed report's due instant, claimed by the process that sends it: the primary
    key lets only one process (of several schedulers) write its mail to the outbox
    (`engine.automation.report_mail`)."""

    __tablename__ = "report_mailings"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(Integer)


class TicketFollower(Base):
    """Someone who hears of a ticket beside its requester and its agents: a follower
    (staff: the internal and the public updates) or a CC (a colleague the requester
    added: the public updates, and the ticket in the portal as the requester sees it)."""

    __tablename__ = "ticket_followers"
    __table_args__ = (Index("ix_ticket_followers_user", "user_id", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # follower | cc
    created_at: Mapped[datetime]


class NotificationPreference(Base):
    """What a user wants to hear of by mail; no row means every mail (the default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    mail: Mapped[bool] = mapped_column(Boolean, default=True)
    # The kinds of ticket news turned off (`vocabulary`-like names of engine.followers).
    muted: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime]


class SavedView(Base):
    """An agent's own queue view: a queue's filters and columns saved under a name."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(64))  # the queue it was saved from
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    columns: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
