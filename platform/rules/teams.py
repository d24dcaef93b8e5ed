"""Compiled teams: who is in a team, with which skills and how many open tickets at most."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Member", "Team"]


@dataclass(frozen=True, slots=True)
class Member:
    """A team member, matched to a user in the database by email."""

    user: str
    skills: frozenset[str]
    capacity: int | None


@dataclass(frozen=True, slots=True)
class Team:
    """A team from `config/teams/*.yaml`."""

    id: str
    name: Any
    email: str | None
    members: tuple[Member, ...]
    # Derived: whether any member's open tickets are capped (a round robin then counts them).
    capped: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "capped", any(m.capacity is not None for m in self.members))
