"""Routing in the engine: run the bundle's rules on a ticket and assign by strategy.

The rules and the choice of agent are pure (`gongdan.rules.routing`,
`gongdan.rules.assignment`); this module loads the candidates (members, away flags,
open-ticket counts) and the team's round-robin turn, applies the outcome in memory
(`changes.apply_fields`, `changes.place`) and records it with one event that says which
rules matched and why the ticket went where it went: a new ticket's `ticket.created`,
else `ticket.routed`.
"""

from __future__ import annotations

import json
import weakref
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

from gongdan.engine.store.database import DriverStatement
from gongdan.engine.store.models import (
    DirectoryGeneration,
    Membership,
    RoutingPointer,
    Ticket,
    User,
)
from gongdan.engine.store.sequences import TURN, ensure_sequence
from gongdan.engine.store.writes import number_columns, pending, turn_column
from gongdan.engine.tickets.changes import KEEP, SET_COLUMNS, Keep, apply_fields, place
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.rules.actions import Assignment
from gongdan.rules.assignment import Candidate, choose_agent
from gongdan.rules.routing import route, rule_keys
from gongdan.vocabulary import OPEN_CATEGORIES, STAFF_ROLES

__all__ = [
    "choose_assignment",
    "load_candidates",
    "plan_route",
    "route_ticket",
]


def load_candidates(ctx: UnitOfWork, team_id: str, *, counts: bool = True) -> list[Candidate]:
    """Members of a team with an active account, with their open-ticket counts, in one
    query. `counts=False` skips the counting (round robin when nobody has a capacity)."""
    return _members(ctx, team_id, counts=counts, turn=False)[0]


def _members(
    ctx: UnitOfWork, team_id: str, *, counts: bool, turn: bool
) -> tuple[list[Candidate], int | None]:
    """The team's candidates and, with `turn`, this pick's round-robin turn (the
    team's count of turns taken, this one included), in one query. On PostgreSQL the
    turn is the next value of the team's sequence (no lock held: `db.sequences`), and
    a new ticket's number and id may come along too (`ask_number`); on SQLite the turn
    is the team's `routing_pointers.turns` plus one, written back with the batch.

    Who the members are (active, away, skills, capacity, their user rows) is kept per
    process (`_TEAMS`) with the directory generation it was read at: a pick reads only
    the members' open-ticket counts and the generation, and reads the members again
    when the generation moved (any change to users or memberships, by any process:
    triggers, migration 0010). The one chosen is built as a `User` once per generation
    and shared, read-only, by the writes that pick them."""
    writes = pending(ctx.session)
    bind = ctx.session.get_bind()
    dialect = bind.dialect.name
    number_sequence = writes.number_sequence if writes.number is None else None
    params: dict[str, Any] = {"team": team_id, "number_sequence": number_sequence}
    moved = writes.pointers.get(team_id) if turn else None
    if turn and dialect == "postgresql":
        params["turn_sequence"] = ensure_sequence(ctx.session.connection(), TURN, team_id)
    ctx.session.flush()  # counts include what this write has changed so far
    teams = _TEAMS.get(bind)
    if teams is None:
        teams = _TEAMS.setdefault(bind, {})
    known = teams.get(team_id)
    statement = _statement(
        (dialect, counts, turn and moved is None, number_sequence is not None, known is None)
    )
    rows = statement.rows(ctx.session, params)
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
    if known is not None:
        if rows and rows[0][at["generation"]] == known.generation:
            user_id, open_tickets = at["id"], at["open_tickets"]
            counted = {row[user_id]: row[open_tickets] for row in rows}
            ctx.remember_users(known.rows, known.positions, built=known.users)
            return [
                Candidate(
                    m.user_id, m.email, m.away, m.skills, m.capacity, counted.get(m.user_id, 0)
                )
                for m in known.members
            ], taken
        # The members changed since: read them again (the turn and number are drawn).
        statement = _statement((dialect, counts, False, False, True))
        rows = statement.rows(ctx.session, {"team": team_id})
        at = statement.columns
    user_id, email, away = at["id"], at["email"], at["away"]
    skills, capacity, open_tickets = at["skills"], at["capacity"], at["open_tickets"]
    candidates = [
        Candidate(
            row[user_id],
            row[email],
            bool(row[away]),
            _skills(row[skills]),
            row[capacity],
            row[open_tickets],
        )
        for row in rows
    ]
    generation = rows[0][at["generation"]] if rows else None
    built: dict[int, User] | None = None
    if generation is None:  # a team without members (read each time: rare)
        teams.pop(team_id, None)
    else:
        built = {}
        teams[team_id] = _Team(generation, candidates, rows, at, built)
    ctx.remember_users(rows, at, built=built)  # the member chosen needs no query of its own
    return candidates, taken


