"""What delivering one outbox row does, by topic: a webhook handed to the
`WebhookSender`, or a notification handed to the `Notifier`.

Both are channels (`gongdan.channels`: signed HTTP POSTs, mail by SMTP), above the
engine: whoever starts background work hands them in as `Channels`. Without them a
notification is only logged and a webhook fails with a note saying so.

`HANDLERS` maps a topic (or a topic family, `ticket.*`) to a handler; a handler gets a
`Job` (the row and the ticket as it is now, read when the row was claimed) and returns
one `Attempt` per side effect for the delivery log. Handlers run outside any database
transaction and report failures instead of raising.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from gongdan.engine.store.models import Membership, Outbox, Ticket, User
from gongdan.engine.tickets.surveys import answer_path, request_survey
from gongdan.engine.unit_of_work import UnitOfWork

__all__ = [
    "HANDLERS",
    "RECIPIENT_TOPICS",
    "Attempt",
    "Channels",
    "Handler",
    "Job",
    "LogNotifier",
    "Notification",
    "Notifier",
    "WebhookCall",
    "WebhookSender",
    "describe",
    "handler_for",
    "logs_only",
    "notification_for",
    "read_job",
    "read_jobs",
    "ticket_key",
]

log = logging.getLogger(__name__)

# Topics addressed to people named in the action (a survey goes to the requester).
RECIPIENT_TOPICS = frozenset({"notify", "survey"})


@dataclass(frozen=True, slots=True)
class Notification:
    """A message for people about a ticket. `recipients` are email addresses resolved
    from `target` (requester, assignee, team, field:x, an address); an event
    (`ticket.created`…) has none: the notifier decides who hears of it.
    `delivery_id` is the same on every retry, for notifiers that deduplicate."""

    delivery_id: int
    topic: str
    ticket: Mapping[str, Any] | None
    target: str | None
    recipients: tuple[str, ...]
    template: str | None
    source: str | None
    payload: Mapping[str, Any]


class Notifier(Protocol):
    """Sends notifications (email comes in a later issue). Raise to have it retried."""

    def send(self, notification: Notification) -> None: ...


class LogNotifier:
    """The default: writes each notification to the log and sends nothing."""

    # Read by the delivery log: what this notifier does is logged, never sent.
    delivers = False

    def send(self, notification: Notification) -> None:
        log.info(
            "notification %s %s for %s to %s (template %s)",
            notification.delivery_id,
            notification.topic,
            (notification.ticket or {}).get("key"),
            ", ".join(notification.recipients) or notification.target or "-",
            notification.template,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one side effect came to, as the delivery log records it."""

    kind: str  # webhook | notification
    target: str
    ok: bool
    status_code: int | None = None
    error: str | None = None
    # Done, but only written to the log: no mail server is configured (`LogNotifier`).
    logged_only: bool = False


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """One webhook to send: where to, the variable holding its secret (None: the
    default one), the delivery id receivers deduplicate on (the same on every retry),
    the event, and the JSON document to send."""

    url: str
    secret_env: str | None
    delivery_id: int
    event: str
    document: Mapping[str, Any]
    # The config allowed loopback/private addresses for this webhook (`allow_private`).
    allow_private: bool = False


class WebhookSender(Protocol):
    """Sends webhooks (`gongdan.channels.webhooks.SignedWebhooks`). Reports failures
    in the `Attempt` it returns instead of raising."""

    def post(self, call: WebhookCall) -> Attempt: ...


class NoWebhooks:
    """The engine's default: no webhook channel in this process, every call fails
    with a note saying so (and is retried like any failure)."""

    def post(self, call: WebhookCall) -> Attempt:
        return Attempt("webhook", call.url, False, None, "no webhook channel in this process")


@dataclass(frozen=True, slots=True)
class Channels:
    """Where side effects go: the notifier and the webhook sender
    (`gongdan.channels.channels_for` builds the real ones)."""

    notifier: Notifier = field(default_factory=LogNotifier)
    webhooks: WebhookSender = field(default_factory=NoWebhooks)


@dataclass(frozen=True, slots=True)
class Job:
    """One attempt at one outbox row, read in the transaction that claimed it."""

    outbox_id: int
    topic: str
    payload: Mapping[str, Any]
    created_at: datetime
    attempt: int
    ticket: Mapping[str, Any] | None  # the ticket as it is now (None: no ticket)
    recipients: tuple[str, ...]


Handler = Callable[[Job, Channels], list[Attempt]]


def ticket_key(payload: Mapping[str, Any]) -> str | None:
    """The key of the ticket an outbox payload is about, if any."""
    key = payload.get("ticket")
    return str(key)[:32] if key else None


