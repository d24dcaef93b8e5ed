"""Compiled routing rules and automations (evaluation comes with the routing engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gongdan.rules.actions import Action, Assignment
from gongdan.rules.conditions import Condition
from gongdan.rules.durations import Duration

__all__ = ["Automation", "RoutingRule"]


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One rule of a RoutingRules document; `when` None matches every ticket."""

    name: str
    when: Condition | None
    assign: Assignment | None
    set: Mapping[str, Any]
    add_tags: tuple[str, ...]
    continue_: bool
    ruleset: str


@dataclass(frozen=True, slots=True)
class Automation:
    """An automation: on an event (or a schedule), when a condition holds, do actions."""

    id: str
    name: Any
    on: str
    every: Duration | None
    when: Condition | None
    actions: tuple[Action, ...]
    enabled: bool
