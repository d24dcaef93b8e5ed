"""Automations on ticket events: each trigger and action, and the loop guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import make_user, outbox

AUTOMATIONS = """kind: Automation
id: tag_hardware
on: ticket.created
when: {category: hardware}
actions: [{add_tags: [hw]}, {webhook: {url: "http://127.0.0.1:9/hook", allow_private: true}}]
---
kind: Automation
id: big_amount
on: ticket.updated
when: {amount: {changed: true, gt: 1000}}
actions: [{comment: "Large amount: check with finance"}, {notify: team, template: big}]
---
kind: Automation
id: started_is_high
on: ticket.transitioned
when: {state: open}
actions: [{set: {priority: high}}]
---
kind: Automation
id: again_and_again
on: ticket.updated
when: {category: software}
actions: [{add_tags: [touched]}, {set: {amount: 1}}]
---
kind: Automation
id: ping
on: ticket.updated
when: {tags: {contains: ping}}
actions: [{set: {amount: 2}}]
---
kind: Automation
id: pong
on: ticket.updated
when: {amount: {changed: true}}
actions: [{add_tags: [ping]}]
"""


@pytest.fixture
def setup(db: Database, tmp_path: Path) -> tuple[TicketService, Actor, Actor]:
    bundle = load_bundle(make_bundle(tmp_path, {"routing/default.yaml": AUTOMATIONS}))
    agent = make_user(db, "li.wei@example.com", teams=("desk",))
    requester = make_user(db, "r@example.com", "requester")
    AccountService(db, bundle).sync_teams()
    return TicketService(db, bundle), agent, requester


def create(service: TicketService, who: Actor, category: str) -> str:
    fields = {"category": category, **({"serial": "ABC-123"} if category == "hardware" else {})}
    return service.create_ticket(who, "incident", title="Help", fields=fields).ticket.key


def test_on_created_with_when_and_a_webhook(
    db: Database, setup: tuple[TicketService, Actor, Actor]
) -> None:
    service, agent, requester = setup
    key = create(service, requester, "hardware")
    assert service.get_ticket(agent, key).tags == ("hw",)
    hooks = [payload for topic, payload in outbox(db) if topic == "webhook"]
    assert [h["target"]["url"] for h in hooks] == ["http://127.0.0.1:9/hook"]
    assert service.get_ticket(agent, create(service, requester, "software")).tags == ()


def test_on_updated_with_changed_adds_an_internal_note_and_notifies(
    db: Database, setup: tuple[TicketService, Actor, Actor]
) -> None:
    service, agent, requester = setup
    key = create(service, requester, "hardware")
    service.update_ticket(agent, key, {"amount": 5000})
    notes = [c for c in service.list_comments(agent, key) if not c.public]
    assert [n.body for n in notes] == ["Large amount: check with finance"]
    assert service.list_comments(requester, key) == []  # internal: never to the requester
    assert ("notify", "big") in [(topic, p.get("template")) for topic, p in outbox(db)]
    # Changed again but no longer over the limit: does not fire.
    service.update_ticket(agent, key, {"amount": 10})
    assert len([c for c in service.list_comments(agent, key) if not c.public]) == 1


def test_on_transitioned(setup: tuple[TicketService, Actor, Actor]) -> None:
    service, agent, requester = setup
    key = create(service, requester, "hardware")
    assert service.take_transition(agent, key, "start").ticket.priority == "high"


def test_an_automation_does_not_fire_on_its_own_change(
    setup: tuple[TicketService, Actor, Actor],
) -> None:
    service, agent, requester = setup
    key = create(service, requester, "software")
    result = service.update_ticket(agent, key, {"title": "Crashes"})
    ran = [e.detail["automation"] for e in result.events if e.kind == "automation.ran"]
    assert ran.count("again_and_again") == 1
    assert service.get_ticket(agent, key).tags.count("touched") == 1


def test_automations_setting_each_other_off_stop_with_an_event(
    setup: tuple[TicketService, Actor, Actor],
) -> None:
    service, agent, requester = setup
    key = create(service, requester, "hardware")
    result = service.update_ticket(agent, key, {"amount": 7})
    kinds = [e.kind for e in result.events]
    ran = [e.detail["automation"] for e in result.events if e.kind == "automation.ran"]
    # pong (amount changed) → ping (tag) → pong would fire again: the guard stops it.
    assert ran[:2] == ["pong", "ping"]
    assert "pong" not in ran[2:]
    assert "ticket.updated" in kinds


RUSH = """kind: Automation
id: hardware_is_rush
on: ticket.created
when: {category: hardware}
actions: [{add_tags: [rush]}]
---
kind: Automation
id: software_is_rush_later
on: ticket.updated
when: {amount: {changed: true, gt: 100}}
actions: [{add_tags: [rush]}]
"""
RUSH_POLICY = """kind: SLAPolicy
id: rush
applies_when: {tags: {contains: rush}}
calendar: office
targets:
  first_response: {urgent: 10m, high: 10m, normal: 10m, low: 10m}
  resolution: {urgent: 1h, high: 1h, normal: 1h, low: 1h}
---
"""


def test_the_sla_policy_follows_what_an_automation_changed_in_the_same_write(
    db: Database, tmp_path: Path
) -> None:
    """The SLA policies and the automations read the same ticket several times in one
    write: what an automation changes (here a tag a policy asks for) counts at once."""
    sla = (make_bundle(tmp_path) / "sla" / "sla.yaml").read_text("utf-8")
    calendar, policies = sla.split("---\n", 1)
    files = {
        "routing/default.yaml": RUSH,
        "sla/sla.yaml": calendar + "---\n" + RUSH_POLICY + policies,
    }
    service = TicketService(db, load_bundle(make_bundle(tmp_path, files)))
    agent = make_user(db, "li.wei@example.com", teams=("desk",))
    hardware = service.create_ticket(
        agent, "incident", title="Dead disk", fields={"category": "hardware", "serial": "ABC-123"}
    ).ticket
    assert "rush" in hardware.tags
    assert hardware.sla_policy == "rush"
    software = service.create_ticket(
        agent, "incident", title="Slow app", fields={"category": "software"}
    ).ticket
    assert software.sla_policy == "standard"
    raised = service.update_ticket(agent, software.key, {"amount": 500}).ticket
    assert "rush" in raised.tags
    assert raised.sla_policy == "rush"