class _Team(NamedTuple):
    """A team's members as read at a directory generation: their candidates (open
    tickets as counted then), whole user rows (`positions`: each column's place), and
    the users built from them so far (shared by every write: read-only)."""

    generation: int
    members: list[Candidate]
    rows: Sequence[Sequence[Any]]
    positions: dict[str, int]
    users: dict[int, User]


# Per engine (a database), per team; dropped with the engine.
_TEAMS: weakref.WeakKeyDictionary[Any, dict[str, _Team]] = weakref.WeakKeyDictionary()


def _skills(stored: str | None) -> frozenset[str]:
    """A membership's skills as the members query reads them (JSON text, or NULL),
    parsed once per distinct text: a team's members repeat theirs at every pick."""
    if not stored:
        return frozenset()
    skills = _SKILLS.get(stored)
    if skills is None:
        if len(_SKILLS) >= 4096:  # only ever as many as memberships; bounded anyway
            _SKILLS.clear()
        skills = _SKILLS[stored] = frozenset(json.loads(stored) or ())
    return skills


_SKILLS: dict[str, frozenset[str]] = {}


_MEMBERS: dict[tuple[str, bool, bool, bool, bool], DriverStatement] = {}


def _statement(key: tuple[str, bool, bool, bool, bool]) -> DriverStatement:
    statement = _MEMBERS.get(key)
    if statement is None:
        statement = _MEMBERS[key] = DriverStatement(_members_statement(*key))
    return statement


