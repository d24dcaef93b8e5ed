"""The mail log (`mail_messages`) and the lookups the mail channel needs.

Every mail in or out is a row: sent notifications (their Message-ID threads replies
and marks our own messages, for loop protection), and what intake did with each mail
it received (accepted, ignored, rejected, with the reason). The mail channel itself
(`gongdan.channels.email`) never writes SQL: it reads through these functions and
writes through `MailLog`, whose methods are each one transaction (`unit_of_work.begin_write`,
or one INSERT for a log row): the log row, and the requester account made for an address
that writes in for the first time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gongdan.engine.accounts.users import actor_for, add_user, user_timezone
from gongdan.engine.store.database import Database
from gongdan.engine.store.mail import insert_mail_row
from gongdan.engine.store.models import MailMessage, Membership, Ticket, TicketFollower, User
from gongdan.engine.unit_of_work import NO_BUNDLE, UnitOfWork, begin_write, utc_now
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = [
    "MailLog",
    "MailRecord",
    "Person",
    "already_received",
    "ensure_requester",
    "find_people",
    "is_our_message",
    "list_mail",
    "people_of_ticket",
    "thread_root",
    "ticket_for_message_ids",
]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone mail goes to or comes from: a user (with the actor they act as) or, for a
    plain address no account has, only the address."""

    email: str
    name: str
    language: str
    actor: Actor | None
    timezone: str = ""  # the zone they chose ("": the default calendar's)

    @property
    def is_staff(self) -> bool:
        return self.actor is not None and self.actor.is_staff


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One logged mail, as an admin reads the log."""

    id: int
    message_id: str
    direction: str
    ticket_key: str | None
    comment_id: int | None
    sender: str
    recipients: tuple[str, ...]
    subject: str
    status: str
    reason: str | None
    at: datetime


class MailLog:
    """The mail channel's writes, each one unit of work by the system."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self.db, self.clock = db, clock

    def record(
        self,
        *,
        message_id: str,
        direction: str,
        status: str,
        ticket_key: str | None = None,
        comment_id: int | None = None,
        sender: str = "",
        recipients: Sequence[str] = (),
        subject: str = "",
        reason: str | None = None,
    ) -> int:
        """Log one mail in or out (at the clock's time now); returns its row id."""
        # One statement in its own write (`store.mail`): a mail sent is logged at once,
        # at little cost (the unit of work has nothing else to flush).
        with begin_write(self.db, NO_BUNDLE, Actor.system(), self.clock()) as ctx:
            return insert_mail_row(
                ctx.session,
                ticket_key,
                {
                    "message_id": message_id[:998],
                    "direction": direction,
                    "comment_id": comment_id,
                    "sender": sender[:254],
                    "recipients": [r[:254] for r in recipients][:100],
                    "subject": subject[:998],
                    "status": status,
                    "reason": reason[:4000] if reason else None,
                    "at": self.clock(),
                },
                # A mail we sent: its row need not wait for the disk (`store.mail`).
                flush_wait=direction != "out",
            )

    def ensure_requester(self, email: str, *, name: str | None, language: str) -> Person:
        """The user writing in from `email` (`ensure_requester`)."""
        with begin_write(self.db, NO_BUNDLE, Actor.system(), self.clock()) as ctx:
            return ensure_requester(ctx, email, name=name, language=language)


def thread_root(db: Database, ticket_key: str) -> str | None:
    """The Message-ID of the first mail about a ticket (in or out), which every later
    mail about it names in References so that mail clients thread them."""
    with db.reading() as session:
        return session.scalar(
            select(MailMessage.message_id)
            .join(Ticket, Ticket.id == MailMessage.ticket_id)
            .where(Ticket.key == ticket_key, MailMessage.status.in_(("sent", "accepted")))
            .order_by(MailMessage.id)
            .limit(1)
        )


def ticket_for_message_ids(db: Database, message_ids: Iterable[str]) -> str | None:
    """The key of the ticket one of `message_ids` (In-Reply-To, References) belongs to."""
    ids = [m for m in dict.fromkeys(message_ids) if m][:50]
    if not ids:
        return None
    with db.reading() as session:
        return session.scalar(
            select(Ticket.key)
            .join(MailMessage, MailMessage.ticket_id == Ticket.id)
            .where(MailMessage.message_id.in_(ids))
            .order_by(MailMessage.id.desc())
            .limit(1)
        )


