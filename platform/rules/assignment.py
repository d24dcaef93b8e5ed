"""Choosing an agent in a team: round robin, least loaded, skills, or manual.

Pure decisions over candidates the caller loads (with their open-ticket counts and the
team's round-robin turn: a counter every process shares, one turn per pick). Away agents and agents
at capacity never qualify; when nobody does, the ticket stays in the team queue and
the reason says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["STRATEGIES", "Candidate", "Choice", "choose_agent"]

STRATEGIES = ("least_loaded", "manual", "round_robin", "skills")


class Candidate(NamedTuple):
    """A team member as routing sees them (a tuple: routing builds one per member at
    every pick)."""

    user_id: int
    email: str
    away: bool
    skills: frozenset[str]
    capacity: int | None
    open_tickets: int

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.open_tickets < self.capacity


@dataclass(frozen=True, slots=True)
class Choice:
    """The agent chosen (None: the team queue) and why."""

    agent: Candidate | None
    reason: str


def _eligible(
    candidates: Sequence[Candidate], skills: frozenset[str]
) -> tuple[list[Candidate], str]:
    """The members who qualify (in user id order), or none and why: one pass that
    remembers the furthest any member got (present, skilled, with room)."""
    free: list[Candidate] = []
    furthest = 0  # 1: someone is present; 2: someone present has the skills
    for c in candidates:
        if c.away:
            continue
        if not skills <= c.skills:
            furthest = furthest or 1
            continue
        if not c.has_room:
            furthest = 2
            continue
        free.append(c)
    if free:
        free.sort()  # by user id (first in the tuple, and unique)
        return free, ""
    if not candidates:
        return [], "the team has no members with an account"
    if furthest == 0:
        return [], "every member of the team is away"
    if furthest == 1:
        return [], f"nobody present has the skills {', '.join(sorted(skills))}"
    return [], "everyone who qualifies is at capacity"


def choose_agent(
    strategy: str,
    candidates: Sequence[Candidate],
    *,
    skills: frozenset[str] = frozenset(),
    turn: int | None = None,
) -> Choice:
    """Pick an agent by `strategy`. Round robin's `turn` is the team's count of turns
    taken, this one included: turn N goes to the N-th of the members who qualify now
    (in id order, wrapping around), so several processes drawing turns from one
    counter share one fair rotation, and members away or at capacity are skipped
    without anyone getting two turns in a row for it."""
    if strategy == "manual":
        return Choice(None, "manual: the ticket waits in the team queue")
    pool, why = _eligible(candidates, skills if strategy == "skills" else frozenset())
    if not pool:
        return Choice(None, why)
    if strategy == "round_robin":
        chosen = pool[((turn or 1) - 1) % len(pool)]
        return Choice(chosen, "round robin: next in turn")
    if strategy in ("least_loaded", "skills"):
        chosen = min(pool, key=lambda c: (c.open_tickets, c.user_id))
        what = "least loaded" if strategy == "least_loaded" else "has the skills, least loaded"
        return Choice(chosen, f"{what} ({chosen.open_tickets} open)")
    raise ValueError(f"unknown strategy '{strategy}'")