def _members_statement(
    dialect: str, counts: bool, turn: bool, number: bool, whole: bool
) -> Select[Any]:
    """The members query (`whole`: the members' user rows and memberships; otherwise
    their ids and open-ticket counts only), each row with the directory generation.
    PostgreSQL: the values drawn from sequences are a CTE the members join (`WITH n AS
    (SELECT nextval(…)…) SELECT m.*, n.* FROM n LEFT JOIN (…) m ON true`): drawn
    once, and one row even for a team without members. SQLite: the team's turns so
    far as a column (`turn` when no earlier pick in this write moved them)."""
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
    # Counted per member (the partial index on open tickets by assignee), never over the
    # whole table.
    open_count: Any = (
        select(func.count())
        .where(Ticket.assignee_id == member, Ticket.state_category.in_(_sql_texts(OPEN_CATEGORIES)))
        .correlate(User if whole else Membership)
        .scalar_subquery()
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
    """A JSON column as its text (`user_from_driver` and `_skills` parse it): of the
    members read, only the one chosen needs its attributes, and psycopg would parse
    every member's (measured: 13% of a create's CPU on PostgreSQL)."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.name)
    return column


def _sql_texts(values: tuple[str, ...]) -> list[Any]:
    """Constant texts written into the SQL (not bound): the partial index on open tickets
    applies to a query whose condition names its categories, and the statement needs no
    re-rendering of an expanding IN at each execution."""
    assert all(v.isidentifier() for v in values)  # noqa: S101 - our own constants
    return [literal_column(f"'{v}'") for v in values]


def choose_assignment(
    ctx: UnitOfWork, ticket: Ticket, assignment: Assignment, *, source: str
) -> tuple[str | Keep | None, int | Keep | None, dict[str, Any]]:
    """Where the assignment puts the ticket: its team and an agent picked by its
    strategy (`KEEP` both when the team is unknown), and the routing detail its event
    records. A round-robin pick takes the team's next turn. Sets nothing."""
    team_id = assignment.team
    detail: dict[str, Any] = {"team": team_id, "strategy": assignment.strategy, "source": source}
    if team_id is None or team_id not in ctx.bundle.teams:
        detail["reason"] = f"no team '{team_id}'"
        return KEEP, KEEP, detail
    if assignment.user:
        user = ctx.user_by_email(assignment.user, what="assignee")
        assignee_id: int | None = user.id
        detail.update(assignee=user.email, reason="named in the rule")
    else:
        round_robin = assignment.strategy == "round_robin"
        team = ctx.bundle.teams[team_id]
        counts = not round_robin or any(m.capacity is not None for m in team.members)
        candidates, turn = (
            _members(ctx, team_id, counts=counts, turn=round_robin)
            if assignment.strategy != "manual"
            else ([], None)
        )
        choice = choose_agent(assignment.strategy, candidates, skills=assignment.skills, turn=turn)
        assignee_id = choice.agent.user_id if choice.agent is not None else None
        detail.update(assignee=choice.agent.email if choice.agent else None, reason=choice.reason)
    return team_id, assignee_id, detail


def _still_fits(ctx: UnitOfWork, ticket: Ticket, assignment: Assignment) -> bool:
    """Whether the ticket already sits where `assignment` would put it: same team, and an
    assignee who is a member with the skills it asks for (re-routing keeps them)."""
    team = assignment.team
    if team is None or ticket.team_id != team or ticket.assignee_id is None:
        return False
    member = next((c for c in load_candidates(ctx, team) if c.user_id == ticket.assignee_id), None)
    needed = assignment.skills if assignment.strategy == "skills" else frozenset()
    return member is not None and needed <= member.skills


def route_ticket(
    ctx: UnitOfWork,
    ticket: Ticket,
    *,
    previous: dict[str, Any] | None = None,
    changed: frozenset[str] | None = None,
) -> None:
    """Run the routing rules on `ticket` (on create, or when `changed` keys are read by
    the rules) and record what they did."""
    routed = plan_route(ctx, ticket, previous=previous, changed=changed)
    if routed is not None:
        after = {
            "team": ticket.team_id,
            "priority": ticket.priority,
            "tags": list(ticket.tags or ()),
        }
        assignee = ctx.user(ticket.assignee_id)
        after["assignee"] = assignee.email if assignee is not None else None
        ctx.event(ticket, "ticket.routed", after=after, **routed)


def plan_route(
    ctx: UnitOfWork,
    ticket: Ticket,
    *,
    previous: dict[str, Any] | None = None,
    changed: frozenset[str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Apply the routing rules to `ticket` in memory (a new ticket is routed before
    its INSERT); returns the ticket's routed parts as they were before (`before`: team,
    priority, tags) and what routing did (`detail`: the rules matched, team, strategy,
    agent, why), or None when no rule matched. `values`: the ticket's condition
    values, when the caller has them already (a create)."""
    rules = ctx.bundle.routing_rules
    if not rules or (changed is not None and not changed & rule_keys(rules)):
        return None
    if values is None:
        ctx.ticket_type(ticket)  # (a type no longer known: Conflict)
        values = ctx.condition_values(ticket)
    decision = route(rules, values, previous, ctx.now)
    if not decision.matched:
        return None
    before = {"team": ticket.team_id, "priority": ticket.priority, "tags": list(ticket.tags or ())}
    columns = {k: v for k, v in decision.set.items() if k in SET_COLUMNS}
    if decision.add_tags:
        tags = list(ticket.tags or ())
        columns["tags"] = tags + [t for t in decision.add_tags if t not in tags]
    data = {k: v for k, v in decision.set.items() if k not in SET_COLUMNS}
    apply_fields(ticket, columns, data)
    detail: dict[str, Any] = {"rules": list(decision.matched)}
    if decision.assign is not None and not _still_fits(ctx, ticket, decision.assign):
        team_id, assignee_id, chosen = choose_assignment(
            ctx, ticket, decision.assign, source="routing"
        )
        # Only what changes is set (a new ticket's `updated_at` is already now).
        if place(ticket, team_id, assignee_id) and ticket.updated_at != ctx.now:
            ticket.updated_at = ctx.now
        detail.update(chosen)
    return {"before": before, "detail": detail}
