"""Rows a write adds without the ORM: new tickets, events, outbox rows, round-robin
turns (SQLite), written together in as few statements as the database allows.

Events and outbox rows are append-only and nothing reads them back in the transaction
that writes them, so they wait here (in `session.info`) and go to the database in one
batch: when a new ticket is stored (its row goes in the same batch), when the write's
events are read back (`UnitOfWork.event_records`), when the unit of work finishes
(`UnitOfWork.finish`), and at the latest just before the transaction commits (a
`before_commit` hook). A rollback drops them. Only `UnitOfWork.event` and
`UnitOfWork.outbox` put rows here.

On PostgreSQL one batch is one statement (data-modifying CTEs); on SQLite, which has
none, one executemany per table (in-process, so no round trips to save).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    String,
    Table,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.expression import Executable

from gongdan.engine.records import NewEvent
from gongdan.engine.store.database import DriverStatement, prepared
from gongdan.engine.store.models import (
    Event,
    Outbox,
    RoutingPointer,
    Ticket,
    TicketCounter,
)
from gongdan.engine.store.sequences import NUMBER, ensure_sequence

__all__ = [
    "PendingWrites",
    "ask_number",
    "number_columns",
    "pending",
    "store_ticket",
    "take_number",
    "turn_column",
    "write_pending",
]

INFO_KEY = "gongdan.pending_writes"
TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
OUTBOX: Table = Outbox.__table__  # type: ignore[assignment]
POINTERS: Table = RoutingPointer.__table__  # type: ignore[assignment]
EVENT_COLUMNS = ("ticket_id", "actor_id", "kind", "at", "before", "after", "detail", "internal")
OUTBOX_COLUMNS = ("topic", "payload", "created_at", "status", "attempts", "next_attempt_at")
TICKET_COLUMNS = tuple(c.name for c in TICKETS.columns)


@dataclass
class PendingWrites:
    """What one transaction has still to write, in the order it was asked for."""

    tickets: list[tuple[Ticket, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[NewEvent, dict[str, Any]]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # Round-robin turns taken (team -> turns so far), SQLite only: one upsert per team.
    pointers: dict[str, int] = field(default_factory=dict)
    # A new ticket's number asked for ahead (`ask_number`, PostgreSQL): the ticket
    # type, its sequence, and the (number, id) once a read has taken them along.
    number_for: str | None = None
    number_sequence: str | None = None
    number: tuple[int, int | None] | None = None

    def __bool__(self) -> bool:
        return bool(self.tickets or self.events or self.outbox or self.pointers)

    def clear(self) -> None:
        self.tickets.clear()
        self.events.clear()
        self.outbox.clear()
        self.pointers.clear()
        self.number_for = self.number_sequence = self.number = None


def pending(session: Session) -> PendingWrites:
    """The writes `session`'s transaction has still to make."""
    writes = session.info.get(INFO_KEY)
    if writes is None:
        writes = session.info[INFO_KEY] = PendingWrites()
    assert isinstance(writes, PendingWrites)  # noqa: S101 - only this module sets it
    return writes


def ask_number(session: Session, type_id: str) -> None:
    """Say that a new ticket of `type_id` will take its number next: on PostgreSQL the
    read that routes it (its team's members) takes the number along, saving a round
    trip (`number_columns`); `take_number` then finds it taken."""
    if session.get_bind().dialect.name == "postgresql":
        writes = pending(session)
        writes.number_for, writes.number = type_id, None
        writes.number_sequence = ensure_sequence(session.connection(), NUMBER, type_id)


def take_number(session: Session, type_id: str) -> tuple[int, int | None]:
    """The next number of a ticket type and, on PostgreSQL, the new ticket's id drawn
    from its sequence in the same round trip (None on SQLite, where the INSERT assigns
    it). PostgreSQL numbers from the type's sequence (`db.sequences`: no lock held);
    SQLite from the counter row, gapless (one writer at a time)."""
    writes = pending(session)
    taken = writes.number if writes.number_for == type_id else None
    writes.number_for = writes.number_sequence = writes.number = None
    if taken is not None:
        return taken
    dialect = session.get_bind().dialect.name
    statement = _NUMBER.get(dialect)
    if statement is None:
        statement = _NUMBER[dialect] = prepared(_number_statement(dialect))
    if dialect == "postgresql":
        values = {"number_sequence": ensure_sequence(session.connection(), NUMBER, type_id)}
    else:
        values = {"ticket_type": type_id}
    row = session.connection().execute(statement, values).one()
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


