"""Workflow transitions through the service: each rule a transition declares (`from`,
roles, guard, asked fields, comment, `after`), the actions they and `on_enter` run,
chained transitions and their loop protection, and an approval step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.transitions import MAX_CHAIN
from gongdan.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import MINIMAL, make_bundle
from tests.factories import NOW, access_request, actor, incident, maintenance, make_user, outbox


def in_progress(service: TicketService, requester: Actor, agent: Actor) -> str:
    """An incident started and assigned to `agent`; its key."""
    key = incident(service, requester).ticket.key
    service.take_transition(agent, key, "start")
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    return key


def assert_untouched(service: TicketService, who: Actor, key: str, state: str, events: int) -> None:
    ticket = service.get_ticket(who, key)
    assert ticket.state == state
    assert len(service.list_events(who, key)) == events


# From ------------------------------------------------------------------------------


def test_transition_from_a_state_it_does_not_leave(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    with pytest.raises(TransitionNotAllowed, match="cannot be taken from state 'new'"):
        service.take_transition(agent, key, "reopen", comment="Again")
    service.take_transition(agent, key, "start")
    with pytest.raises(TransitionNotAllowed, match="from state 'in_progress'"):
        service.take_transition(agent, key, "start")
    assert_untouched(service, agent, key, "in_progress", 2)


def test_unknown_transition(service: TicketService, requester: Actor, agent: Actor) -> None:
    key = incident(service, requester).ticket.key
    with pytest.raises(TransitionNotAllowed, match="no transition 'approve'"):
        service.take_transition(agent, key, "approve")


# Roles -----------------------------------------------------------------------------


def test_roles_requester_agent_admin(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    admin = make_user(db, "root@example.com", "admin")
    key = incident(service, requester).ticket.key
    with pytest.raises(TransitionNotAllowed, match="for agent only"):
        service.take_transition(requester, key, "start")
    # withdraw is for the requester only: neither an agent nor an admin may take it.
    for staff in (agent, admin):
        with pytest.raises(TransitionNotAllowed, match="for requester only"):
            service.take_transition(staff, key, "withdraw")
    assert_untouched(service, agent, key, "new", 1)
    # An admin holds the agent role.
    assert service.take_transition(admin, key, "start").ticket.state == "in_progress"
    other = incident(service, requester).ticket.key
    assert service.take_transition(requester, other, "withdraw").ticket.state == "closed"


def test_requester_role_is_the_tickets_own_requester(
    db: Database, service: TicketService, agent: Actor
) -> None:
    """A ticket an agent logged for a customer: that customer is its requester."""
    key = incident(service, agent, requester="wang.wu@example.com").ticket.key

    customer = actor(db, "wang.wu@example.com")
    assert customer.role == "requester"
    assert service.take_transition(customer, key, "withdraw").ticket.state == "closed"


def test_transitions_for_lists_what_the_caller_may_take_now(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    assert [t.id for t in service.transitions_for(requester, key)] == ["withdraw"]
    assert [t.id for t in service.transitions_for(agent, key)] == ["start", "ask_requester"]
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    assert [t.id for t in service.transitions_for(agent, key)] == [
        "start",
        "ask_requester",
        "resolve",
    ]


# Guard, asked fields, comment ------------------------------------------------------


def test_guard_resolve_needs_an_assignee(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    service.take_transition(agent, key, "start")
    with pytest.raises(TransitionNotAllowed, match="conditions of 'resolve'"):
        service.take_transition(
            agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
        )
    assert_untouched(service, agent, key, "in_progress", 2)
    service.assign(agent, key, assignee=agent.email)
    resolved = service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    assert resolved.ticket.state == "resolved"


def test_fields_the_transition_asks_for_are_required_and_checked(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = in_progress(service, requester, agent)
    events = len(service.list_events(agent, key))
    with pytest.raises(ValidationFailed) as caught:
        service.take_transition(agent, key, "resolve", comment="Reinstalled Outlook.")
    assert caught.value.fields == {"resolution_code": "is required for 'resolve'"}
    with pytest.raises(ValidationFailed) as caught:
        service.take_transition(
            agent, key, "resolve", fields={"resolution_code": "magic"}, comment="Done."
        )
    assert "'magic' is not one of" in caught.value.fields["resolution_code"]
    with pytest.raises(ValidationFailed) as caught:
        service.take_transition(
            agent,
            key,
            "resolve",
            fields={"resolution_code": "fixed", "impact": "company"},
            comment="Done.",
        )
    assert set(caught.value.fields) == {"impact"}
    assert_untouched(service, agent, key, "in_progress", events)
    assert "resolution_code" not in service.get_ticket(agent, key).data


def test_comment_required(service: TicketService, requester: Actor, agent: Actor) -> None:
    key = in_progress(service, requester, agent)
    events = len(service.list_events(agent, key))
    for comment in (None, "", "   \n "):
        with pytest.raises(ValidationFailed) as caught:
            service.take_transition(
                agent, key, "resolve", fields={"resolution_code": "fixed"}, comment=comment
            )
        assert caught.value.fields == {"comment": "is required for 'resolve'"}
    assert_untouched(service, agent, key, "in_progress", events)
    assert "resolution_code" not in service.get_ticket(agent, key).data


def test_taken_transition_stores_fields_comment_and_history(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = in_progress(service, requester, agent)
    result = service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "workaround"}, comment="Use webmail."
    )
    assert result.ticket.state == "resolved" and result.ticket.state_category == "resolved"
    assert result.ticket.data["resolution_code"] == "workaround"
    event = next(e for e in result.events if e.kind == "ticket.transitioned")
    assert dict(event.before) == {"state": "in_progress", "resolution_code": None}
    assert dict(event.after) == {"state": "resolved", "resolution_code": "workaround"}
    assert event.detail["transition"] == "resolve" and event.actor == agent.email
    (comment,) = service.list_comments(requester, key)
    assert (comment.body, comment.public, comment.author) == ("Use webmail.", True, agent.email)


def test_requester_cannot_hide_a_transition_comment(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    service.take_transition(agent, key, "ask_requester", comment="Which version?")
    with pytest.raises(PermissionDenied):
        service.take_transition(
            requester, key, "requester_replied", comment="Version 16", public=False
        )
    replied = service.take_transition(requester, key, "requester_replied", comment="Version 16")
    assert replied.ticket.state == "in_progress"


# Timed transitions and actions -----------------------------------------------------


def test_after_transitions_are_declared_and_the_scheduler_may_take_them(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    workflow = service.bundle.workflows["incident"]
    close = next(t for t in workflow.transitions if t.id == "close")
    assert close.after is not None and close.after.as_timedelta() == timedelta(hours=72)
    key = in_progress(service, requester, agent)
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    closed = service.take_transition(Actor.system(), key, "close")
    assert closed.ticket.state == "closed"
    surveys = [p for topic, p in outbox(service.db) if topic == "survey"]
    assert [(p["ticket"], p["target"], p["source"]) for p in surveys] == [
        (key, "csat", "transition:close")
    ]
    event = service.list_events(agent, key)[-1]
    assert (event.kind, event.actor, event.after["state"]) == (
        "ticket.transitioned",
        None,
        "closed",
    )


def test_automatic_close_writes_an_internal_note(
    db: Database, service: TicketService, requester: Actor
) -> None:
    """maintenance `auto_close` (after 24h, no roles: agents and the scheduler) adds an
    internal comment that the requester never sees."""
    tech = make_user(db, "he.ping@example.com", teams=("maintenance_crew",))
    key = maintenance(service, requester).ticket.key
    service.assign(tech, key, team="maintenance_crew", assignee=tech.email)
    service.take_transition(tech, key, "dispatch")
    service.take_transition(
        tech,
        key,
        "finish_repair",
        fields={"work_performed": "Replaced the nozzle.", "downtime_minutes": 45},
    )
    with pytest.raises(TransitionNotAllowed):
        service.take_transition(requester, key, "auto_close")
    service.take_transition(Actor.system(), key, "auto_close")
    assert service.get_ticket(tech, key).state == "closed"
    notes = [c for c in service.list_comments(tech, key) if not c.public]
    assert len(notes) == 1 and "Closed automatically" in notes[0].body
    assert notes[0].author is None
    assert service.list_comments(requester, key) == []


def test_on_enter_notify_becomes_an_outbox_row(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = in_progress(service, requester, agent)
    before = len(outbox(service.db))
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    rows = outbox(service.db)[before:]
    assert ("notify", {"ticket": key, "target": "requester", "template": "resolved",
                       "source": "on_enter:resolved"}) in rows  # fmt: skip
    assert [topic for topic, _ in rows] == ["ticket.transitioned", "notify"]


def test_on_enter_tags_and_notifies_an_address(
    db: Database, service: TicketService, requester: Actor
) -> None:
    tech = make_user(db, "he.ping@example.com", teams=("maintenance_crew",))
    key = maintenance(service, requester).ticket.key
    service.assign(tech, key, team="maintenance_crew", assignee=tech.email)
    service.take_transition(tech, key, "dispatch")
    result = service.take_transition(
        tech, key, "order_parts", fields={"spare_parts": ["nozzle"]}, comment="Nozzle cracked."
    )
    assert result.ticket.state == "waiting_parts"
    assert "waiting_parts" in result.ticket.tags
    tagged = next(e for e in result.events if e.kind == "ticket.updated")
    assert tagged.after["tags"] == ["waiting_parts"]
    assert tagged.detail["source"] == "on_enter:waiting_parts"
    targets = [p["target"] for topic, p in outbox(db) if topic == "notify"]
    assert "spare.parts@example.com" in targets


def test_on_enter_of_the_initial_state_runs_at_creation(
    service: TicketService, requester: Actor
) -> None:
    """The approval workflow asks the approver as a request enters awaiting_approval,
    including when it is first created."""
    make_user(service.db, "boss@example.com")
    key = access_request(service, requester, "boss@example.com").ticket.key
    notified = [
        (p["target"], p["template"]) for topic, p in outbox(service.db)
        if topic == "notify" and p["ticket"] == key
    ]  # fmt: skip
    assert notified == [("field:approver", "approval_request")]


# Chained transitions ---------------------------------------------------------------

CHAINED = """\
kind: Workflow
id: basic
initial: new
states:
  new: {category: new}
  open: {category: open}
  waiting: {category: pending}
  done: {category: resolved}
  closed: {category: closed}
