"""The audit trail: every change is an event (who, when, before, after) written in the
same transaction, the events of a ticket replay to exactly the ticket as it is, and the
database itself refuses to change or delete an event.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from gongdan.bundle.compiled import Bundle
from gongdan.engine.records import EventRecord, TicketRecord
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Comment, Event, Outbox
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import StepClock, incident, make_user

BUILT_IN = ("state", "priority", "title", "description", "assignee", "team", "tags")


@pytest.fixture
def clocked(db: Database, example_bundle: Bundle) -> TicketService:
    return TicketService(db, example_bundle, clock=StepClock())


def replay(events: list[EventRecord]) -> dict[str, Any]:
    """The ticket as its events say it is: the created snapshot plus every change."""
    created, *changes = events
    assert created.kind == "ticket.created"
    ticket = {name: created.after[name] for name in BUILT_IN}
    ticket["data"] = dict(created.after["data"])
    for event in changes:
        for name, value in event.after.items():
            if name in BUILT_IN:
                assert ticket[name] == event.before[name], (event.kind, name)
                ticket[name] = value
            elif name in ticket["data"] or value is not None or name in event.before:
                if value is None:
                    ticket["data"].pop(name, None)
                else:
                    ticket["data"][name] = value
    return ticket


def as_replayed(record: TicketRecord) -> dict[str, Any]:
    return {
        "state": record.state,
        "priority": record.priority,
        "title": record.title,
        "description": record.description,
        "assignee": record.assignee,
        "team": record.team,
        "tags": list(record.tags),
        "data": dict(record.data),
    }


def test_history_reconstructs_every_state_in_order(db: Database, clocked: TicketService) -> None:
    service = clocked
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = incident(service, requester).ticket.key
    steps: list[tuple[Actor, str, dict[str, Any]]] = [
        (agent, "start", {}),
        (agent, "ask_requester", {"comment": "Which Outlook version?"}),
        (requester, "requester_replied", {"comment": "Outlook 2021."}),
        (agent, "resolve", {"fields": {"resolution_code": "fixed"}, "comment": "Patched."}),
        (requester, "reopen", {"comment": "Crashed again."}),
        (agent, "resolve", {"fields": {"resolution_code": "replaced"}, "comment": "New PC."}),
        (requester, "close", {}),
    ]
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    for who, transition, values in steps:
        service.take_transition(who, key, transition, **values)

    events = service.list_events(agent, key)
    moves = [e for e in events if e.kind == "ticket.transitioned"]
    path = [events[0].after["state"]] + [e.after["state"] for e in moves]
    assert path == [
        "new",
        "in_progress",
        "waiting_customer",
        "in_progress",
        "resolved",
        "in_progress",
        "resolved",
        "closed",
    ]
    assert [e.before["state"] for e in moves] == path[:-1]
    assert [(e.actor, e.detail["transition"]) for e in moves] == [
        (who.email, transition) for who, transition, _ in steps
    ]
    assert events[0].actor == requester.email
    stamps = [e.at for e in events]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert replay(events) == as_replayed(service.get_ticket(agent, key))


def test_history_replays_field_edits_assignments_and_actions(
    db: Database, clocked: TicketService
) -> None:
    service = clocked
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    other = make_user(db, "wang.fang@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    key = incident(service, requester).ticket.key
    service.update_ticket(agent, key, {"impact": "company", "tags": ["outlook"]})  # rule: urgent
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    service.assign(other, key, assignee=other.email)
    service.update_ticket(other, key, {"title": "Outlook crashes for everyone"})
    service.assign(other, key, assignee="")
    service.update_ticket(agent, key, {"priority": "high", "description": ""})
    events = service.list_events(agent, key)
    ticket = service.get_ticket(agent, key)
    assert ticket.priority == "high" and ticket.assignee is None
    assert replay(events) == as_replayed(ticket)
    reassigned = [e for e in events if e.kind == "ticket.assigned"]
    assert [(e.actor, e.before.get("assignee"), e.after.get("assignee")) for e in reassigned] == [
        (agent.email, None, agent.email),
        (other.email, agent.email, other.email),
        (other.email, other.email, None),
    ]
    urgent = events[1]
    assert (urgent.before["priority"], urgent.after["priority"]) == ("normal", "urgent")


def test_write_returns_the_events_it_appended(db: Database, service: TicketService) -> None:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    key = incident(service, agent, requester="zhang.san@example.com").ticket.key
    before = service.list_events(agent, key)
    result = service.take_transition(agent, key, "ask_requester", comment="Screenshot please.")
    assert list(result.events) == service.list_events(agent, key)[len(before) :]
    assert [e.kind for e in result.events] == ["ticket.transitioned"]


def test_refused_write_leaves_no_event_and_no_outbox_row(
    db: Database, service: TicketService
) -> None:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    key = incident(service, agent, requester="zhang.san@example.com").ticket.key

    def count(model: type[Event | Outbox | Comment]) -> int:
        with db.reading() as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)

    service.assign(agent, key, assignee=agent.email)
    counts = (count(Event), count(Outbox), count(Comment))
    with pytest.raises(ValidationFailed):
        # The comment is fine, the resolution code is not: nothing at all is written.
        service.take_transition(
            agent, key, "resolve", fields={"resolution_code": "?"}, comment="Done."
        )
    assert (count(Event), count(Outbox), count(Comment)) == counts
    assert service.get_ticket(agent, key).state == "new"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET kind = 'ticket.deleted' WHERE id = :id",
        "UPDATE events SET after = before WHERE id = :id",
        "DELETE FROM events WHERE id = :id",
        "DELETE FROM events",
    ],
)
def test_events_are_append_only_in_the_database(
    db: Database, service: TicketService, statement: str
) -> None:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    key = incident(service, agent, requester="zhang.san@example.com").ticket.key
    (created,) = service.list_events(agent, key)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text(statement), {"id": created.id})
    assert service.list_events(agent, key) == [created]
