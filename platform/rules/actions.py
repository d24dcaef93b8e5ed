"""Compiled actions: what workflows, routing rules, automations and escalations do.

An action is one of notify, set, assign, add_tags, transition, comment, webhook or
survey, with its (frozen) payload. Executing actions is the engine's job; this module
only defines the value the loader compiles YAML into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gongdan.frozen import freeze

__all__ = ["Action", "Assignment", "compile_action"]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a ticket goes: a team, how to pick an agent in it, or a named user."""

    team: str | None
    strategy: str
    skills: frozenset[str]
    user: str | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> Assignment:
        return cls(
            team=raw.get("team"),
            strategy=str(raw.get("strategy", "manual")),
            skills=frozenset(str(s) for s in raw.get("skills", ())),
            user=raw.get("user"),
        )


@dataclass(frozen=True, slots=True)
class Action:
    """One action: `kind` is its key in YAML, `value` its frozen payload."""

    kind: str
    value: Any
    template: str | None = None


def compile_action(raw: Mapping[str, Any]) -> Action:
    """Compile one schema-valid action mapping."""
    template = raw.get("template")
    (kind,) = (k for k in raw if k != "template")
    value = raw[kind]
    if kind == "assign":
        value = Assignment.from_config(value)
    return Action(kind=kind, value=freeze(value), template=template)
