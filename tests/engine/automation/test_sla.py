"""SLAs on real databases: deadlines from the policy and calendar, pause and resume,
first response met by a public agent reply, priority raised mid-way, warnings and
breaches fired once with their escalations, reopen, and the due-scan with several
scanners at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.bundles import EXAMPLE, edit_bundle, make_bundle
from tests.factories import actor, make_user, outbox

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)  # 2026-11-02 is a Monday


def test_an_incident_through_pause_priority_breach_and_reopen(
    db: Database, example_bundle: Bundle
) -> None:
    clock = Clock(sh(2, 9))
    service = TicketService(db, example_bundle, clock=clock)
    agent = make_user(db, "li.wei@example.com", teams=("service_desk", "escalation"))
    make_user(db, "feng.chao@example.com")  # in the escalation team of the example
    lead = make_user(db, "admin@example.com", "admin")
    AccountService(db, example_bundle).sync_teams()
    requester = make_user(db, "zhang.san@example.com", "requester")
    created = service.create_ticket(
        requester,
        "it_incident",
        title="Outlook crashes",
        fields={"category": "software", "impact": "me"},
    )
    key, ticket = created.ticket.key, created.ticket
    # it_standard on cn_business (09:00-12:00, 13:30-18:00): normal = 4h and 3d (3 x 7.5h).
    assert ticket.sla_policy == "it_standard"
    assert ticket.first_response_due == sh(2, 14, 30)
    assert ticket.resolution_due == sh(4, 18)

    clock.now = sh(2, 10)
    service.take_transition(agent, key, "start")
    clock.now = sh(2, 11)
    asked = service.take_transition(agent, key, "ask_requester", comment="Which version?")
    assert asked.ticket.first_response_due is None  # met by the public reply
    assert asked.ticket.resolution_due is None  # paused while waiting for the customer

    clock.now = sh(3, 10)
    back = service.take_transition(requester, key, "requester_replied", comment="2021")
    # 2h used on Monday; 20.5h left from Tuesday 10:00 -> Thursday 17:00.
    assert back.ticket.resolution_due == sh(5, 17)

    clock.now = sh(3, 11)
    raised = service.update_ticket(agent, key, {"priority": "urgent"})
    # Urgent is 4h; 3h already used -> 1h left -> Tuesday 12:00.
    assert raised.ticket.resolution_due == sh(3, 12)

    clock.now = sh(3, 11, 30)
    service.scan_sla()
    clock.now = sh(3, 11, 40)
    service.scan_sla()
    warnings = [e for e in service.list_events(agent, key) if e.kind == "sla.warning"]
    assert [w.detail["target"] for w in warnings] == ["resolution"]  # once, at 80%
    assert ("notify", "sla_warning") in [(t, p.get("template")) for t, p in outbox(db)]

    clock.now = sh(3, 13)
    service.scan_sla()
    service.scan_sla()
    breaches = [e for e in service.list_events(agent, key) if e.kind == "sla.breached"]
    assert [(b.detail["target"], b.detail["breached_at"]) for b in breaches] == [
        ("resolution", sh(3, 12).isoformat())
    ]
    now = service.get_ticket(lead, key)
    assert now.team == "escalation" and now.priority == "urgent"  # the breach escalation

    clock.now = sh(3, 14)
    service.assign(lead, key, assignee="feng.chao@example.com")
    service.take_transition(
        lead, key, "resolve", fields={"resolution_code": "fixed"}, comment="Repaired the profile."
    )
    clock.now = sh(4, 10)
    reopened = service.take_transition(requester, key, "reopen", comment="Back again")
    # Resolution restarts with the urgent 4h: Wednesday 10:00 -> 15:30.
    assert reopened.ticket.resolution_due == sh(4, 15, 30)
    explained = {e.target: e for e in service.explain_sla(lead, key)}
    counted = explained["resolution"].intervals
    assert sum(i.seconds for i in counted) == 4 * 3600
    assert [(i.start, i.end) for i in counted] == [
        (sh(4, 10), sh(4, 12)),
        (sh(4, 13, 30), sh(4, 15, 30)),
    ]


def test_each_breach_fires_once_with_several_scanners(db: Database, example_bundle: Bundle) -> None:
    clock = Clock(sh(2, 9))
    service = TicketService(db, example_bundle, clock=clock)
    requester = make_user(db, "zhang.san@example.com", "requester")
    keys = [
        service.create_ticket(
            requester, "it_incident", title=f"T{n}", fields={"category": "software", "impact": "me"}
        ).ticket.key
        for n in range(40)
    ]
    clock.now = sh(9, 9)  # a week later: every first response and resolution breached
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait(timeout=30)
            while service.scan_sla(limit=7):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    admin = make_user(db, "boss@example.com", "admin")
    for key in keys:
        breached = [
            e.detail["target"] for e in service.list_events(admin, key) if e.kind == "sla.breached"
        ]
        assert sorted(breached) == ["first_response", "resolution"], key


def test_the_due_scan_is_an_index_range_scan(db: Database, example_bundle: Bundle) -> None:
    if db.dialect != "postgresql":
        return
    with db.reading() as session:
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            session.execute(
                sa.text(
                    "EXPLAIN SELECT * FROM tickets WHERE sla_wakeup_at IS NOT NULL "
                    "AND sla_wakeup_at <= :now ORDER BY sla_wakeup_at LIMIT 500"
                ),
                {"now": datetime.now(UTC) + timedelta(days=1)},
            ).scalars()
        )
    assert "ix_tickets_sla_wakeup" in plan


def test_automations_run_on_sla_breaches(db: Database, routed_bundle: Bundle) -> None:
    """The example's `notify_team_on_breach` automation is `on: sla.breached`."""
    clock = Clock(sh(2, 9))
    service = TicketService(db, routed_bundle, clock=clock)
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = service.create_ticket(
        requester, "it_incident", title="Down", fields={"category": "software", "impact": "me"}
    ).ticket.key
    clock.now = sh(9, 9)
    service.scan_sla()
    sources = [p.get("source") for t, p in outbox(db) if t == "notify" and p["ticket"] == key]
    assert "automation:notify_team_on_breach" in sources