def describe(error: BaseException) -> str:
    """An exception as the delivery log shows it."""
    return f"{type(error).__name__}: {error}"[:2000]


def read_job(ctx: UnitOfWork, row: Outbox) -> Job:
    """What delivering `row` needs, read in the unit of work that claimed it (a
    survey's row is made there too)."""
    session = ctx.session
    payload = dict(row.payload or {})
    ticket: dict[str, Any] | None = None
    recipients: tuple[str, ...] = ()
    key = ticket_key(payload)
    if key is not None:
        found = session.scalar(select(Ticket).where(Ticket.key == key))
        if found is not None:
            ticket = _ticket_document(session, found)
            if row.topic in RECIPIENT_TOPICS:
                target = "requester" if row.topic == "survey" else str(payload.get("target"))
                recipients = _recipients(session, found, target)
            if row.topic == "survey":
                # Made here, in the claiming transaction, so a retry finds it again.
                survey = request_survey(
                    ctx, found, str(payload.get("target") or ""), row.created_at
                )
                payload["survey"], payload["answer_path"] = survey.id, answer_path(found.key)
    return Job(row.id, row.topic, payload, row.created_at, row.attempts, ticket, recipients)


def read_jobs(ctx: UnitOfWork, rows: Sequence[Outbox], *, logs_only: bool = False) -> list[Job]:
    """`read_job` for a batch of rows, in their order, with the tickets and their
    people read in two statements rather than a few per row. With `logs_only` (the
    notifier only writes to the log) an event notification (`ticket.*`…) needs no
    ticket read at all: the log line names the key, which the payload holds."""
    session = ctx.session
    keys = {
        key
        for row in rows
        if (key := ticket_key(row.payload or {})) is not None
        and not (logs_only and _event_notification(row.topic))
    }
    tickets: dict[str, Ticket] = {}
    users: list[User] = []  # held here: the session's identity map only holds them weakly
    if keys:
        found = list(session.scalars(select(Ticket).where(Ticket.key.in_(sorted(keys)))))
        tickets = {t.key: t for t in found}
        people = {t.requester_id for t in found} | {t.assignee_id for t in found}
        people.discard(None)
        if people:  # into the session's identity map: `session.get` finds them
            users = list(session.scalars(select(User).where(User.id.in_(sorted(people)))))
    jobs = []
    for row in rows:
        key = ticket_key(row.payload or {})
        if row.topic == "survey":  # makes a survey row in this transaction
            jobs.append(read_job(ctx, row))
            continue
        payload = dict(row.payload or {})
        ticket: dict[str, Any] | None = None
        recipients: tuple[str, ...] = ()
        if key is not None and logs_only and _event_notification(row.topic):
            ticket = {"key": key}
        elif key is not None and (found_ticket := tickets.get(key)) is not None:
            ticket = _ticket_document(session, found_ticket)
            if row.topic in RECIPIENT_TOPICS:
                recipients = _recipients(session, found_ticket, str(payload.get("target")))
        jobs.append(
            Job(row.id, row.topic, payload, row.created_at, row.attempts, ticket, recipients)
        )
    del users  # (kept until every job was read)
    return jobs


def _event_notification(topic: str) -> bool:
    """A notification about an event (who hears of it is the notifier's choice)."""
    return handler_for(topic) is _send_notification and topic not in RECIPIENT_TOPICS


