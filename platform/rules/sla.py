"""Compiled SLA policies and the choice of a ticket's policy (the business-time
arithmetic lives in `business_time`).

A ticket's policy is its type's explicit `sla:`, else the first policy (in the
bundle's order) whose `applies_when` holds for the ticket. `policy_choice` decides the
second as far as the config alone can, for one ticket type and priority: a policy
without `applies_when`, and a condition that reads only the ticket's `type` and
`priority` (and no clock), give the same answer for every ticket of that type and
priority, so they are evaluated once; only the policies whose conditions read other
values are left to evaluate on each ticket (`PolicyChoice.choose`), in their order.
Either way the answer is the one evaluating every policy in order would give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gongdan.rules.actions import Action
from gongdan.rules.conditions import AllOf, AnyOf, Condition, KeyTest, Negation, Node
from gongdan.rules.durations import Duration

__all__ = ["Escalation", "PolicyChoice", "SLAPolicy", "policy_choice"]


@dataclass(frozen=True, slots=True)
class Escalation:
    """Fires its actions once, at a percentage of a target's time or at breach."""

    at_percent: int | None  # None means at breach
    target: str
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class SLAPolicy:
    """Targets per priority, measured on a calendar, paused in some state categories."""

    id: str
    name: Any
    applies_when: Condition | None
    calendar: str
    targets: Mapping[str, Mapping[str, Duration]]
    pause_in: frozenset[str]
    escalations: tuple[Escalation, ...]


@dataclass(frozen=True, slots=True)
class PolicyChoice:
    """The SLA policy of the tickets of one type and priority, as far as the config
    decides it: `candidates` are the policies (in order) whose `applies_when` reads
    more of a ticket than its type and priority, to evaluate on each ticket; when none
    holds (or there are none), `otherwise` applies (None: no policy)."""

    candidates: tuple[SLAPolicy, ...]
    otherwise: SLAPolicy | None

    def choose(self, values: Mapping[str, Any], now: datetime) -> SLAPolicy | None:
        """The policy of a ticket with these condition `values` (of its type and
        priority)."""
        for policy in self.candidates:
            if policy.applies_when is not None and policy.applies_when(values, None, now):
                return policy
        return self.otherwise


# What a condition may read to be decided by a ticket's type and priority alone.
_DECIDED_BY = frozenset({"type", "priority"})
_CLOCK_OPERATORS = frozenset({"older_than", "newer_than"})


def policy_choice(policies: tuple[SLAPolicy, ...], type_id: str, priority: str) -> PolicyChoice:
    """Which of `policies` applies to tickets of `type_id` and `priority` whose type
    names no policy of its own: the first whose `applies_when` holds (or that has
    none), evaluated here wherever it reads only the type and priority."""
    known = {"type": type_id, "priority": priority}
    candidates: list[SLAPolicy] = []
    for policy in policies:
        condition = policy.applies_when
        if condition is None:
            return PolicyChoice(tuple(candidates), policy)
        if not _decided_by_type_and_priority(condition):
            candidates.append(policy)
        elif condition(known, None, None):
            return PolicyChoice(tuple(candidates), policy)
    return PolicyChoice(tuple(candidates), None)


def _decided_by_type_and_priority(condition: Condition) -> bool:
    """Whether `condition` reads nothing of a ticket but its type and priority, and no
    clock (so one evaluation holds for every ticket of a type and priority)."""
    return condition.fields <= _DECIDED_BY and not _reads_clock(condition.tree)


def _reads_clock(node: Node) -> bool:
    if isinstance(node, KeyTest):
        return node.operator in _CLOCK_OPERATORS
    if isinstance(node, (AllOf, AnyOf)):
        return any(_reads_clock(child) for child in node.children)
    if isinstance(node, Negation):
        return _reads_clock(node.child)
    return False