transitions:
  - id: start
    from: [new]
    to: open
    actions: [{transition: finish}]
  - id: finish
    from: [open]
    to: done
  - id: ping
    from: [done]
    to: waiting
    actions: [{transition: pong}]
  - id: pong
    from: [waiting]
    to: done
    actions: [{transition: ping}]
  - id: approve
    from: [open]
    to: done
    roles: [field:approver]
    fields: [amount]
  - id: close
    from: [done]
    to: closed
    after: 72h
"""


@pytest.fixture
def chained(db: Database, tmp_path: Path) -> TicketService:
    return TicketService(
        db,
        load_bundle(
            make_bundle(tmp_path, {"workflows/basic.yaml": CHAINED, "routing/default.yaml": None})
        ),
    )


def test_chained_transition_runs_in_the_same_write(chained: TicketService, db: Database) -> None:
    agent = make_user(db, "li.wei@example.com")
    key = chained.create_ticket(
        agent, "incident", title="Disk full", fields={"category": "software"}
    ).ticket.key
    result = chained.take_transition(agent, key, "start")
    assert result.ticket.state == "done"
    moves = [(e.after["state"], e.actor) for e in result.events if e.kind == "ticket.transitioned"]
    assert moves == [("open", agent.email), ("done", None)]


def test_transition_loop_is_stopped(chained: TicketService, db: Database) -> None:
    agent = make_user(db, "li.wei@example.com")
    key = chained.create_ticket(
        agent, "incident", title="Disk full", fields={"category": "software"}
    ).ticket.key
    chained.take_transition(agent, key, "start")
    result = chained.take_transition(agent, key, "ping")
    kinds = [e.kind for e in result.events]
    assert kinds.count("ticket.transitioned") == MAX_CHAIN
    assert kinds.count("action.stopped") == 1
    ticket = chained.get_ticket(agent, key)
    assert ticket.state == result.ticket.state == "waiting"
    history = [e.after.get("state") for e in chained.list_events(agent, key)]
    assert history[-MAX_CHAIN - 1 : -1] == ["waiting", "done", "waiting", "done", "waiting"]


# Approval --------------------------------------------------------------------------


@pytest.fixture
def manager(db: Database) -> Actor:
    return make_user(db, "boss@example.com")


def test_only_the_named_approver_may_approve(
    db: Database, service: TicketService, requester: Actor, agent: Actor, manager: Actor
) -> None:
    admin = make_user(db, "root@example.com", "admin")
    key = access_request(service, requester, manager.email or "").ticket.key
    for someone in (agent, admin, requester):
        with pytest.raises(TransitionNotAllowed, match="field:approver"):
            service.take_transition(someone, key, "approve")
    assert service.get_ticket(agent, key).state == "awaiting_approval"
    assert [t.id for t in service.transitions_for(agent, key)] == ["ask_requester", "withdraw"]
    assert [t.id for t in service.transitions_for(manager, key)] == [
        "approve",
        "reject",
        "ask_requester",
        "withdraw",
    ]
    approved = service.take_transition(manager, key, "approve", comment="OK for Q4.")
    assert approved.ticket.state == "approved"
    event = next(e for e in approved.events if e.kind == "ticket.transitioned")
    assert event.actor == manager.email
    notified = [(p["target"], p["template"]) for t, p in outbox(db) if t == "notify"]
    assert ("requester", "request_approved") in notified
    assert ("team", "ready_to_provision") in notified


def test_approver_named_with_other_letter_case_may_approve(
    service: TicketService, requester: Actor, manager: Actor
) -> None:
    key = access_request(service, requester, "Boss@Example.com").ticket.key
    assert service.take_transition(manager, key, "approve").ticket.state == "approved"


def test_rejection_needs_a_reason(service: TicketService, requester: Actor, manager: Actor) -> None:
    key = access_request(service, requester, manager.email or "").ticket.key
    with pytest.raises(ValidationFailed) as caught:
        service.take_transition(manager, key, "reject")
    assert set(caught.value.fields) == {"comment"}
    rejected = service.take_transition(manager, key, "reject", comment="Use the BI reports.")
    assert rejected.ticket.state == "rejected" and rejected.ticket.state_category == "closed"


# Guards on time --------------------------------------------------------------------

AGED = (MINIMAL / "workflows/basic.yaml").read_text(encoding="utf-8")
AGED = AGED.replace(
    "  - id: wait\n    from: [open]\n    to: waiting\n",
    "  - id: wait\n    from: [open]\n    to: waiting\n    when: {created_at: {older_than: 1h}}\n",
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_guard_on_the_tickets_age(db: Database, tmp_path: Path) -> None:
    """A guard on the ticket's age holds once the ticket is old enough."""
    assert "older_than" in AGED
    clock = Clock()
    service = TicketService(
        db,
        load_bundle(
            make_bundle(tmp_path, {"workflows/basic.yaml": AGED, "routing/default.yaml": None})
        ),
        clock=clock,
    )
    agent = make_user(db, "li.wei@example.com")
    key = service.create_ticket(
        agent, "incident", title="Disk full", fields={"category": "software"}
    ).ticket.key
    clock.now = NOW + timedelta(minutes=10)
    service.take_transition(agent, key, "start")
    assert "wait" not in [t.id for t in service.transitions_for(agent, key)]
    with pytest.raises(TransitionNotAllowed, match="conditions of 'wait'"):
        service.take_transition(agent, key, "wait")
    clock.now = NOW + timedelta(hours=2)
    assert "wait" in [t.id for t in service.transitions_for(agent, key)]
    assert service.take_transition(agent, key, "wait").ticket.state == "waiting"


def test_a_manager_without_an_agent_account_approves_what_names_them(
    db: Database, service: TicketService, requester: Actor
) -> None:
    """Line managers are often requesters, not agents: being named as approver lets them
    see that request (and only it) and decide on it."""
    boss = make_user(db, "boss.requester@example.com", "requester")
    other = make_user(db, "someone.else@example.com", "requester")
    key = access_request(service, requester, "Boss.Requester@example.com").ticket.key
    assert service.get_ticket(boss, key).key == key
    assert [t.key for t in service.list_tickets(boss).items] == [key]
    with pytest.raises(NotFound):
        service.get_ticket(other, key)
    assert "approve" in [t.id for t in service.transitions_for(boss, key)]
    assert service.take_transition(boss, key, "approve").ticket.state != "awaiting_approval"


def test_nobody_approves_their_own_request(service: TicketService, requester: Actor) -> None:
    key = access_request(service, requester, requester.email or "").ticket.key
    with pytest.raises(TransitionNotAllowed):
        service.take_transition(requester, key, "approve")