_NUMBER: dict[str, Executable] = {}


def number_columns() -> list[Any]:
    """PostgreSQL: the next number (of the sequence bound as `number_sequence`) and the
    next ticket id, as columns a read can select along (evaluated once in a CTE)."""
    return [
        _nextval(bindparam("number_sequence", type_=String)).label("number"),
        func.nextval(func.pg_get_serial_sequence("tickets", "id")).label("next_id"),
    ]


def turn_column() -> Any:
    """PostgreSQL: the team's next round-robin turn (its sequence bound as
    `turn_sequence`), as a column a read can select along."""
    return _nextval(bindparam("turn_sequence", type_=String)).label("turn")


def _nextval(name: Any) -> Any:
    return func.nextval(cast(name, REGCLASS))


def _number_statement(dialect: str) -> Any:
    if dialect == "postgresql":
        return select(*number_columns())
    return (
        sqlite_insert(TicketCounter)
        .values(ticket_type=bindparam("ticket_type"), last_number=1)
        .on_conflict_do_update(
            index_elements=[TicketCounter.ticket_type],
            set_={"last_number": TicketCounter.last_number + 1},
        )
        .returning(TicketCounter.last_number.label("number"), literal(None).label("next_id"))
    )


def store_ticket(session: Session, ticket: Ticket) -> None:
    """Insert a new ticket built in memory (every column as set on the object) and make
    the object the session's persistent row, without reading it back. On PostgreSQL
    its id was drawn with its number (`take_number`) and the row joins the pending
    batch; on SQLite it is inserted now and gets its id."""
    state = ticket.__dict__
    row = {name: state.get(name) for name in TICKET_COLUMNS}
    if ticket.id is not None:
        pending(session).tickets.append((ticket, row))
    else:
        del row["id"]
        ticket.id = session.connection().execute(_TICKET_RETURNING, row).scalar_one()
    make_transient_to_detached(ticket)
    session.add(ticket)


def write_pending(session: Session) -> None:
    """Write what is pending now: the ORM's own changes first (rows may refer to them),
    then the batch. Events get their ids."""
    writes = session.info.get(INFO_KEY)
    if not writes:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql" and _small(writes):
        _write_postgresql(session, writes)
    else:
        _write_each(session, writes)
    writes.clear()


def _small(writes: PendingWrites) -> bool:
    """Whether the batch fits one statement: what one ticket's write makes. Bigger
    batches (an SLA scan over many tickets) go table by table, in bulk."""
    return (
        len(writes.tickets) <= 1
        and len(writes.events) <= MAX_BATCH_ROWS
        and len(writes.outbox) <= MAX_BATCH_ROWS
    )


