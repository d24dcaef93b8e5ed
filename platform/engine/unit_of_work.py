"""The unit of work every write runs in, and the read context every read runs in.

One write, from start to end (`begin_write`, the runner; `TicketService`,
`AccountService`, `MailLog`, the scheduler and the outbox relay all write through it):

1. One transaction (`Database.transaction`), one actor, one `now`, one bundle: a
   `UnitOfWork`. Nothing else in the platform opens a write transaction
   (tests/test_unit_of_work_rules.py checks it).
2. The write function (`engine.tickets.*`, `engine.accounts.*`…) validates and changes
   rows. Ticket attributes change only through `engine.tickets.changes`, whose helpers
   write the event of each change; every event row is made by `UnitOfWork.event` (one
   rule decides `internal`) and every outbox row by `UnitOfWork.outbox`. Both wait in
   the session's batch (`store.writes`).
3. `finish`: the ORM's changes are flushed, the SLA clocks of every ticket an event
   touched follow their ticket (`automation.sla.sync_sla`), the batch is written. The
   runner runs it at the end of every write; a caller that answers with the ticket as
   it is now (`result`) runs it first, and the runner's own pass then has nothing left.
4. Commit; the database's refusals (a stale row version, a unique key, a serialisation
   failure) become `Conflict` here, in one place. Any error rolls everything back.

A read gets the same view without the writing half: `begin_read` gives a
`ReadContext` (one transaction for a consistent view, the actor's scoping, `now`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.engine.records import (
    EventRecord,
    NewEvent,
    TicketRecord,
    WriteResult,
    internal_fields,
    ticket_values,
)
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket, TicketFollower, User
from gongdan.engine.store.tickets import load_ticket_by_key
from gongdan.engine.store.users import (
    load_user_by_email,
    read_user,
    read_user_by_address,
    user_from_driver,
    user_from_row,
)
from gongdan.engine.store.writes import pending, write_pending
from gongdan.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongdan.forms.data import condition_values
from gongdan.rules.workflow import Actor, WorkflowDef

__all__ = [
    "NO_BUNDLE",
    "ReadContext",
    "UnitOfWork",
    "begin_read",
    "begin_write",
    "is_internal",
    "utc_now",
]


def utc_now() -> datetime:
    """The clock of every service (tests hand in their own)."""
    return datetime.now(UTC)


# Set in a session's info when its transaction adds outbox rows.
OUTBOX_WRITTEN = "gongdan.outbox_written"

# The bundle of a write that needs no config (a user added from the shell, the outbox
# relay's bookkeeping): no ticket types, no teams, nothing to route or time.
NO_BUNDLE = Bundle(
    version="",
    ticket_types=MappingProxyType({}),
    workflows=MappingProxyType({}),
    calendars=MappingProxyType({}),
    sla_policies=(),
    routing_rules=(),
    automations=MappingProxyType({}),
    teams=MappingProxyType({}),
)


@contextmanager
def begin_write(db: Database, bundle: Bundle, actor: Actor, now: datetime) -> Iterator[UnitOfWork]:
    """The runner of every write: a `UnitOfWork` in one transaction, finished
    (`UnitOfWork.finish`) and committed when the block ends, rolled back on any error.
    Raises `Conflict` when the database refuses the write for a concurrent one."""
    try:
        with db.transaction() as session:
            work = UnitOfWork(session, bundle, actor, now)
            yield work
            work.finish()
        if session.info.get(OUTBOX_WRITTEN):
            db.outbox_written()  # committed: wake the relay of this process
    except StaleDataError as exc:
        raise Conflict(
            "the ticket was changed by someone else at the same time; reload and try again"
        ) from exc
    except IntegrityError as exc:
        raise Conflict(f"the change clashes with existing data: {exc.orig}") from exc
    except OperationalError as exc:
        if "could not serialize" in str(exc) or "deadlock" in str(exc):
            raise Conflict("the ticket was changed by someone else at the same time") from exc
        raise


@contextmanager
def begin_read(db: Database, bundle: Bundle, actor: Actor, now: datetime) -> Iterator[ReadContext]:
    """A `ReadContext` in one read transaction (a consistent view)."""
    with db.reading() as session:
        yield ReadContext(session, bundle, actor, now)


def is_internal(kind: str, after: dict[str, Any]) -> bool:
    """The one rule for an event's `internal` flag (internal events reach no requester,
    by any channel): an event is internal when it records a note that is not public
    (`after["public"]` is False: an internal comment, an automation's note) or concerns
    a secret: API tokens (`token.*`) and password links (`password.*`). Every other
    event a requester may read on a ticket they see (the values of internal fields in
    it are hidden by `EventRecord`, not by this flag)."""
    return after.get("public") is False or kind.startswith(_SECRET_KINDS)


_SECRET_KINDS = ("token.", "password.")


@dataclass
class ReadContext:
    """What reads and writes share: one session, one bundle, one actor, one `now`; the
    tickets and users the actor may see, read once each."""

    session: Session
    bundle: Bundle
    actor: Actor
    now: datetime
    _users: dict[int, User] = field(default_factory=dict)
    # Users' raw rows read along with something else (a team's members), with their
    # columns' positions: made into a `User` only if asked for.
    _user_rows: dict[int, tuple[Sequence[Any], dict[str, int], dict[int, User] | None]] = field(
        default_factory=dict
    )
    # Condition values per ticket object, with what they were computed from.
    _condition_values: dict[Ticket, tuple[tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=dict
    )
    # The keys of the tickets merged tickets point at, read by `preload` for `record`.
    _merged_keys: dict[int, str] = field(default_factory=dict)

    # Reading -----------------------------------------------------------------------

    def user(self, user_id: int | None) -> User | None:
        """A user, read once per write. Users are only read here: one the session holds
        already is used as is, others are read with a plain SELECT (no ORM loading)."""
        if user_id is None:
            return None
        user = self._users.get(user_id)
        if user is None:
            held = self.session.identity_map.get(identity_key(User, user_id))
            user = self._users[user_id] = held if held is not None else self._read_user(user_id)
        return user

    def _read_user(self, user_id: int) -> User:
        read = self._user_rows.pop(user_id, None)
        if read is not None:
            values, positions, built = read
            if built is None:
                return user_from_driver(self.session, values, positions)
            user = built.get(user_id)
            if user is None:
                user = built[user_id] = user_from_driver(self.session, values, positions)
            return user
        profile = self.actor.profile if user_id == self.actor.user_id else None
        if profile is not None:  # (read with the actor's bearer token just now)
            return user_from_row(profile)
        user = read_user(self.session, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    def remember_users(
        self,
        rows: Sequence[Sequence[Any]],
        positions: dict[str, int],
        *,
        built: dict[int, User] | None = None,
    ) -> None:
        """Users' whole rows read along with something else (a team's members, by a
        `DriverStatement`; `positions`: each column's place in a row): `user` makes the
        one asked for from its row, with no query of its own. `built`: users already
        made from these very rows, shared by the writes that read them (read-only
        detached users; one made here is added to it)."""
        at, known, kept = positions["id"], self._users, self._user_rows
        for row in rows:
            if row[at] not in known:
                kept[row[at]] = (row, positions, built)

    def known_user(self, email: str) -> User | None:
        """The user with this (lower-case) address, if any, read once per write (a
        plain SELECT: no ORM loading, nothing written back)."""
        self.session.flush()  # as an ORM query would: a user added in this write counts
        found = read_user_by_address(self.session, email)
        if found is None:
            return None
        return self._users.setdefault(found.id, found)  # (the one this write knows, if any)

    def user_by_email(self, email: str, *, what: str = "user") -> User:
        if "\x00" in email or len(email) > 254:  # no account has it; PostgreSQL refuses NUL
            raise ValidationFailed(f"no active {what} {email!r}", {what: "no such user"})
        user = load_user_by_email(self.session, email.strip().lower())
        if user is None or not user.active:
            raise ValidationFailed(f"no active {what} '{email}'", {what: f"no user '{email}'"})
        self._users[user.id] = user
        return user

    def ticket(self, key: str, *, expected_version: int | None = None) -> Ticket:
        """The ticket `key` if the actor may see it; NotFound otherwise (never a hint
        that a ticket they may not see exists)."""
        # A key no ticket can have (PostgreSQL refuses NUL in text; keys are short) is
        # not looked up at all: it is simply not found, on every database alike.
        if not isinstance(key, str) or "\x00" in key or len(key) > 64:
            raise NotFound(f"no ticket {key!r}")
        ticket = load_ticket_by_key(self.session, key)
        if ticket is None or not self.may_see(ticket):
            raise NotFound(f"no ticket '{key}'")
        if expected_version is not None and ticket.version != expected_version:
            raise Conflict(
                f"{key} was changed by someone else (version {ticket.version}, "
                f"you had {expected_version}); reload and try again",
                {"version": str(ticket.version)},
            )
        return ticket

    def may_see(self, ticket: Ticket) -> bool:
        actor = self.actor
        if actor.sees_everything:
            return True
        if actor.is_requester:
            return (
                ticket.requester_id == actor.user_id
                or self._named_approver(ticket)
                or self._copied_in(ticket)
            )
        return (
            ticket.team_id is None
            or ticket.team_id in actor.team_ids
            or ticket.assignee_id == actor.user_id
        )

    def _named_approver(self, ticket: Ticket) -> bool:
        email = (self.actor.email or "").lower()
        data = ticket.data or {}
        return bool(email) and any(
            str(data.get(name) or "").lower() == email for name in self.bundle.approval_fields
        )

    def _copied_in(self, ticket: Ticket) -> bool:
        """Whether the acting requester is a CC of `ticket` (`tickets.followers`): they
        see it as its requester does."""
        if self.actor.user_id is None or ticket.id is None:
            return False
        row = self.session.get(TicketFollower, (ticket.id, self.actor.user_id))
        return row is not None and row.kind == "cc"

    def require_staff(self, what: str) -> None:
        if not self.actor.is_staff:
            raise PermissionDenied(f"only agents may {what}")

    def ticket_type(self, ticket: Ticket) -> TicketTypeDef:
        ticket_type = self.bundle.ticket_types.get(ticket.ticket_type)
        if ticket_type is None:
            raise Conflict(f"ticket type '{ticket.ticket_type}' of {ticket.key} no longer exists")
        return ticket_type

    def workflow(self, ticket_type: TicketTypeDef) -> WorkflowDef:
        return self.bundle.workflows[ticket_type.workflow]

    def values(self, ticket: Ticket) -> dict[str, Any]:
        return ticket_values(ticket, self.user(ticket.requester_id), self.user(ticket.assignee_id))

    def condition_values(self, ticket: Ticket) -> dict[str, Any]:
        """What conditions read of `ticket` now (`values`, its type's fields normalised),
        computed again only when something they read has changed since: one write
        evaluates the SLA policies and the automations on the same ticket several times.
        Shared: callers only read it."""
        basis = (
            dict(ticket.data or {}),
            tuple(ticket.tags or ()),
            ticket.key,
            ticket.ticket_type,
            ticket.title,
            ticket.description,
            ticket.priority,
            ticket.state,
            ticket.state_category,
            ticket.team_id,
            ticket.requester_id,
            ticket.assignee_id,
            ticket.created_at,
            ticket.updated_at,
        )
        known = self._condition_values.get(ticket)
        if known is not None and known[0] == basis:
            return known[1]
        values = self.values(ticket)
        ticket_type = self.bundle.ticket_types.get(ticket.ticket_type)
        if ticket_type is not None:
            values = condition_values(ticket_type.field_map, values)
        self._condition_values[ticket] = (basis, values)
        return values

    def preload(self, tickets: Sequence[Ticket]) -> None:
        """Read what the records of `tickets` (a page of a list) name, in one statement
        each whatever their number (no N+1): their requesters and assignees, and the
        keys of the tickets merged ones point at. `record` then reads nothing."""
        self.preload_users([t.requester_id for t in tickets] + [t.assignee_id for t in tickets])
        on_page = {t.id: t.key for t in tickets}
        wanted = {t.merged_into_id for t in tickets if t.merged_into_id is not None}
        wanted -= self._merged_keys.keys()
        self._merged_keys.update({i: on_page[i] for i in wanted & on_page.keys()})
        missing = sorted(wanted - on_page.keys())
        if missing:
            found = self.session.execute(
                select(Ticket.id, Ticket.key).where(Ticket.id.in_(missing))
            )
            self._merged_keys.update({row.id: row.key for row in found})

    def preload_users(self, user_ids: Iterable[int | None]) -> None:
        """Read the users of `user_ids` not read yet, in one statement (`user` then
        finds them): the authors and actors of a ticket's timeline, a page's people."""
        missing = sorted({i for i in user_ids if i is not None and i not in self._users})
        if missing:
            for user in self.session.scalars(select(User).where(User.id.in_(missing))):
                self._users[user.id] = user

    def record(self, ticket: Ticket, *, as_requester: bool = False) -> TicketRecord:
        """`ticket` as the actor sees it (with `as_requester`: as its requester would,
        whoever the actor)."""
        requester = self.user(ticket.requester_id)
        assert requester is not None  # noqa: S101 - a ticket always has a requester
        merged_into = None
        if ticket.merged_into_id is not None:
            merged_into = self._merged_keys.get(ticket.merged_into_id)
            if merged_into is None:
                target = self.session.get(Ticket, ticket.merged_into_id)
                merged_into = target.key if target is not None else None
        return TicketRecord.build(
            ticket,
            self.bundle,
            requester=requester,
            assignee=self.user(ticket.assignee_id),
            for_requester=self.actor.is_requester or as_requester,
            merged_into=merged_into,
        )

    def hidden_fields(self, ticket: Ticket, *, as_requester: bool = False) -> frozenset[str]:
        """Fields of `ticket` whose values the actor may not read (internal ones, for a
        requester; with `as_requester`, whoever the actor)."""
        if not (self.actor.is_requester or as_requester):
            return frozenset()
        return internal_fields(self.bundle, ticket.ticket_type)


@dataclass
class UnitOfWork(ReadContext):
    """One write: a `ReadContext` that also records what it changes (events, outbox
    rows) and knows what is left to finish. Made by `begin_write` only."""

    events: list[NewEvent] = field(default_factory=list)
    # Tickets an event was written about since the last `finish` (their SLA clocks
    # follow them then), by id; held here so the session does not drop them.
    touched: dict[int, Ticket] = field(default_factory=dict)
    # Automations running now (outermost first): the loop guard of `automations`.
    automation_stack: list[str] = field(default_factory=list)
    # SLA clocks this write stored, per ticket object (`sla.sync_sla` skips the work when
    # nothing has moved since).
    sla_stored: dict[Ticket, dict[str, Any] | None] = field(default_factory=dict)

    def acting_as(self, actor: Actor) -> UnitOfWork:
        """The same unit of work (transaction, `now`, events, what is left to finish)
        with another actor: the system for declared actions and automations, the
        person a step is done for (a new account signing itself up)."""
        return replace(self, actor=actor)

    def as_system(self) -> UnitOfWork:
        """The same unit of work acting as the system (declared actions, automations)."""
        return self.acting_as(Actor.system())

    # Writing -----------------------------------------------------------------------

    def event(
        self,
        ticket: Ticket | None,
        kind: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> NewEvent:
        """Record a change: the one maker of event rows (append-only), by this unit of
        work's actor at its `now`; `internal` follows `is_internal`. The ticket's SLA
        clocks are synced when the write finishes."""
        after = after or {}
        row = {
            "ticket_id": ticket.id if ticket is not None else None,
            "actor_id": self.actor.user_id,
            "kind": kind,
            "at": self.now,
            "before": _jsonable(before or {}),
            "after": _jsonable(after),
            "detail": _jsonable(detail or {}),
            "internal": is_internal(kind, after),
        }
        # Never added to the session: written with the transaction's batch (`writes`),
        # which gives it its id.
        event = NewEvent(**row)
        pending(self.session).events.append((event, row))
        self.events.append(event)
        if ticket is not None:
            self.touched.setdefault(ticket.id if ticket.id is not None else id(ticket), ticket)
        return event

    def outbox(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue a side effect for after commit: the one maker of outbox rows (written
        with this transaction's batch, due at once)."""
        self.session.info[OUTBOX_WRITTEN] = True
        pending(self.session).outbox.append(
            {
                "topic": topic,
                "payload": _jsonable(payload),
                "created_at": self.now,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": self.now,  # due at once
            }
        )

    def event_records(self) -> tuple[EventRecord, ...]:
        write_pending(self.session)
        tickets: dict[int, Ticket | None] = {}
        out = []
        for event in self.events:
            if event.ticket_id is not None and event.ticket_id not in tickets:
                tickets[event.ticket_id] = self.session.get(Ticket, event.ticket_id)
            if self.actor.is_requester and event.internal:
                continue
            ticket = tickets.get(event.ticket_id) if event.ticket_id is not None else None
            key = (ticket.key if ticket is not None else "") if event.ticket_id else None
            hidden = self.hidden_fields(ticket) if ticket is not None else frozenset()
            record = EventRecord.build(
                event,
                key,
                self.user(event.actor_id),
                hidden,
                requester=self.actor.is_requester,
            )
            if record is not None:
                out.append(record)
        return tuple(out)

    # Finishing ---------------------------------------------------------------------

    def finish(self) -> None:
        """The finishing steps of every write, run by `begin_write` when the write's
        block ends: the ORM's changes flushed, the SLA clocks of every ticket touched
        since the last pass in step with their ticket, the pending batch written. Only
        what changed since the last pass is done again."""
        # Imported here: `sla` works on units of work, so it imports this module.
        from gongdan.engine.automation.sla import sync_sla

        self.session.flush()
        if self.touched:
            tickets = list(self.touched.values())
            self.touched.clear()
            for ticket in tickets:
                sync_sla(self, ticket)
            self.session.flush()
        write_pending(self.session)

    def result(self, ticket: Ticket) -> WriteResult:
        """The answer of a ticket write: the write finished, then the ticket as it is
        now and the events written (as the actor may see them)."""
        self.finish()
        return WriteResult(ticket=self.record(ticket), events=self.event_records())


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """Event and outbox payloads are JSON: datetimes become ISO 8601 text."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