def _ticket_document(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket as webhooks and notifiers see it (JSON-ready)."""
    requester = session.get(User, ticket.requester_id)
    assignee = session.get(User, ticket.assignee_id) if ticket.assignee_id else None

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "key": ticket.key,
        "type": ticket.ticket_type,
        "title": ticket.title,
        "state": ticket.state,
        "state_category": ticket.state_category,
        "priority": ticket.priority,
        "team": ticket.team_id,
        "assignee": assignee.email if assignee else None,
        "requester": requester.email if requester else None,
        "tags": list(ticket.tags or ()),
        "fields": dict(ticket.data or {}),
        "version": ticket.version,
        "created_at": stamp(ticket.created_at),
        "updated_at": stamp(ticket.updated_at),
        "resolved_at": stamp(ticket.resolved_at),
        "closed_at": stamp(ticket.closed_at),
    }


def _recipients(session: Session, ticket: Ticket, target: str) -> tuple[str, ...]:
    """Email addresses for a `notify:` target: requester, assignee, team (its active
    members), field:<user field>, or an address."""
    emails: list[str] = []
    if target in ("requester", "assignee"):
        user_id = ticket.requester_id if target == "requester" else ticket.assignee_id
        user = session.get(User, user_id) if user_id is not None else None
        emails = [user.email] if user is not None else []
    elif target == "team" and ticket.team_id:
        emails = list(
            session.scalars(
                select(User.email)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.team_id == ticket.team_id, User.active.is_(True))
            )
        )
    elif target.startswith("field:"):
        value = (ticket.data or {}).get(target.removeprefix("field:"))
        emails = [str(value)] if value else []
    elif "@" in target:
        emails = [target]
    return tuple(sorted({e.strip().lower() for e in emails if e}))


# Handlers by topic ----------------------------------------------------------------


def _send_webhook(job: Job, channels: Channels) -> list[Attempt]:
    target = job.payload.get("target")
    spec = target if isinstance(target, Mapping) else {"url": target}
    event = str(job.payload.get("source") or job.topic)
    secret_env = spec.get("secret_env")
    call = WebhookCall(
        url=str(spec.get("url") or ""),
        secret_env=str(secret_env) if secret_env else None,
        delivery_id=job.outbox_id,
        event=event,
        allow_private=spec.get("allow_private") is True,
        document={
            "delivery": job.outbox_id,
            "event": event,
            "created_at": job.created_at.isoformat(),
            "ticket": job.ticket or {"key": ticket_key(job.payload)},
        },
    )
    return [channels.webhooks.post(call)]


def notification_for(job: Job) -> Notification | None:
    """The notification about a ticket that delivering `job` hands to the notifier
    (None: the job is no such notification, or one nobody is to get). A notifier
    that composes a batch's mails at once (`Channels.notifier.batch`) reads them all
    with this before the first is sent."""
    if handler_for(job.topic) is not _send_notification:
        return None
    is_event = job.topic not in RECIPIENT_TOPICS
    if not is_event and not job.recipients:
        return None
    return _notification(job)


def _notification(job: Job) -> Notification:
    is_event = job.topic not in RECIPIENT_TOPICS
    template = job.payload.get("template")
    if job.topic == "survey":
        template = template or f"survey:{job.payload.get('target')}"
    return Notification(
        delivery_id=job.outbox_id,
        topic=job.topic,
        ticket=job.ticket,
        target="subscribers" if is_event else str(job.payload.get("target")),
        recipients=job.recipients,
        template=template,
        source=job.payload.get("source"),
        payload=job.payload,
    )


def _send_notification(job: Job, channels: Channels) -> list[Attempt]:
    notification = _notification(job)
    target = str(notification.target)
    if job.topic in RECIPIENT_TOPICS and not job.recipients:
        return [Attempt("notification", target, True, None, "nobody to notify")]
    try:
        channels.notifier.send(notification)
    except Exception as error:
        failure = describe(error)
        return [
            Attempt("notification", to, False, None, failure) for to in _log_targets(job, target)
        ]
    logged = logs_only(channels)
    return [
        Attempt("notification", to, True, logged_only=logged) for to in _log_targets(job, target)
    ]


def logs_only(channels: Channels) -> bool:
    """Whether the notifier only writes to the log (a notifier says so with
    `delivers = False`; any other is taken to send)."""
    return getattr(channels.notifier, "delivers", True) is False


def _log_targets(job: Job, target: str) -> list[str]:
    return list(job.recipients) or [target]


def _send_account_mail(job: Job, channels: Channels) -> list[Attempt]:
    """A mail about a person's account, not a ticket (`password.reset`: the one-time
    link to set a password; `account.verify`: the link that proves a signed-up
    address), to the address in the payload."""
    to = str(job.payload.get("email") or "")
    notification = Notification(
        delivery_id=job.outbox_id,
        topic=job.topic,
        ticket=None,
        target=to,
        recipients=(to,),
        template=job.topic.replace(".", "_"),
        source=job.topic,
        payload=job.payload,
    )
    try:
        channels.notifier.send(notification)
    except Exception as error:
        return [Attempt("notification", to, False, None, describe(error))]
    return [Attempt("notification", to, True, logged_only=logs_only(channels))]


# By exact topic first, then by family (`ticket.*`). A topic in neither is marked
# skipped with a note, never an error: the engine may grow topics before handlers.
HANDLERS: dict[str, Handler] = {
    "account.locked": _send_account_mail,
    "account.verify": _send_account_mail,
    "comment.*": _send_notification,
    "notify": _send_notification,
    "password.reset": _send_account_mail,
    "report.mail": _send_account_mail,  # a mailed report: to the address in the payload
    "sla.*": _send_notification,
    "survey": _send_notification,
    "ticket.*": _send_notification,
    "webhook": _send_webhook,
}


def handler_for(topic: str) -> Handler | None:
    """The handler of `topic`, or of its family (`ticket.*`); None if nobody handles it."""
    family = topic.split(".", 1)[0] + ".*"
    return HANDLERS.get(topic) or HANDLERS.get(family)
