"""A ticket type's priority rules (`priority: {rules: [{when, set}]}`), and which fires.

Pure: the engine hands in the ticket's condition values (and, on an update, what they
were before) and `now`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gongdan.rules.conditions import Condition

__all__ = ["PriorityRule", "priority_for"]


@dataclass(frozen=True, slots=True)
class PriorityRule:
    when: Condition
    set: str


def priority_for(
    rules: Sequence[PriorityRule],
    values: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    now: datetime,
) -> str | None:
    """The priority a ticket type's `rules` give: the first rule that matches `values`
    and (on an update, `previous` given) did not already match before. None: no rule
    fires."""
    for rule in rules:
        if rule.when(values, None, now) and (
            previous is None or not rule.when(previous, None, now)
        ):
            return rule.set
    return None
