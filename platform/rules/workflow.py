"""Workflows compiled, and the pure decisions about them: who may take which transition.

The loader (`gongdan.bundle`) builds `WorkflowDef` values from YAML; the engine hands
in a ticket's values (`ticket_values`), the actor and `now`. No database, no clock:
everything here is a plain function over compiled config values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from gongdan.rules.actions import Action
from gongdan.rules.conditions import Condition
from gongdan.rules.durations import Duration
from gongdan.vocabulary import STAFF_ROLES, Role

__all__ = [
    "Actor",
    "StateDef",
    "TransitionDef",
    "WorkflowDef",
    "allowed_transitions",
    "transition_problems",
]


@dataclass(frozen=True, slots=True)
class StateDef:
    id: str
    category: str
    label: Any


@dataclass(frozen=True, slots=True)
class TransitionDef:
    id: str
    label: Any
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guard: Condition | None
    fields: tuple[str, ...]
    comment: str | None  # "required", "optional" or None
    after: Duration | None
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class WorkflowDef:
    id: str
    name: Any
    initial: str
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    on_enter: Mapping[str, tuple[Action, ...]]
    by_source: Mapping[str, tuple[TransitionDef, ...]] = field(repr=False)
    # `migrate: {old_state: new_state}`: where tickets left in a state this workflow no
    # longer has go when the bundle is applied (each old state is absent from `states`).
    migrate: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def transitions_from(self, state: str) -> tuple[TransitionDef, ...]:
        """Transitions whose `from` includes `state` (empty for an unknown state)."""
        return self.by_source.get(state, ())


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user with a role and teams, or the system (automations, timers)."""

    user_id: int | None
    email: str | None
    role: Role
    team_ids: frozenset[str] = frozenset()
    # The actor's user row as it was read when they were recognised (a bearer token's
    # lookup reads it whole): a write acting for them needs no query to know them.
    profile: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # A role read from the database or a test is plain text: made a `Role` once, so
        # a role that no one has fails here and not at some later comparison.
        if type(self.role) is not Role:
            object.__setattr__(self, "role", Role(self.role))

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None, Role.SYSTEM)

    @property
    def is_staff(self) -> bool:
        """An agent, an admin or the system: who works tickets."""
        return self.role is not Role.REQUESTER

    @property
    def is_requester(self) -> bool:
        return self.role is Role.REQUESTER

    @property
    def sees_everything(self) -> bool:
        """An admin or the system: no ticket is out of their scope."""
        return self.role is Role.ADMIN or self.role is Role.SYSTEM


def _holds_role(actor: Actor, role: str, values: Mapping[str, Any]) -> bool:
    if role == Role.ADMIN:
        return actor.role is Role.ADMIN
    if role == Role.AGENT:
        return actor.role in STAFF_ROLES
    if role == Role.REQUESTER:
        requester = values.get("requester") or {}
        return actor.email is not None and requester.get("email") == actor.email
    if role.startswith("field:"):
        approver = values.get(role.removeprefix("field:"))
        named = approver if isinstance(approver, list) else [approver]
        # A user field keeps the local part as typed (Boss@example.com); accounts are
        # matched by email case-insensitively, as at sign-in.
        emails = {str(email).lower() for email in named if email}
        requester = (values.get("requester") or {}).get("email")
        # Nobody approves their own request (separation of duties).
        return (
            actor.email is not None
            and actor.email.lower() in emails
            and actor.email.lower() != str(requester or "").lower()
        )
    return False


def transition_problems(
    workflow: WorkflowDef,
    transition: TransitionDef,
    values: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> list[str]:
    """Why `actor` may not take `transition` on a ticket with `values` now (empty: may)."""
    problems = []
    state = values.get("state")
    if state not in transition.sources:
        problems.append(
            f"'{transition.id}' cannot be taken from state '{state}' "
            f"(only from {', '.join(sorted(transition.sources))})"
        )
    if actor.role is not Role.SYSTEM and not any(
        _holds_role(actor, role, values) for role in transition.roles
    ):
        problems.append(f"'{transition.id}' is for {', '.join(sorted(transition.roles))} only")
    if transition.guard is not None and not transition.guard(values, None, now):
        problems.append(f"the conditions of '{transition.id}' do not hold")
    return problems


def allowed_transitions(
    workflow: WorkflowDef, values: Mapping[str, Any], actor: Actor, now: datetime
) -> list[TransitionDef]:
    """The transitions `actor` may take now, in the workflow's order."""
    state = str(values.get("state"))
    return [
        t
        for t in workflow.transitions_from(state)
        if not transition_problems(workflow, t, values, actor, now)
    ]
