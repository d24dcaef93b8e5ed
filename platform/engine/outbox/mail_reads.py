"""What composing notification mails reads, for a whole batch at once (issue 23).

Mailing one notification needs its ticket as each recipient may see it, the people
around the ticket (requester, CCs, followers, assignee or team), each one's language,
time zone, teams and notification preferences, the comment the mail is about, the
thread root, and whether a mail was already sent by an earlier attempt. Read one
lookup at a time, that was ~25 statements in ~10 transactions per mail.

`read_mail_batch` reads all of it for the tickets of a batch in one read transaction
with a few set-based statements (tickets, followers, team members, users with their
teams and preferences, comments, thread roots); `MailReads` answers the mail
channel's questions from what it read. A question about something not read up front
(a `notify` address that is a user, a ticket merged elsewhere) is answered in the same
transaction with one more statement. Who may see what is decided exactly as the
web and the API decide it (`ReadContext.may_see`, `ReadContext.record`, comments of a
requester's view public only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.preferences import Preferences
from gongdan.engine.accounts.users import user_timezone
from gongdan.engine.outbox.mail_log import Person
from gongdan.engine.reads.queries import select_comments
from gongdan.engine.reads.ticket_page import files_of_comments
from gongdan.engine.records import CommentRecord, TicketRecord
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import (
    Comment,
    MailMessage,
    Membership,
    NotificationPreference,
    Ticket,
    TicketFollower,
    User,
)
from gongdan.engine.store.tickets import load_ticket_by_key
from gongdan.engine.unit_of_work import ReadContext, utc_now
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = ["MailReads", "read_mail_batch"]


@contextmanager
def read_mail_batch(
    db: Database,
    bundle: Bundle,
    keys: Iterable[str],
    emails: Iterable[str] = (),
    now: datetime | None = None,
) -> Iterator[MailReads]:
    """`MailReads` for the tickets `keys` (and the people of `emails`, e.g. the
    addresses `notify` actions named), read in one read transaction that stays open
    while the block runs (compose the mails in it; send them after)."""
    with db.reading() as session:
        yield MailReads(session, bundle, now or utc_now(), keys, emails)


class MailReads:
    """The mail channel's questions about a batch's tickets, answered from one read."""

    def __init__(
        self,
        session: Session,
        bundle: Bundle,
        now: datetime,
        keys: Iterable[str],
        emails: Iterable[str] = (),
    ) -> None:
        self.session, self.bundle, self.now = session, bundle, now
        wanted = sorted({k for k in keys if k and len(k) <= 64 and "\x00" not in k})
        tickets = (
            list(session.scalars(select(Ticket).where(Ticket.key.in_(wanted)))) if wanted else []
        )
        self._tickets: dict[str, Ticket | None] = dict.fromkeys(wanted)
        self._tickets.update({t.key: t for t in tickets})
        ids = [t.id for t in tickets]
        self._read = set(ids)  # the tickets whose comments and thread root were read
        # Followers and CCs (ORM rows: `ReadContext.may_see` finds a CC's row by key).
        self._follows: dict[tuple[int, str], list[int]] = defaultdict(list)
        if ids:
            for row in session.scalars(
                select(TicketFollower).where(TicketFollower.ticket_id.in_(ids))
            ):
                self._follows[row.ticket_id, row.kind].append(row.user_id)
        teams = sorted({t.team_id for t in tickets if t.assignee_id is None and t.team_id})
        self._members: dict[str, list[int]] = defaultdict(list)
        if teams:
            for team_id, user_id in session.execute(
                select(Membership.team_id, Membership.user_id).where(Membership.team_id.in_(teams))
            ):
                self._members[team_id].append(user_id)
        self._comments: dict[int, list[Comment]] = defaultdict(list)
        for comment in select_comments(session, ids, Actor.system()) if ids else ():
            self._comments[comment.ticket_id].append(comment)
        # Their files, which a reply's mail names with links.
        self._files = files_of_comments(
            session, [c.id for found in self._comments.values() for c in found]
        )
        self._roots = self._thread_roots(ids)
        # Users: by id (ORM rows, which `ReadContext.user` finds) and as people.
        self._users: dict[int, User] = {}
        self._people: dict[str, Person] = {}  # active users by address
        self._prefs: dict[int, Preferences] = {}
        self._ids: dict[str, int] = {}  # every user read, by address
        user_ids = {t.requester_id for t in tickets} | {t.assignee_id for t in tickets}
        user_ids |= {u for found in self._follows.values() for u in found}
        user_ids |= {u for found in self._members.values() for u in found}
        user_ids |= {c.author_id for found in self._comments.values() for c in found}
        user_ids.discard(None)
        addresses = sorted({e.strip().lower() for e in emails if e and e.strip()})
        self._load_users(sorted(u for u in user_ids if u is not None), addresses)

    # Reading (the few statements) ---------------------------------------------------

    def _thread_roots(self, ticket_ids: list[int]) -> dict[int, str]:
        if not ticket_ids:
            return {}
        first = (
            select(func.min(MailMessage.id))
            .where(
                MailMessage.ticket_id.in_(ticket_ids),
                MailMessage.status.in_(("sent", "accepted")),
            )
            .group_by(MailMessage.ticket_id)
        )
        rows = self.session.execute(
            select(MailMessage.ticket_id, MailMessage.message_id).where(MailMessage.id.in_(first))
        )
        return {ticket_id: message_id for ticket_id, message_id in rows if ticket_id is not None}

    def _load_users(self, user_ids: Sequence[int], emails: Sequence[str]) -> None:
        """Users by id or address, with their teams and preferences (three statements)."""
        wanted_ids = [u for u in user_ids if u not in self._users]
        wanted_emails = [e for e in emails if e not in self._people]
        if not wanted_ids and not wanted_emails:
            return
        conditions = []
        if wanted_ids:
            conditions.append(User.id.in_(wanted_ids))
        if wanted_emails:
            conditions.append(User.email.in_(wanted_emails))
        users = list(self.session.scalars(select(User).where(or_(*conditions))))
        new = [u for u in users if u.id not in self._users]
        if not new:
            return
        new_ids = [u.id for u in new]
        teams: dict[int, set[str]] = defaultdict(set)
        for user_id, team_id in self.session.execute(
            select(Membership.user_id, Membership.team_id).where(Membership.user_id.in_(new_ids))
        ):
            teams[user_id].add(team_id)
        for row in self.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(new_ids))
        ):
            self._prefs[row.user_id] = Preferences(bool(row.mail), frozenset(row.muted or ()))
        for user in new:
            self._users[user.id] = user
            self._ids[user.email] = user.id
            if user.active:
                actor = Actor(user.id, user.email, Role(user.role), frozenset(teams[user.id]))
                self._people[user.email] = Person(
                    user.email, user.name, user.language or "en", actor, user_timezone(user)
                )

    def _ticket(self, key: str) -> Ticket | None:
        if key not in self._tickets:  # not among the batch's: read it now
            self._tickets[key] = load_ticket_by_key(self.session, key) if len(key) <= 64 else None
            found = self._tickets[key]
            if found is not None:
                self._load_users([found.requester_id, *filter(None, [found.assignee_id])], [])
        return self._tickets[key]

    def _person(self, user_id: int) -> Person | None:
        user = self._users.get(user_id)
        return self._people.get(user.email) if user is not None else None

    # The questions (as `engine.outbox.mail_log` answers them one at a time) ------------

    def people_of_ticket(self, key: str, who: str) -> list[Person]:
        """As `mail_log.people_of_ticket`: the requester, the agents working the ticket
        (its assignee, else its team's members), its followers or its CCs; active
        users only, by address."""
        ticket = self._ticket(key)
        if ticket is None:
            return []
        user_ids: list[int]
        if who == "requester":
            user_ids = [ticket.requester_id]
        elif who in ("followers", "cc"):
            user_ids = self._follows.get(
                (ticket.id, "follower" if who == "followers" else "cc"), []
            )
        elif ticket.assignee_id is not None:
            user_ids = [ticket.assignee_id]
        elif ticket.team_id is not None:
            if ticket.team_id not in self._members:  # (assigned when the batch was read)
                self._members[ticket.team_id] = list(
                    self.session.scalars(
                        select(Membership.user_id).where(Membership.team_id == ticket.team_id)
                    )
                )
            user_ids = self._members[ticket.team_id]
        else:
            user_ids = []
        self._load_users(user_ids, [])
        people = [p for u in dict.fromkeys(user_ids) if (p := self._person(u)) is not None]
        return sorted(people, key=lambda p: p.email)

    def find_people(self, emails: Iterable[str]) -> list[Person]:
        """As `mail_log.find_people`: a Person per address, in the order given; an
        address no active user has as itself (in English, with no actor)."""
        wanted = [e.strip().lower() for e in dict.fromkeys(emails) if e and e.strip()]
        self._load_users([], wanted)
        return [self._people.get(e) or Person(e, e.split("@")[0], "en", None) for e in wanted]

    def muted(self, emails: Iterable[str], kind: str | None) -> set[str]:
        """As `preferences.muted_people`: the addresses among `emails` whose owners do
        not want a mail of `kind`."""
        if kind is None:
            return set()
        wanted = {e.lower() for e in emails if e}
        self._load_users([], sorted(wanted))
        prefs = [(e, self._prefs.get(self._ids.get(e, 0))) for e in wanted]
        return {e for e, found in prefs if found is not None and not found.wants(kind)}

    def thread_root(self, key: str) -> str | None:
        """As `mail_log.thread_root`: the Message-ID of the first mail about the ticket
        (as the batch was read)."""
        ticket = self._ticket(key)
        if ticket is None:
            return None
        if ticket.id not in self._read:  # not among the batch's tickets
            self._roots.update(self._thread_roots([ticket.id]))
        return self._roots.get(ticket.id)

    def composed(self, key: str, message_id: str) -> None:
        """A mail about ticket `key` was composed in this batch, to be sent before the
        batch's later ones: if no mail about the ticket was logged yet, it is the
        thread root the later ones name (as they would have, read after it was sent)."""
        ticket = self._ticket(key)
        if ticket is not None:
            self._roots.setdefault(ticket.id, message_id)

    def sent(self, message_ids: Iterable[str]) -> set[str]:
        """Those of `message_ids` that are of mails we sent already (one statement)."""
        wanted = sorted({m for m in message_ids if m})
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(MailMessage.message_id).where(
                    MailMessage.message_id.in_(wanted), MailMessage.direction == "out"
                )
            )
        )

    def view(self, key: str, actors: Sequence[Actor | None]) -> tuple[Actor, TicketRecord] | None:
        """The first of `actors` who may see ticket `key`, and the ticket as they see it
        (`TicketService.get_ticket`'s scoping); None if none may (or it is gone)."""
        ticket = self._ticket(key)
        if ticket is None:
            return None
        for actor in actors:
            if actor is None:
                continue
            ctx = self._context(actor)
            if ctx.may_see(ticket):
                return actor, ctx.record(ticket)
        return None

    def comments(self, actor: Actor, key: str) -> list[CommentRecord]:
        """The comments of ticket `key` that `actor` may read (a requester: the public
        ones), oldest first (`TicketService.list_comments`)."""
        ticket = self._ticket(key)
        if ticket is None:
            return []
        if ticket.id not in self._read:  # not among the batch's tickets
            self._read.add(ticket.id)
            self._roots.update(self._thread_roots([ticket.id]))
            for comment in select_comments(self.session, [ticket.id], Actor.system()):
                self._comments[ticket.id].append(comment)
            self._files.update(
                files_of_comments(self.session, [c.id for c in self._comments[ticket.id]])
            )
        found = self._comments[ticket.id]
        if actor.is_requester:
            found = [c for c in found if c.public]
        self._load_users(sorted({c.author_id for c in found if c.author_id is not None}), [])
        return [
            CommentRecord.build(
                c,
                ticket.key,
                self._users.get(c.author_id) if c.author_id else None,
                self._files.get(c.id, ()),
            )
            for c in found
        ]

    def _context(self, actor: Actor) -> ReadContext:
        # (The users it asks for are in this session already: it finds them there.)
        return ReadContext(self.session, self.bundle, actor, self.now)