def already_received(db: Database, message_id: str) -> str | None:
    """The key of the ticket a mail with `message_id` was already taken into (a client
    sending twice, a mailbox read again), or "" when it was taken without a ticket;
    None when it is new."""
    with db.reading() as session:
        row = session.execute(
            select(MailMessage.id, Ticket.key)
            .outerjoin(Ticket, Ticket.id == MailMessage.ticket_id)
            .where(
                MailMessage.message_id == message_id,
                MailMessage.direction == "in",
                MailMessage.status == "accepted",
            )
            .limit(1)
        ).first()
        return None if row is None else (row[1] or "")


def is_our_message(db: Database, message_id: str) -> bool:
    """Whether `message_id` is of a mail we sent (a bounce or a loop coming back)."""
    if not message_id:
        return False
    with db.reading() as session:
        found = session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(MailMessage.message_id == message_id, MailMessage.direction == "out")
        )
        return bool(found)


def _person(session: Session, user: User) -> Person:
    return Person(
        user.email, user.name, user.language or "en", actor_for(session, user), user_timezone(user)
    )


def find_people(db: Database, emails: Iterable[str]) -> list[Person]:
    """A Person per address, in the order given: users as they are, other addresses
    as themselves (in English, with no actor)."""
    wanted = [e.strip().lower() for e in dict.fromkeys(emails) if e and e.strip()]
    if not wanted:
        return []
    with db.reading() as session:
        users = {
            u.email: _person(session, u)
            for u in session.scalars(
                select(User).where(User.email.in_(wanted), User.active.is_(True))
            )
        }
    return [users.get(e) or Person(e, e.split("@")[0], "en", None) for e in wanted]


def people_of_ticket(db: Database, ticket_key: str, who: str) -> list[Person]:
    """The requester (`who="requester"`), the agents working a ticket
    (`who="agents"`: its assignee, or its team's active members when nobody is
    assigned), its followers (`who="followers"`) or the colleagues copied in
    (`who="cc"`). Empty when the ticket is gone."""
    with db.reading() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.key == ticket_key))
        if ticket is None:
            return []
        user_ids: list[int] = []
        if who == "requester":
            user_ids = [ticket.requester_id]
        elif who in ("followers", "cc"):
            kind = "follower" if who == "followers" else "cc"
            user_ids = list(
                session.scalars(
                    select(TicketFollower.user_id).where(
                        TicketFollower.ticket_id == ticket.id, TicketFollower.kind == kind
                    )
                )
            )
        elif ticket.assignee_id is not None:
            user_ids = [ticket.assignee_id]
        elif ticket.team_id is not None:
            user_ids = list(
                session.scalars(
                    select(Membership.user_id).where(Membership.team_id == ticket.team_id)
                )
            )
        users = session.scalars(
            select(User).where(User.id.in_(user_ids), User.active.is_(True)).order_by(User.email)
        )
        return [_person(session, u) for u in users]


def ensure_requester(ctx: UnitOfWork, email: str, *, name: str | None, language: str) -> Person:
    """The user writing in from `email`; a new address becomes a requester account (no
    password: they follow their tickets by mail, or sign up in the portal)."""
    address = email.strip().lower()
    user = ctx.session.scalar(select(User).where(User.email == address))
    if user is None:
        user = add_user(ctx, address, role=Role.REQUESTER, name=name, language=language)
    return _person(ctx.session, user)


def list_mail(db: Database, ticket_key: str | None = None, limit: int = 100) -> list[MailRecord]:
    """The mail log, newest first (of one ticket, when `ticket_key` is given)."""
    with db.reading() as session:
        query = (
            select(MailMessage, Ticket.key)
            .outerjoin(Ticket, Ticket.id == MailMessage.ticket_id)
            .order_by(MailMessage.id.desc())
            .limit(limit)
        )
        if ticket_key is not None:
            query = query.where(Ticket.key == ticket_key)
        return [
            MailRecord(
                id=row.id,
                message_id=row.message_id,
                direction=row.direction,
                ticket_key=key,
                comment_id=row.comment_id,
                sender=row.sender,
                recipients=tuple(row.recipients or ()),
                subject=row.subject,
                status=row.status,
                reason=row.reason,
                at=row.at,
            )
            for row, key in session.execute(query)
        ]
