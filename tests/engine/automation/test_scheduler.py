"""The scheduler's jobs: workflow `after:` transitions, `on: schedule` automations
(once per period, whoever runs them), and the SLA scan job."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.automation.scheduler import (
    run_after_transitions,
    run_scheduled_automations,
    run_sla_scan,
)
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.bundles import EXAMPLE, make_bundle
from tests.factories import make_user, outbox

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 2, 9, tzinfo=SH)


def resolved_incident(db: Database, bundle: Bundle, at: datetime) -> tuple[TicketService, str]:
    service = TicketService(db, bundle, clock=lambda: at)
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = service.create_ticket(
        requester, "it_incident", title="x", fields={"category": "software", "impact": "me"}
    ).ticket.key
    service.take_transition(agent, key, "start")
    service.assign(agent, key, assignee="li.wei@example.com")
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done"
    )
    return service, key


def test_after_transition_closes_72h_after_resolve(db: Database, example_bundle: Bundle) -> None:
    service, key = resolved_incident(db, example_bundle, MONDAY)
    assert run_after_transitions(db, example_bundle, MONDAY + timedelta(hours=71)) == 0
    assert run_after_transitions(db, example_bundle, MONDAY + timedelta(hours=72, seconds=1)) == 1
    admin = make_user(db, "admin@example.com", "admin")
    ticket = service.get_ticket(admin, key)
    assert ticket.state_category == "closed"
    closing = [e for e in service.list_events(admin, key) if e.kind == "ticket.transitioned"][-1]
    assert closing.actor is None  # the system took it
    assert ("survey", "csat") in [(t, p.get("target")) for t, p in outbox(db)]
    assert run_after_transitions(db, example_bundle, MONDAY + timedelta(hours=80)) == 0


def test_scheduled_automation_runs_once_per_period(db: Database) -> None:
    bundle = load_bundle(EXAMPLE)  # with its automations: remind stale pending tickets
    service = TicketService(db, bundle, clock=lambda: MONDAY)
    agent = make_user(db, "li.wei@example.com", "admin")
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = service.create_ticket(
        requester, "it_incident", title="x", fields={"category": "software", "impact": "me"}
    ).ticket.key
    service.take_transition(agent, key, "ask_requester", comment="Which version?")

    def reminders() -> list[dict[str, object]]:
        return [
            p
            for t, p in outbox(db)
            if t == "notify" and p.get("source") == "automation:remind_stale_pending"
        ]

    later = MONDAY + timedelta(days=3, minutes=30)
    assert run_scheduled_automations(db, bundle, later) == 1
    assert run_scheduled_automations(db, bundle, later + timedelta(minutes=5)) == 0  # same period
    assert len(reminders()) == 1
    # The next period: the ticket is no longer in the automation's window.
    assert run_scheduled_automations(db, bundle, later + timedelta(hours=2)) == 0


def test_sla_scan_job(db: Database, example_bundle: Bundle) -> None:
    service = TicketService(db, example_bundle, clock=lambda: MONDAY)
    requester = make_user(db, "zhang.san@example.com", "requester")
    for n in range(3):
        service.create_ticket(
            requester, "it_incident", title=f"T{n}", fields={"category": "software", "impact": "me"}
        )
    assert run_sla_scan(db, example_bundle, MONDAY + timedelta(days=10)) == 3
    assert run_sla_scan(db, example_bundle, MONDAY + timedelta(days=10)) == 0


def test_scheduled_priority_change_moves_the_sla_deadline(db: Database, tmp_path: Path) -> None:
    """A scheduled automation that raises the priority leaves the ticket with the new
    priority's resolution deadline in the same run, as any other change of priority."""
    raise_new = (
        "kind: Automation\nid: raise_new\non: schedule\nevery: 1h\n"
        "when: {state_category: new}\nactions: [{set: {priority: urgent}}]\n"
    )
    bundle = load_bundle(make_bundle(tmp_path, {"routing/default.yaml": raise_new}))
    service = TicketService(db, bundle, clock=lambda: MONDAY)
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com")
    fields = {"category": "software"}
    key = service.create_ticket(requester, "incident", title="x", fields=fields).ticket.key
    urgent = service.create_ticket(
        agent, "incident", title="y", fields=fields, requester=requester.email, priority="urgent"
    ).ticket
    assert service.get_ticket(agent, key).resolution_due != urgent.resolution_due

    assert run_scheduled_automations(db, bundle, MONDAY + timedelta(minutes=30)) == 2
    ticket = service.get_ticket(agent, key)
    assert ticket.priority == "urgent"
    assert ticket.resolution_due == urgent.resolution_due  # 4 business hours, not 3 days
    assert ticket.first_response_due == urgent.first_response_due
