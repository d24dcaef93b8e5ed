"""Routing's read: a team's members with their open-ticket counts, and a round-robin
turn, in one statement run on the database driver itself.

`read_members` is one statement whatever it is asked for, and keeps these rules:

- Open tickets per member are one row each of `agent_open_tickets`, which triggers keep
  in the transaction of every ticket change (migration 0018): a create costs the same
  however many open tickets the members have. They include what the write has changed
  so far (the session is flushed first, and the triggers ran).
- Every row carries the directory generation (migration 0010: any change to users or
  memberships, by any process, moves it), so a caller that keeps members between
  reads knows when they changed. With `whole`, a row is the member's whole user row
  (JSON columns as text: of the members read, only the one chosen becomes a `User`,
  `store.users.user_from_driver`) and membership; otherwise only their ids and counts.
- A round-robin `turn` is the team's count of turns taken, this one included. On
  PostgreSQL it is the next value of the team's sequence (no row lock held until
  commit: `store.sequences`), drawn in the same statement, and so is a new ticket's
  number and id when one was asked for ahead (`store.writes.ask_number`). On SQLite the
  team's stored turns are read along and the new count goes back with the write's
  batch (`store.writes`: one upsert per team).

It runs on the driver (`DriverStatement`) rather than through SQLAlchemy's execution:
it is the one read of every routed create, and SQLAlchemy's per-statement work costs
more than the statement itself here. The statement's forms are compiled once each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from gongdan.engine.store.database import DriverStatement
from gongdan.engine.store.models import (
    AgentOpenTickets,
    DirectoryGeneration,
    Membership,
    RoutingPointer,
    User,
)
from gongdan.engine.store.sequences import TURN, ensure_sequence
from gongdan.engine.store.writes import number_columns, pending, turn_column
from gongdan.vocabulary import STAFF_ROLES

__all__ = ["MemberRows", "member_skills", "read_members"]


class MemberRows(NamedTuple):
    """What `read_members` read: one row per member with an active staff account (none
    for a team without members), each column's place in a row (`positions`: `id`,
    `open_tickets`, `generation`, and with `whole` every `users` column, `skills` and
    `capacity`), the directory generation (None without members) and the turn taken
    (None unless asked for)."""

    rows: Sequence[Sequence[Any]]
    positions: dict[str, int]
    generation: int | None
    turn: int | None


def read_members(
    session: Session, team_id: str, *, whole: bool, counts: bool = True, turn: bool = False
) -> MemberRows:
    """The members of `team_id` with their open-ticket counts (`counts=False`: 0 each,
    for a round robin nobody's capacity limits) and the directory generation, in one
    statement; with `turn`, this pick's round-robin turn, and a new ticket's number
    when one was asked for ahead and not taken yet."""
    writes = pending(session)
    dialect = session.get_bind().dialect.name
    number_sequence = writes.number_sequence if writes.number is None else None
    params: dict[str, Any] = {"team": team_id, "number_sequence": number_sequence}
    moved = writes.pointers.get(team_id) if turn else None  # turns this write took (SQLite)
    if turn and dialect == "postgresql":
        params["turn_sequence"] = ensure_sequence(session.connection(), TURN, team_id)
    session.flush()  # counts include what this write has changed so far
    statement = _statement(
        (dialect, counts, turn and moved is None, number_sequence is not None, whole)
    )
    rows = statement.rows(session, params)
    at = statement.columns
    taken = None
    if dialect == "postgresql":
        if number_sequence is not None:  # a new ticket's number came along
            writes.number = (int(rows[0][at["number"]]), int(rows[0][at["next_id"]]))
        taken = int(rows[0][at["turn"]]) if turn else None
        if turn or number_sequence is not None:  # the CTE's row for a team without members
            rows = [row for row in rows if row[at["id"]] is not None]
    elif turn:
        stored = rows[0][at["turns"]] if rows and moved is None else 0
        taken = (moved if moved is not None else int(stored or 0)) + 1
        writes.pointers[team_id] = taken
    generation = rows[0][at["generation"]] if rows else None
    return MemberRows(rows, at, generation, taken)


def member_skills(stored: str | None) -> frozenset[str]:
    """A membership's skills as `read_members` reads them (JSON text, or NULL), parsed
    once per distinct text: a team's members repeat theirs at every pick."""
    if not stored:
        return frozenset()
    skills = _SKILLS.get(stored)
    if skills is None:
        if len(_SKILLS) >= 4096:  # only ever as many as memberships; bounded anyway
            _SKILLS.clear()
        skills = _SKILLS[stored] = frozenset(json.loads(stored) or ())
    return skills


_SKILLS: dict[str, frozenset[str]] = {}
# The statement's forms: (dialect, counts, turn, number, whole) -> statement.
_MEMBERS: dict[tuple[str, bool, bool, bool, bool], DriverStatement] = {}


def _statement(key: tuple[str, bool, bool, bool, bool]) -> DriverStatement:
    statement = _MEMBERS.get(key)
    if statement is None:
        statement = _MEMBERS[key] = DriverStatement(_members_statement(*key))
    return statement


def _members_statement(
    dialect: str, counts: bool, turn: bool, number: bool, whole: bool
) -> Select[Any]:
    """The members query, each row with the directory generation. PostgreSQL: the
    values drawn from sequences are a CTE the members join (`WITH n AS (SELECT
    nextval(…)…) SELECT m.*, n.* FROM n LEFT JOIN (…) m ON true`): drawn once, and one
    row even for a team without members. SQLite: the team's turns so far as a column
    (`turn` when no earlier pick in this write moved them)."""
    members = _members_select(counts, turn and dialect != "postgresql", whole)
    drawn = (number_columns() if number else []) + (
        [turn_column()] if turn and dialect == "postgresql" else []
    )
    if not drawn:
        return members
    values = select(*drawn).cte("n")
    listed = members.subquery("m")
    return select(listed, *values.c).select_from(values.outerjoin(listed, true()))


def _members_select(counts: bool, turns: bool, whole: bool) -> Select[Any]:
    team: Any = bindparam("team")
    member: Any = User.id if whole else Membership.user_id
    open_count: Any = (
        func.coalesce(
            select(AgentOpenTickets.open_tickets)
            .where(AgentOpenTickets.user_id == member)
            .correlate(User if whole else Membership)
            .scalar_subquery(),
            0,
        )
        if counts
        else literal(0)
    )
    extra: list[Any] = [
        select(DirectoryGeneration.generation)
        .where(DirectoryGeneration.id == 1)
        .scalar_subquery()
        .label("generation")
    ]
    if turns:
        extra.append(
            select(RoutingPointer.turns)
            .where(RoutingPointer.team_id == team)
            .scalar_subquery()
            .label("turns")
        )
    if not whole:
        return select(
            Membership.user_id.label("id"), open_count.label("open_tickets"), *extra
        ).where(Membership.team_id == team)
    return (
        select(
            *(_as_text(c) for c in User.__table__.columns),
            _as_text(Membership.skills),
            Membership.capacity,
            open_count.label("open_tickets"),
            *extra,
        )
        .join(Membership, and_(Membership.user_id == User.id, Membership.team_id == team))
        .where(User.active.is_(True), User.role.in_(_sql_texts(tuple(sorted(STAFF_ROLES)))))
    )


def _as_text(column: Any) -> Any:
    """A JSON column as its text (`user_from_driver` and `member_skills` parse it): of
    the members read, only the one chosen needs its attributes, and the driver would
    otherwise parse every member's."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.name)
    return column


def _sql_texts(values: tuple[str, ...]) -> list[Any]:
    """Constant texts written into the SQL (not bound): the partial index on open tickets
    applies to a query whose condition names its categories, and the statement needs no
    re-rendering of an expanding IN at each execution."""
    assert all(v.isidentifier() for v in values)  # noqa: S101 - our own constants
    return [literal_column(f"'{v}'") for v in values]
