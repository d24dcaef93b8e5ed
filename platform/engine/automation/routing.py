"""Routing in the engine: run the bundle's rules on a ticket and assign by strategy.

The rules and the choice of agent are pure (`gongdan.rules.routing`,
`gongdan.rules.assignment`); this module loads the candidates (members, away flags,
open-ticket counts) and the team's round-robin turn, applies the outcome in memory
(`changes.apply_fields`, `changes.place`) and records it with one event that says which
rules matched and why the ticket went where it went: a new ticket's `ticket.created`,
else `ticket.routed`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

from gongdan.engine.store.members import member_skills, read_members
from gongdan.engine.store.models import Ticket, User
from gongdan.engine.tickets.changes import KEEP, SET_COLUMNS, Keep, apply_fields, place
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.rules.actions import Assignment
from gongdan.rules.assignment import Candidate, choose_agent
from gongdan.rules.routing import route

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
    """The team's candidates and, with `turn`, this pick's round-robin turn, in one
    read (`store.members.read_members`; a new ticket's number may come along).

    Who the members are (active, away, skills, capacity, their user rows) is kept per
    process (`_TEAMS`) with the directory generation it was read at: a pick reads only
    the members' open-ticket counts and the generation, and reads the members again
    when the generation moved. The one chosen is built as a `User` once per generation
    and shared, read-only, by the writes that pick them."""
    bind = ctx.session.get_bind()
    teams = _TEAMS.get(bind)
    if teams is None:
        teams = _TEAMS.setdefault(bind, {})
    known = teams.get(team_id)
    read = read_members(ctx.session, team_id, whole=known is None, counts=counts, turn=turn)
    taken = read.turn
    if known is not None:
        if read.generation == known.generation:
            user_id, open_tickets = read.positions["id"], read.positions["open_tickets"]
            counted = {row[user_id]: row[open_tickets] for row in read.rows}
            ctx.remember_users(known.rows, known.positions, built=known.users)
            return [
                Candidate(
                    m.user_id, m.email, m.away, m.skills, m.capacity, counted.get(m.user_id, 0)
                )
                for m in known.members
            ], taken
        # The members changed since: read them again (the turn and number are drawn).
        read = read_members(ctx.session, team_id, whole=True, counts=counts)
    rows, at = read.rows, read.positions
    user_id, email, away = at["id"], at["email"], at["away"]
    skills, capacity, open_tickets = at["skills"], at["capacity"], at["open_tickets"]
    candidates = [
        Candidate(
            row[user_id],
            row[email],
            bool(row[away]),
            member_skills(row[skills]),
            row[capacity],
            row[open_tickets],
        )
        for row in rows
    ]
    built: dict[int, User] | None = None
    if read.generation is None:  # a team without members (read each time: rare)
        teams.pop(team_id, None)
    else:
        built = {}
        teams[team_id] = _Team(read.generation, candidates, rows, at, built)
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


# Who each team's members are, per engine (a database; dropped with it), per team.
# Keyed by the database and checked against the directory generation, not by the
# bundle's version like what is derived from the config: members are data (accounts
# and memberships that change without any new bundle), and the generation is what
# says they changed, whichever process changed them.
_TEAMS: weakref.WeakKeyDictionary[Any, dict[str, _Team]] = weakref.WeakKeyDictionary()


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
        counts = not round_robin or team.capped
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
    if not rules or (changed is not None and not changed & ctx.bundle.routing_keys):
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
