"""What a compiled Bundle derives once from its config gives the answers evaluating the
config on every call would: the SLA policy of each ticket type and priority, the keys
the routing rules read, the automations of each event, a type's internal fields."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.rules.routing import rule_keys
from gongdan.rules.sla import SLAPolicy
from gongdan.vocabulary import PRIORITIES
from tests.bundles import EXAMPLE, MINIMAL, make_bundle

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

POLICY = """kind: SLAPolicy
id: {id}
{when}calendar: office
targets:
  resolution: {{urgent: 4h, high: 8h, normal: 3d, low: 5d}}
"""
# Policies in an order where each kind of condition decides for some tickets: one that
# reads a custom field first, then the priority alone, the type with a custom field,
# the clock, the type alone, and a last one for every ticket.
POLICIES = [
    ("urgent_hardware", "{all: [{priority: urgent}, {category: hardware}]}"),
    ("high_any", "{priority: [high]}"),
    ("incident_software", "{type: incident, category: {ne: hardware}}"),
    ("stale", "{created_at: {older_than: 1d}}"),
    ("requests", "{type: [request]}"),
    ("everything", None),
]
CALENDAR = """kind: Calendar
id: office
timezone: Asia/Shanghai
hours: {mon-fri: ["09:00-12:00", "13:30-18:00"]}
"""
INCIDENT = (MINIMAL / "ticket_types" / "incident.yaml").read_text(encoding="utf-8")


def another_type(type_id: str, *, sla: str | None = None) -> str:
    """The minimal bundle's incident type under another id (and prefix)."""
    text = INCIDENT.replace("id: incident", f"id: {type_id}", 1)
    text = text.replace("key_prefix: INC", f"key_prefix: {type_id.upper()}", 1)
    return text + (f"sla: {sla}\n" if sla else "")


def custom_bundle(root: Path, policies: list[tuple[str, str | None]]) -> Bundle:
    documents = [CALENDAR] + [
        POLICY.format(id=pid, when=f"applies_when: {when}\n" if when else "")
        for pid, when in policies
    ]
    files = {
        "sla/sla.yaml": "---\n".join(documents),
        "ticket_types/request.yaml": another_type("request"),
        "ticket_types/fixed.yaml": another_type("fixed", sla="high_any"),
    }
    return load_bundle(make_bundle(root, files))


def evaluated(bundle: Bundle, values: Mapping[str, Any]) -> SLAPolicy | None:
    """The policy as evaluating every policy in order gives it (no precomputing)."""
    ticket_type = bundle.ticket_types[values["type"]]
    if ticket_type.sla is not None:
        return next((p for p in bundle.sla_policies if p.id == ticket_type.sla), None)
    for policy in bundle.sla_policies:
        if policy.applies_when is None or policy.applies_when(values, None, NOW):
            return policy
    return None


def looked_up(bundle: Bundle, values: Mapping[str, Any]) -> SLAPolicy | None:
    """The policy as the engine finds it (`engine.automation.sla.policy_for`)."""
    choice = bundle.policy_choice(values["type"], values["priority"])
    assert choice is not None
    if not choice.candidates:
        return choice.otherwise
    return choice.choose(values, NOW)


def tickets(bundle: Bundle) -> list[dict[str, Any]]:
    """Condition values for every type × priority, with custom values and ages that
    make each kind of condition go both ways."""
    out = []
    for type_id, priority, category, age in itertools.product(
        sorted(bundle.ticket_types),
        [str(p) for p in PRIORITIES],
        ["hardware", "software", None],
        [timedelta(0), timedelta(days=2)],
    ):
        out.append(
            {
                "type": type_id,
                "priority": priority,
                "category": category,
                "state_category": "open",
                "created_at": NOW - age,
                "tags": [],
            }
        )
    return out


@pytest.fixture(scope="module")
def example() -> Bundle:
    return load_bundle(EXAMPLE)


def test_the_example_bundle_decides_every_policy_when_compiled(example: Bundle) -> None:
    for values in tickets(example):
        assert looked_up(example, values) == evaluated(example, values), values
    # Its policies read only the type: nothing is left to evaluate per ticket.
    for type_id, priority in itertools.product(example.ticket_types, PRIORITIES):
        choice = example.policy_choice(type_id, priority)
        assert choice is not None and choice.candidates == (), (type_id, priority)
    assert example.policy_choice("no_such_type", "high") is None


def test_policies_reading_other_values_are_evaluated_per_ticket(tmp_path: Path) -> None:
    bundle = custom_bundle(tmp_path, POLICIES)
    assert {p.id for p in bundle.sla_policies} == {pid for pid, _ in POLICIES}
    chosen = set()
    for values in tickets(bundle):
        policy = looked_up(bundle, values)
        assert policy == evaluated(bundle, values), values
        chosen.add(policy.id if policy else None)
    assert chosen == {pid for pid, _ in POLICIES}  # every policy applies to some ticket
    ids = {
        (type_id, str(priority)): (
            [p.id for p in choice.candidates],
            choice.otherwise.id if choice.otherwise else None,
        )
        for type_id in bundle.ticket_types
        for priority in PRIORITIES
        if (choice := bundle.policy_choice(type_id, priority)) is not None
    }
    # The priority alone decides before anything reading a custom field is reached...
    assert ids["request", "high"] == (["urgent_hardware"], "high_any")
    # ...conditions on the type decide once compiled; those that read data or the clock
    # too are left to each ticket (even where their type part alone rules them out)...
    assert ids["request", "low"] == (["urgent_hardware", "incident_software", "stale"], "requests")
    assert ids["incident", "normal"] == (
        ["urgent_hardware", "incident_software", "stale"],
        "everything",
    )
    # ...and a type naming its policy takes it, whatever the conditions.
    assert ids["fixed", "low"] == ([], "high_any")
    # A priority outside the built-in ones (never written by the engine) is decided the same.
    odd = {"type": "request", "priority": "odd", "category": None, "created_at": NOW}
    assert looked_up(bundle, odd) == evaluated(bundle, odd)


def test_a_type_naming_an_unknown_policy_has_none(tmp_path: Path) -> None:
    bundle = custom_bundle(tmp_path, POLICIES)
    renamed = dataclasses.replace(bundle, sla_policies=bundle.sla_policies[:1])
    values = {"type": "fixed", "priority": "low", "category": None, "created_at": NOW}
    assert evaluated(renamed, values) is None
    assert looked_up(renamed, values) is None


def test_derived_values_follow_the_bundle(example: Bundle) -> None:
    assert example.routing_keys == rule_keys(example.routing_rules) != frozenset()
    assert dataclasses.replace(example, routing_rules=()).routing_keys == frozenset()
    events = {a.on for a in example.automations.values()} | {"no.such.event"}
    for event in events:
        assert example.automations_on(event) == tuple(
            a for a in example.automations.values() if a.on == event and a.enabled
        )
    for policy in example.sla_policies:
        assert example.sla_policy(policy.id) is policy
    assert example.sla_policy("no_such_policy") is None
    for ticket_type in example.ticket_types.values():
        assert ticket_type.internal_fields == {f.id for f in ticket_type.fields if f.internal}
    assert any(t.internal_fields for t in example.ticket_types.values())
    for team in example.teams.values():
        assert team.capped == any(m.capacity is not None for m in team.members)
    uncapped = dataclasses.replace(
        example.teams["service_desk"],
        members=tuple(
            dataclasses.replace(m, capacity=None) for m in example.teams["service_desk"].members
        ),
    )
    assert example.teams["service_desk"].capped and not uncapped.capped
