"""Routing in the engine: run the bundle's rules on a ticket and assign by strategy.

The rules and the choice of agent are pure (`gongdan.rules.routing`,
`gongdan.rules.assignment`); this module loads the candidates (members, away flags,
open-ticket counts) and the team's round-robin pointer, and writes the outcome with an
event that says which rules matched and why the ticket went where it went.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gongdan.engine.context import WriteContext
from gongdan.engine.db.database import prepared
from gongdan.engine.db.models import Membership, RoutingPointer, Ticket, User
from gongdan.engine.writes import number_statement, pending
from gongdan.forms.data import condition_values
from gongdan.rules.actions import Assignment
from gongdan.rules.assignment import Candidate, choose_agent
from gongdan.rules.routing import route, rule_keys

__all__ = [
    "OPEN_CATEGORIES",
    "assign_by_strategy",
    "load_candidates",
    "plan_route",
    "route_ticket",
]

OPEN_CATEGORIES = ("new", "open", "pending")


def load_candidates(ctx: WriteContext, team_id: str, *, counts: bool = True) -> list[Candidate]:
    """Members of a team with an active account, with their open-ticket counts, in one
    query. `counts=False` skips the counting (round robin when nobody has a capacity)."""
    return _members(ctx, team_id, counts=counts, pointer=False)[0]


def _members(
    ctx: WriteContext, team_id: str, *, counts: bool, pointer: bool
) -> tuple[list[Candidate], int | None]:
    """The team's candidates and, with `pointer`, the round-robin pointer (the user
    assigned last; 0 for nobody yet), locked until commit on PostgreSQL, all in one
    query. The members' whole user rows come along, so the one chosen needs no query
    of its own."""
    writes = pending(ctx.session)
    number_for = writes.number_for if writes.number is None else None
    key = (ctx.session.get_bind().dialect.name, counts, pointer, number_for is not None)
    statement = _MEMBERS.get(key)
    if statement is None:
        statement = _MEMBERS[key] = prepared(_members_statement(*key))
    ctx.session.flush()  # counts include what this write has changed so far
    params = {"team": team_id, "ticket_type": number_for}
    rows = ctx.session.connection().execute(statement, params).all()
    if number_for is not None:  # a new ticket's number came along (see `ask_number`)
        writes.number = (int(rows[0].number), int(rows[0].next_id))
        rows = [row for row in rows if row.id is not None]
    candidates = []
    for row in rows:
        ctx.remember_user(row)  # the one chosen is then known without a query
        candidates.append(
            Candidate(
                row.id,
                row.email,
                bool(row.away),
                frozenset(row.skills or ()),
                row.capacity,
                row.open_tickets,
            )
        )
    if not pointer or not rows:
        return candidates, None
    moved = writes.pointers.get(team_id)  # moved earlier in this transaction
    if moved is not None:
        return candidates, moved
    stored = rows[0].last_assigned
    if stored is None:  # no pointer row yet (a team not synced): create and lock it
        stored = _pointer(ctx, team_id).last_user_id or 0
    return candidates, int(stored)


_MEMBERS: dict[tuple[str, bool, bool, bool], Select[Any]] = {}


def _members_statement(dialect: str, counts: bool, pointer: bool, number: bool) -> Select[Any]:
    members = _members_select(dialect, counts, pointer)
    if not number:
        return members
    # WITH n AS (INSERT INTO ticket_counters … RETURNING number, next_id) SELECT m.*, n.*
    # FROM n LEFT JOIN (members) m ON true: one row even for a team without members.
    taken = number_statement(dialect).cte("n")
    listed = members.subquery("m")
    return select(listed, taken.c.number, taken.c.next_id).select_from(
        taken.outerjoin(listed, true())
    )


def _members_select(dialect: str, counts: bool, pointer: bool) -> Select[Any]:
    team: Any = bindparam("team")
    # Counted per member (the partial index on open tickets by assignee), never over the
    # whole table.
    open_count: Any = (
        select(func.count())
        .where(
            Ticket.assignee_id == User.id, Ticket.state_category.in_(_sql_texts(OPEN_CATEGORIES))
        )
        .correlate(User)
        .scalar_subquery()
        if counts
        else literal(0)
    )
    last: Any = literal(None)
    if pointer:
        last_select = select(func.coalesce(RoutingPointer.last_user_id, 0)).where(
            RoutingPointer.team_id == team
        )
        if dialect == "postgresql":
            last_select = last_select.with_for_update()
        last = last_select.scalar_subquery()
    return (
        select(
            *User.__table__.columns,
            Membership.skills,
            Membership.capacity,
            open_count.label("open_tickets"),
            last.label("last_assigned"),
        )
        .join(Membership, and_(Membership.user_id == User.id, Membership.team_id == team))
        .where(User.active.is_(True), User.role.in_(_sql_texts(("agent", "admin"))))
    )


def _sql_texts(values: tuple[str, ...]) -> list[Any]:
    """Constant texts written into the SQL (not bound): the partial index on open tickets
    applies to a query whose condition names its categories, and the statement needs no
    re-rendering of an expanding IN at each execution."""
    assert all(v.isidentifier() for v in values)  # noqa: S101 - our own constants
    return [literal_column(f"'{v}'") for v in values]


def _pointer(ctx: WriteContext, team_id: str) -> RoutingPointer:
    """The team's round-robin pointer, locked until commit (serialises choosers). Team
    sync creates the row; a team not synced yet gets it here."""
    dialect = ctx.session.get_bind().dialect.name
    statement = select(RoutingPointer).where(RoutingPointer.team_id == team_id)
    if dialect == "postgresql":
        statement = statement.with_for_update()
    statement = statement.execution_options(populate_existing=True)
    pointer = ctx.session.scalars(statement).one_or_none()
    if pointer is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        ctx.session.execute(
            insert(RoutingPointer)
            .values(team_id=team_id, last_user_id=None)
            .on_conflict_do_nothing()
        )
        pointer = ctx.session.scalars(statement).one()
    return pointer


def assign_by_strategy(
    ctx: WriteContext, ticket: Ticket, assignment: Assignment, *, source: str
) -> dict[str, Any]:
    """Put the ticket in the assignment's team and pick an agent by its strategy.
    Returns the routing detail recorded in the event. A round-robin pick moves the
    team's pointer with the transaction's other writes."""
    team_id = assignment.team
    detail: dict[str, Any] = {"team": team_id, "strategy": assignment.strategy, "source": source}
    if team_id is None or team_id not in ctx.bundle.teams:
        detail["reason"] = f"no team '{team_id}'"
        return detail
    before = {"team": ticket.team_id, "assignee": ticket.assignee_id}
    ticket.team_id = team_id
    if assignment.user:
        user = ctx.user_by_email(assignment.user, what="assignee")
        ticket.assignee_id = user.id
        detail.update(assignee=user.email, reason="named in the rule")
    else:
        round_robin = assignment.strategy == "round_robin"
        team = ctx.bundle.teams[team_id]
        counts = not round_robin or any(m.capacity is not None for m in team.members)
        candidates, last = (
            _members(ctx, team_id, counts=counts, pointer=round_robin)
            if assignment.strategy != "manual"
            else ([], None)
        )
        choice = choose_agent(
            assignment.strategy, candidates, skills=assignment.skills, last_assigned=last
        )
        ticket.assignee_id = choice.agent.user_id if choice.agent is not None else None
        if round_robin and choice.agent is not None:
            pending(ctx.session).pointers[team_id] = choice.agent.user_id
        detail.update(assignee=choice.agent.email if choice.agent else None, reason=choice.reason)
    if (ticket.team_id, ticket.assignee_id) != (before["team"], before["assignee"]):
        ticket.updated_at = ctx.now
    return detail


def _still_fits(ctx: WriteContext, ticket: Ticket, assignment: Assignment) -> bool:
    """Whether the ticket already sits where `assignment` would put it: same team, and an
    assignee who is a member with the skills it asks for (re-routing keeps them)."""
    team = assignment.team
    if team is None or ticket.team_id != team or ticket.assignee_id is None:
        return False
    member = next((c for c in load_candidates(ctx, team) if c.user_id == ticket.assignee_id), None)
    needed = assignment.skills if assignment.strategy == "skills" else frozenset()
    return member is not None and needed <= member.skills


def route_ticket(
    ctx: WriteContext,
    ticket: Ticket,
    *,
    previous: dict[str, Any] | None = None,
    changed: frozenset[str] | None = None,
) -> None:
    """Run the routing rules on `ticket` (on create, or when `changed` keys are read by
    the rules) and record what they did."""
    routed = plan_route(ctx, ticket, previous=previous, changed=changed)
    if routed is not None:
        ctx.event(ticket, "ticket.routed", **routed)


def plan_route(
    ctx: WriteContext,
    ticket: Ticket,
    *,
    previous: dict[str, Any] | None = None,
    changed: frozenset[str] | None = None,
) -> dict[str, Any] | None:
    """Apply the routing rules to `ticket` in memory (a new ticket is routed before
    its INSERT); returns the `ticket.routed` event's before, after and detail, or None
    when no rule matched."""
    rules = ctx.bundle.routing_rules
    if not rules or (changed is not None and not changed & rule_keys(rules)):
        return None
    ticket_type = ctx.ticket_type(ticket)
    values = condition_values(ticket_type.fields, ctx.values(ticket))
    decision = route(rules, values, previous, ctx.now)
    if not decision.matched:
        return None
    before = {"team": ticket.team_id, "priority": ticket.priority, "tags": list(ticket.tags or ())}
    data = dict(ticket.data or {})
    for name, value in decision.set.items():
        if name in ("priority", "title", "description"):
            setattr(ticket, name, value)
        else:
            data[name] = value
    ticket.data = data
    if decision.add_tags:
        tags = list(ticket.tags or ())
        ticket.tags = tags + [t for t in decision.add_tags if t not in tags]
    detail: dict[str, Any] = {"rules": list(decision.matched)}
    if decision.assign is not None and not _still_fits(ctx, ticket, decision.assign):
        detail.update(assign_by_strategy(ctx, ticket, decision.assign, source="routing"))
    after = {"team": ticket.team_id, "priority": ticket.priority, "tags": list(ticket.tags or ())}
    assignee = ctx.user(ticket.assignee_id)
    after["assignee"] = assignee.email if assignee is not None else None
    return {"before": before, "after": after, "detail": detail}
