"""`plan_bundle` on a database holding tickets (SQLite and PostgreSQL): what a candidate
bundle does to the live tickets, the refusal of one that strands them, and
`migrate_tickets` moving them when a workflow says where."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine import Plan, migrate_tickets, plan_against, plan_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket
from gongdan.engine.unit_of_work import begin_write
from gongdan.rules.workflow import Actor
from tests.bundles import (
    EXAMPLE,
    MIGRATE_TO_IN_PROGRESS,
    NO_ROUTING,
    NO_WAITING,
    Edits,
    edit_bundle,
    make_bundle,
)
from tests.factories import NOW, StepClock, access_request, incident, make_user

MakeCandidate = Callable[..., Bundle]


@pytest.fixture
def candidate(tmp_path: Path) -> MakeCandidate:
    """A candidate bundle: the example (routing and automations left out, as the
    service's bundle) with text edits and files."""

    def make(*edits: Edits, files: dict[str, str | None] | None = None) -> Bundle:
        root = make_bundle(tmp_path / "candidate", {**NO_ROUTING, **(files or {})}, base=EXAMPLE)
        for edit in edits:
            edit_bundle(root, edit)
        return load_bundle(root)

    return make


@pytest.fixture
def service(db: Database, example_bundle: Bundle) -> TicketService:
    """The example's tickets written from `NOW` on, one second apart."""
    return TicketService(db, example_bundle, clock=StepClock())


@pytest.fixture
def agent(db: Database) -> Actor:
    return make_user(db, "li.wei@example.com", teams=("service_desk",))


@pytest.fixture
def requester(db: Database) -> Actor:
    return make_user(db, "zhang.san@example.com", "requester")


def waiting(service: TicketService, requester: Actor, agent: Actor, title: str) -> str:
    key = incident(service, requester, title=title).ticket.key
    service.take_transition(agent, key, "ask_requester", comment="Which version?")
    return key


def plan(db: Database, active: Bundle, candidate: Bundle) -> Plan:
    return plan_against(db, active, candidate, now=NOW + timedelta(hours=1))


def test_the_same_bundle_plans_no_change(
    db: Database, service: TicketService, example_bundle: Bundle, requester: Actor
) -> None:
    incident(service, requester)
    result = plan(db, example_bundle, example_bundle)
    assert result.exit_code == 0
    assert result.changes == () and result.refusal is None
    assert result.render().startswith("No changes")


def test_tickets_in_a_removed_state_refuse_the_bundle_with_counts(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    waiting(service, requester, agent, "First")
    waiting(service, requester, agent, "Second")
    incident(service, requester, title="Still new")
    result = plan(db, example_bundle, candidate(files=NO_WAITING))
    assert result.exit_code == 2
    assert ("State", "incident.waiting_customer", "removed") in [
        (c.kind, c.id, c.what) for c in result.changes
    ]
    assert [s.as_json() for s in result.states] == [
        {
            "workflow": "incident",
            "ticket_type": "it_incident",
            "state": "waiting_customer",
            "tickets": 2,
            "migrate_to": None,
        }
    ]
    assert result.refusal is not None
    assert "2 tickets not closed" in result.refusal
    assert "(incident.waiting_customer: 2)" in result.refusal
    assert result.as_json()["refusal"] == result.refusal
    assert "incident.waiting_customer (it_incident): 2 tickets, stranded" in result.render()


def test_a_migrate_takes_the_tickets_and_lifts_the_refusal(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    waiting(service, requester, agent, "First")
    result = plan(db, example_bundle, candidate(MIGRATE_TO_IN_PROGRESS, files=NO_WAITING))
    assert result.refusal is None
    assert [(s.state, s.tickets, s.migrate_to) for s in result.states] == [
        ("waiting_customer", 1, "in_progress")
    ]
    assert "1 ticket → migrate to in_progress" in result.render()
    # Its resolution clock, paused while it waited for the requester, would run again
    # (the agent's question met the first response).
    assert [(d.target, d.old, d.new is not None) for d in result.sla.sample] == [
        ("resolution", None, True)
    ]


def test_migrate_tickets_moves_them_with_events_by_the_system_and_runs_on_enter(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    first = waiting(service, requester, agent, "First")
    second = waiting(service, requester, agent, "Second")
    untouched = incident(service, requester, title="Still new").ticket.key
    new = candidate(MIGRATE_TO_IN_PROGRESS, files=NO_WAITING)
    planned = plan_against(db, example_bundle, new, now=NOW + timedelta(hours=2)).sla.sample
    with begin_write(db, new, Actor.system(), NOW + timedelta(hours=2)) as uow:
        assert migrate_tickets(uow, example_bundle, new) == 2
    moved = TicketService(db, new)
    for key in (first, second):
        ticket = moved.get_ticket(agent, key)
        # The deadline the plan showed: the clock runs again in the new state.
        assert [(d.target, d.new) for d in planned if d.key == key] == [
            ("resolution", ticket.resolution_due)
        ]
        assert ticket.resolution_due is not None
        assert ticket.state == "in_progress" and ticket.problems == ()
        assert "migrated" in ticket.tags  # the new state's on_enter ran
        event = next(e for e in moved.list_events(agent, key) if e.kind == "ticket.migrated")
        assert event.actor is None  # the system
        assert (event.before["state"], event.after["state"]) == ("waiting_customer", "in_progress")
        assert event.detail["from_version"] == example_bundle.version
        assert event.detail["to_version"] == new.version
        # The ticket works again under the new workflow.
        moved.assign(agent, key, assignee=agent.email)
        assert [t.id for t in moved.transitions_for(agent, key)] == ["resolve"]
    assert moved.get_ticket(agent, untouched).state == "new"
    assert plan(db, example_bundle, new).states == ()  # nothing left to move
    with begin_write(db, new, Actor.system(), NOW + timedelta(hours=3)) as uow:
        assert migrate_tickets(uow, example_bundle, new) == 0


def test_the_promotion_path_plans_and_migrates_in_one_unit_of_work(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    key = waiting(service, requester, agent, "First")
    refused = candidate(files=NO_WAITING)
    with begin_write(db, refused, Actor.system(), NOW + timedelta(hours=1)) as uow:
        assert plan_bundle(uow, example_bundle, refused).refusal is not None
    accepted = candidate(MIGRATE_TO_IN_PROGRESS, files=NO_WAITING)
    with begin_write(db, accepted, Actor.system(), NOW + timedelta(hours=1)) as uow:
        plan = plan_bundle(uow, example_bundle, accepted)
        assert plan.refusal is None and plan.exit_code == 2
        assert migrate_tickets(uow, example_bundle, accepted) == 1
    assert TicketService(db, accepted).get_ticket(agent, key).state == "in_progress"


def test_migrate_tickets_rolls_back_with_the_unit_of_work(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    key = waiting(service, requester, agent, "First")
    new = candidate(MIGRATE_TO_IN_PROGRESS, files=NO_WAITING)
    with pytest.raises(RuntimeError), begin_write(db, new, Actor.system(), NOW) as uow:
        migrate_tickets(uow, example_bundle, new)
        raise RuntimeError("the version could not be stored")
    with db.reading() as session:
        assert session.scalar(select(Ticket.state).where(Ticket.key == key)) == "waiting_customer"


def test_fields_dropped_or_retyped_are_counted_where_tickets_hold_values(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    incident(
        service,
        requester,
        fields={"category": "hardware", "impact": "me", "device_serial": "PC-2024-0815"},
    )
    incident(service, requester, fields={"category": "software", "impact": "team"})
    closed = incident(
        service,
        requester,
        fields={"category": "hardware", "impact": "me", "device_serial": "PC-2024-0816"},
    ).ticket.key
    service.take_transition(requester, closed, "withdraw")
    retyped: Edits = {
        "ticket_types/it_incident.yaml": [
            ("  - id: device_serial\n    type: text", "  - id: device_serial\n    type: textarea"),
            ('    pattern: "^[A-Z0-9-]{6,20}$"\n', ""),
        ]
    }
    dropped: Edits = {
        "ticket_types/it_incident.yaml": [
            (
                "      fields: [title, description, category, device_serial, impact]",
                "      fields: [title, description, category, device_serial]",
            ),
            (
                "      fields: [category, device_serial, impact, screenshots]",
                "      fields: [category, device_serial, screenshots]",
            ),
            (
                "  rules:\n    - when: {impact: company}\n      set: urgent\n"
                "    - when: {impact: team}\n      set: high\n",
                "",
            ),
            ("  - id: impact\n", "  - id: reach\n"),
        ],
        "mailboxes/it_support.yaml": [
            ("fields: {category: software, impact: me}", "fields: {category: software}")
        ],
    }
    result = plan(db, example_bundle, candidate(retyped, dropped))
    assert [f.as_json() for f in result.fields] == [
        {
            "ticket_type": "it_incident",
            "field": "device_serial",
            "what": "retyped",
            "detail": "text → textarea",
            "tickets": 1,
        },
        {
            "ticket_type": "it_incident",
            "field": "impact",
            "what": "dropped",
            "detail": "",
            "tickets": 2,
        },
    ]
    text = result.render()
    assert "it_incident.impact: 2 tickets hold a value; the field is dropped" in text
    assert "it_incident.device_serial: 1 ticket hold a value; the field changes type" in text


def test_values_the_changed_field_would_refuse_are_counted_with_an_example(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
) -> None:
    for category in ("network", "software", "network"):
        incident(service, requester, fields={"category": category, "impact": "me"})
    no_network: Edits = {
        "ticket_types/it_incident.yaml": [
            ("      - {value: network, label: {en: Network, zh-CN: 网络}}\n", ""),
            ("label: {en: Category, zh-CN: 类别}", "label: {en: Kind, zh-CN: 种类}"),
        ]
    }
    result = plan(db, example_bundle, candidate(no_network))
    [refused] = result.fields
    assert (refused.field, refused.what, refused.tickets) == ("category", "refused", 2)
    assert refused.detail.startswith("e.g. INC-1: ") and "network" in refused.detail
    assert (
        f"it_incident.category: 2 tickets hold a value the field would refuse ({refused.detail})"
        in result.render()
    )
    # A new label alone refuses nothing.
    relabelled = candidate(
        {"ticket_types/it_incident.yaml": [no_network["ticket_types/it_incident.yaml"][1]]}
    )
    assert plan(db, example_bundle, relabelled).fields == ()


def test_a_changed_sla_target_shows_old_and_new_deadlines(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    candidate: MakeCandidate,
    requester: Actor,
    agent: Actor,
) -> None:
    first = incident(service, requester, title="One").ticket
    second = incident(service, requester, title="Two").ticket
    service.take_transition(requester, incident(service, requester).ticket.key, "withdraw")
    approver = make_user(db, "boss@example.com").email
    assert approver is not None
    access_request(service, requester, approver)  # same policy, but its clocks are paused
    shorter: Edits = {
        "sla/policies.yaml": [
            (
                "resolution:     {urgent: 4h, high: 1d, normal: 3d, low: 5d}",
                "resolution:     {urgent: 4h, high: 1d, normal: 2d, low: 5d}",
            )
        ]
    }
    new = candidate(shorter)
    result = plan(db, example_bundle, new)
    assert [(c.kind, c.id, c.detail) for c in result.changes] == [
        ("SLATarget", "it_standard.resolution.normal", "3d → 2d")
    ]
    # The two live incidents; the withdrawn one is closed, the access request waits for
    # its approver (its clocks stand still: no deadline before or after).
    assert result.sla.tickets == 2
    by_key = {d.key: d for d in result.sla.sample}
    assert set(by_key) >= {first.key, second.key}
    change = by_key[first.key]
    assert change.target == "resolution"
    assert change.old == first.resolution_due
    assert change.old is not None and change.new is not None
    # One working day (7.5 h on cn_business) less, in business time: earlier.
    assert change.new < change.old
    assert f"{first.key} resolution: " in result.render()
    assert result.as_json()["tickets"]["sla"]["tickets"] == 2
    # Once the bundle is active, the ticket's next change gives it the deadline planned.
    applied = TicketService(db, new, clock=lambda: NOW + timedelta(hours=1))
    applied.add_comment(agent, first.key, "Looking into it.", public=False)
    assert applied.get_ticket(agent, first.key).resolution_due == change.new


PRINTER = """\
kind: TicketType
id: printer
name: {en: Printer, zh-CN: 打印机}
key_prefix: PRN
workflow: incident
fields:
  - {id: floor, type: integer, label: {en: Floor, zh-CN: 楼层}}
  - {id: resolution_code, type: text, label: {en: Resolution, zh-CN: 解决方式}}
"""


def test_a_removed_ticket_type_counts_its_live_tickets(
    db: Database, example_bundle: Bundle, candidate: MakeCandidate, requester: Actor
) -> None:
    with_printers = candidate(files={"ticket_types/printer.yaml": PRINTER})
    service = TicketService(db, with_printers, clock=StepClock())
    for floor in (1, 2):
        service.create_ticket(requester, "printer", title="Jammed", fields={"floor": floor})
    result = plan(db, with_printers, example_bundle)
    assert ("TicketType", "printer", "removed") in [(c.kind, c.id, c.what) for c in result.changes]
    assert [t.as_json() for t in result.ticket_types] == [{"ticket_type": "printer", "tickets": 2}]
    assert "ticket type printer is removed: 2 tickets" in result.render()