def _write_each(session: Session, writes: PendingWrites) -> None:
    """One executemany per table; on SQLite on the driver itself (`DriverStatement`:
    SQLAlchemy's execution cost several times the insert of an event row)."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if writes.tickets:
        connection.execute(_TICKET_INSERT, [row for _ticket, row in writes.tickets])
    if writes.events:
        rows = [params for _event, params in writes.events]
        if sqlite:
            _assign_ids(writes, _SQLITE_EVENT_INSERT.insert(session, rows))
        else:
            _assign_ids(writes, connection.execute(_EVENT_INSERT, rows).scalars().all())
    if writes.outbox:
        if sqlite:
            _SQLITE_OUTBOX_INSERT.run_many(session, writes.outbox)
        else:
            connection.execute(_OUTBOX_INSERT, writes.outbox)
    if writes.pointers:
        _POINTER_UPSERT.run_many(
            session, [{"team_id": team, "turns": turns} for team, turns in writes.pointers.items()]
        )


_TICKET_INSERT = insert(TICKETS)
_TICKET_RETURNING = insert(TICKETS).returning(TICKETS.c.id)
_EVENT_INSERT = insert(EVENTS).returning(EVENTS.c.id)
_OUTBOX_INSERT = insert(OUTBOX)


def _sqlite_insert(table: Table, columns: tuple[str, ...]) -> DriverStatement:
    return DriverStatement(
        insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    )


_SQLITE_EVENT_INSERT = _sqlite_insert(EVENTS, EVENT_COLUMNS)
_SQLITE_OUTBOX_INSERT = _sqlite_insert(OUTBOX, OUTBOX_COLUMNS)
_POINTER_INSERT = sqlite_insert(POINTERS).values(
    team_id=bindparam("team_id"), turns=bindparam("turns")
)
# SQLite only: PostgreSQL counts turns in a sequence per team (`db.sequences`).
_POINTER_UPSERT = DriverStatement(
    _POINTER_INSERT.on_conflict_do_update(
        index_elements=[POINTERS.c.team_id], set_={"turns": _POINTER_INSERT.excluded.turns}
    )
)


def _assign_ids(writes: PendingWrites, ids: Sequence[int]) -> None:
    """Ids come from one sequence (or SQLite's next rowid under its write lock) in the
    order the rows went in; RETURNING's order is not promised, so they are sorted."""
    for (row, _params), event_id in zip(writes.events, sorted(ids), strict=True):
        row.id = event_id


# PostgreSQL: one statement per batch ------------------------------------------------

MAX_BATCH_ROWS = 8
_SHAPES: dict[tuple[int, int, int], DriverStatement] = {}


def _write_postgresql(session: Session, writes: PendingWrites) -> None:
    assert not writes.pointers  # noqa: S101 - turns are a sequence on PostgreSQL
    shape = (len(writes.tickets), len(writes.events), len(writes.outbox))
    statement = _SHAPES.get(shape)
    if statement is None:
        statement = _SHAPES[shape] = DriverStatement(_batch_statement(*shape))
    params: dict[str, Any] = {}
    for n, (_ticket, row) in enumerate(writes.tickets):
        params.update({f"t{n}_{k}": v for k, v in row.items()})
    for n, (_event, row) in enumerate(writes.events):
        params.update({f"e{n}_{k}": v for k, v in row.items()})
    for n, row in enumerate(writes.outbox):
        params.update({f"o{n}_{k}": v for k, v in row.items()})
    _assign_ids(writes, [row[0] for row in statement.rows(session, params)])


def _insert_rows(table: Table, prefix: str, count: int, columns: tuple[str, ...]) -> Insert:
    """INSERT of `count` rows whose values are bound as `{prefix}{n}_{column}`. Several
    rows are a UNION ALL of SELECTs, not a multi-row VALUES: SQLAlchemy caches the
    compiled form of the former only."""

    def row(n: int) -> dict[str, Any]:
        return {
            name: bindparam(f"{prefix}{n}_{name}", type_=table.c[name].type) for name in columns
        }

    if count == 1:
        return insert(table).values(row(0))
    selects = [select(*row(n).values()) for n in range(count)]
    return insert(table).from_select(list(columns), union_all(*selects))


def _batch_statement(tickets: int, events: int, outbox: int) -> Executable:
    """WITH t AS (INSERT tickets), o AS (INSERT outbox) INSERT INTO events … RETURNING
    id (PostgreSQL runs every part exactly once; the foreign keys are checked at the
    end of the statement)."""
    ctes = []
    if tickets:
        ctes.append(_insert_rows(TICKETS, "t", tickets, TICKET_COLUMNS).cte("t"))
    if outbox:
        ctes.append(_insert_rows(OUTBOX, "o", outbox, OUTBOX_COLUMNS).cte("o"))
    if events:
        main: Insert | Select[Any] = _insert_rows(EVENTS, "e", events, EVENT_COLUMNS).returning(
            EVENTS.c.id
        )
    else:
        main = select(literal(0)).where(literal(False))
    return main.add_cte(*ctes)


# Written at commit at the latest; dropped on rollback --------------------------------


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    writes = session.info.get(INFO_KEY)
    if writes:
        writes.clear()
