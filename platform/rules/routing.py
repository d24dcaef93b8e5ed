"""Routing rules and automations: their compiled form and the pure evaluation of rules.

`route(rules, values, previous, now)` walks the rules in order: the first match wins
unless it says `continue: true`; it returns what to do (team, strategy, fields to set,
tags to add) and which rules matched, without touching any ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gongdan.rules.actions import Action, Assignment
from gongdan.rules.conditions import Condition
from gongdan.rules.durations import Duration

__all__ = ["Automation", "RoutingDecision", "RoutingRule", "route", "rule_keys"]


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One rule of a RoutingRules document; `when` None matches every ticket."""

    name: Any  # a text or a {locale: text} label
    when: Condition | None
    assign: Assignment | None
    set: Mapping[str, Any]
    add_tags: tuple[str, ...]
    continue_: bool
    ruleset: str
    # The name events record: the text, or a label's English (else first) text.
    title: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str):
            name = str(name.get("en") or next(iter(name.values()), ""))
        object.__setattr__(self, "title", name)


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


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """What the matching rules ask for. `assign` is the last matching rule's."""

    assign: Assignment | None
    set: Mapping[str, Any]
    add_tags: tuple[str, ...]
    matched: tuple[str, ...]  # rule names, in order


def route(
    rules: tuple[RoutingRule, ...],
    values: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    now: datetime,
) -> RoutingDecision:
    """Evaluate `rules` on a ticket's `values`; first match wins unless `continue`."""
    assign: Assignment | None = None
    updates: dict[str, Any] = {}
    tags: list[str] = []
    matched: list[str] = []
    current = values
    for rule in rules:
        if rule.when is not None and not rule.when(current, previous, now):
            continue
        matched.append(rule.title)
        if rule.assign is not None:
            assign = rule.assign
        if rule.set:
            updates.update(rule.set)
            # Later rules see what earlier ones set (a VIP rule raising the priority).
            current = {**current, **rule.set}
        if rule.add_tags:
            tags.extend(t for t in rule.add_tags if t not in tags)
            # ...and the tags they added (`tags: {contains: vip}` after a tagging rule).
            had = list(current.get("tags") or ())
            added = [t for t in rule.add_tags if t not in had]
            if added:
                current = {**current, "tags": had + added}
        if not rule.continue_:
            break
    return RoutingDecision(assign, updates, tuple(tags), tuple(matched))


def rule_keys(rules: tuple[RoutingRule, ...]) -> frozenset[str]:
    """Every key the rules read: a change to one of them re-runs routing."""
    keys: set[str] = set()
    for rule in rules:
        if rule.when is not None:
            keys |= rule.when.fields
    return frozenset(keys)
