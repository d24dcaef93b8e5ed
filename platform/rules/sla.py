"""Compiled SLA policies (the business-time arithmetic lives in `business_time`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gongdan.rules.actions import Action
from gongdan.rules.conditions import Condition
from gongdan.rules.durations import Duration

__all__ = ["Escalation", "SLAPolicy"]


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