def test_next_response_runs_from_each_customer_reply(db: Database, example_bundle: Bundle) -> None:
    """complaint_standard (cn_customer_service, 09:00-21:00 every day): first response 4h,
    next response 1d = one 12h working day, restarted by each customer reply."""
    clock = Clock(sh(2, 10))
    service = TicketService(db, example_bundle, clock=clock)
    agent = make_user(db, "li.wei@example.com", "admin")
    created = service.create_ticket(
        agent,
        "complaint",
        title="Late delivery",
        requester="chen.jing@example.com",
        fields={
            "channel": "email",
            "customer_name": "陈静",
            "complaint_category": "delivery",
            "severity": "minor",
        },
    )
    key = created.ticket.key
    assert created.ticket.first_response_due == sh(2, 14)
    assert created.ticket.next_response_due is None  # no customer reply yet
    clock.now = sh(2, 11)
    replied = service.add_comment(agent, key, "We are sorry; checking with the courier.")
    assert replied.ticket.first_response_due is None  # met
    clock.now = sh(2, 20)
    customer = actor(db, "chen.jing@example.com")  # the account logged for the customer
    back = service.add_comment(customer, key, "Still nothing.")
    # 1d = 12h from Monday 20:00: 1h on Monday, 11h on Tuesday from 09:00 -> 20:00.
    assert back.ticket.next_response_due == sh(3, 20)
    clock.now = sh(3, 10)
    answered = service.add_comment(agent, key, "The parcel arrives today.")
    assert answered.ticket.next_response_due is None


def test_the_explanation_shows_the_time_counted_and_the_pauses(
    db: Database, example_bundle: Bundle
) -> None:
    clock = Clock(sh(2, 9))
    service = TicketService(db, example_bundle, clock=clock)
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = service.create_ticket(
        requester,
        "it_incident",
        title="Printer jams",
        fields={"category": "software", "impact": "me"},
    ).ticket.key
    clock.now = sh(2, 10)
    service.take_transition(agent, key, "start")
    clock.now = sh(2, 11)
    service.take_transition(agent, key, "ask_requester", comment="Which tray?")

    paused = {e.target: e for e in service.explain_sla(agent, key)}["resolution"]
    assert paused.counted == ((sh(2, 9), sh(2, 11), 2 * 3600),)
    assert paused.pauses == ((sh(2, 11), None),)  # waiting on the customer now
    assert paused.deadline is None and paused.consumed_seconds == 2 * 3600

    clock.now = sh(3, 10)
    service.take_transition(requester, key, "requester_replied", comment="Tray 2")
    running = {e.target: e for e in service.explain_sla(agent, key)}["resolution"]
    assert running.pauses == ((sh(2, 11), sh(3, 10)),)
    assert running.running_since == sh(3, 10)
    # 22.5h budget - 2h counted = 20.5h left, laid out over the calendar's intervals.
    assert sum(i.seconds for i in running.intervals) == 20 * 3600 + 1800
    assert running.deadline == sh(5, 17)


def test_a_changed_target_reaches_live_tickets_and_the_scan_fires_no_stale_breach(
    db: Database, example_bundle: Bundle, tmp_path: Path
) -> None:
    clock = Clock(sh(2, 9))
    service = TicketService(db, example_bundle, clock=clock)
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    fields = {"category": "software", "impact": "me"}
    key = service.create_ticket(requester, "it_incident", title="A", fields=fields).ticket.key
    assert service.get_ticket(requester, key).resolution_due == sh(4, 18)  # normal: 3d
    # The config gives normal incidents 5 working days, of which Monday 09:00-11:00 is used.
    root = make_bundle(
        tmp_path, {"routing/default.yaml": None, "routing/automations.yaml": None}, base=EXAMPLE
    )
    longer = load_bundle(
        edit_bundle(
            root,
            {"sla/policies.yaml": [("normal: 3d, low: 5d}", "normal: 5d, low: 5d}")]},
        )
    )
    clock.now = sh(4, 18, 1)  # the old deadline has passed, under the new config
    under_new = TicketService(db, longer, clock=clock)
    under_new.scan_sla()  # the wake-up stored for the old deadline comes due
    ticket = under_new.get_ticket(requester, key)
    assert ticket.resolution_due == sh(6, 18)  # five working days from Monday 09:00
    events = [(e.kind, e.detail.get("target")) for e in under_new.list_events(agent, key)]
    assert ("sla.breached", "resolution") not in events
    assert ("sla.breached", "first_response") in events  # (no agent replied: a true one)
