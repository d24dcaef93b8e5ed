"""Creating tickets, assigning them and commenting on them through the service: keys,
initial state and defaults, tickets logged for a customer, assignment rules, public
replies and internal notes, and the outbox rows each write leaves.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.errors import NotFound, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import NOW, access_request, incident, maintenance, make_user, outbox


@pytest.fixture
def frozen(db: Database, example_bundle: Bundle) -> TicketService:
    return TicketService(db, example_bundle, clock=lambda: NOW)


def test_new_ticket_starts_in_the_initial_state_with_defaults(
    frozen: TicketService, requester: Actor, agent: Actor
) -> None:
    created = incident(frozen, requester)  # (tags are staff's: test_requester_builtins)
    for ticket in (created.ticket, frozen.get_ticket(agent, created.ticket.key)):
        assert (ticket.key, ticket.type, ticket.state, ticket.state_category) == (
            "INC-1",
            "it_incident",
            "new",
            "new",
        )
        assert (ticket.priority, ticket.requester, ticket.assignee, ticket.team) == (
            "normal",
            requester.email,
            None,
            None,
        )
        assert ticket.tags == () and ticket.version == 1
        assert ticket.config_version == frozen.bundle.version
        assert ticket.created_at == ticket.updated_at == NOW
        assert ticket.created_at.utcoffset() is not None  # aware, on SQLite too
        assert ticket.problems == ()
    (event,) = created.events
    assert (event.kind, event.actor, event.at) == ("ticket.created", requester.email, NOW)
    assert event.after["state"] == "new" and event.after["data"] == dict(created.ticket.data)
    assert outbox(frozen.db) == [("ticket.created", {"ticket": "INC-1", "type": "it_incident"})]


def test_keys_are_numbered_per_type(service: TicketService, requester: Actor) -> None:
    make_user(service.db, "boss@example.com")  # the approver
    made = [
        incident(service, requester).ticket.key,
        maintenance(service, requester).ticket.key,
        incident(service, requester).ticket.key,
        access_request(service, requester, "boss@example.com").ticket.key,
        maintenance(service, requester).ticket.key,
    ]
    assert made == ["INC-1", "MNT-1", "INC-2", "ACC-1", "MNT-2"]


def test_refused_creation_uses_no_number(service: TicketService, requester: Actor) -> None:
    with pytest.raises(ValidationFailed):
        incident(service, requester, fields={"category": "printer"})
    assert incident(service, requester).ticket.key == "INC-1"


def test_agent_logs_a_ticket_for_a_new_customer(
    db: Database, service: TicketService, agent: Actor
) -> None:
    created = incident(service, agent, requester=" Wang.Wu@Example.com ")
    assert created.ticket.requester == "wang.wu@example.com"
    with db.reading() as session:
        customer = session.scalar(select(User).where(User.email == "wang.wu@example.com"))
        assert customer is not None and customer.role == "requester"
    assert incident(service, agent, requester="wang.wu@example.com").ticket.key == "INC-2"
    with pytest.raises(ValidationFailed) as caught:
        incident(service, agent, requester="wang.wu")
    assert "requester" in caught.value.fields


def test_agent_sets_priority_team_and_assignee_on_creation(
    db: Database, service: TicketService, agent: Actor
) -> None:
    created = incident(
        service,
        agent,
        requester="zhang.san@example.com",
        priority="high",
        team="service_desk",
        assignee=agent.email,
    )
    assert (created.ticket.priority, created.ticket.team, created.ticket.assignee) == (
        "high",
        "service_desk",
        agent.email,
    )
    # The customer is new: their account is created in the same write.
    assert [e.kind for e in created.events] == ["user.created", "ticket.created"]
    assert created.events[1].after["assignee"] == agent.email


@pytest.mark.parametrize(
    ("team", "assignee", "field"),
    [
        ("servicedesk", None, "team"),
        ("field_service", "li.wei@example.com", "assignee"),  # not in that team
        ("service_desk", "zhang.san@example.com", "assignee"),  # a requester
        (None, "nobody@example.com", "assignee"),
    ],
)
def test_assignment_rules(
    service: TicketService,
    requester: Actor,
    agent: Actor,
    team: str | None,
    assignee: str | None,
    field: str,
) -> None:
    key = incident(service, requester).ticket.key
    with pytest.raises(ValidationFailed) as caught:
        service.assign(agent, key, team=team, assignee=assignee)
    assert field in caught.value.fields
    ticket = service.get_ticket(agent, key)
    assert (ticket.team, ticket.assignee, ticket.version) == (None, None, 1)
    with pytest.raises(ValidationFailed):
        incident(service, agent, requester=requester.email, team=team, assignee=assignee)


def test_assign_and_unassign(service: TicketService, requester: Actor, agent: Actor) -> None:
    key = incident(service, requester).ticket.key
    assigned = service.assign(agent, key, team="service_desk", assignee=agent.email)
    (event,) = assigned.events
    assert (dict(event.before), dict(event.after)) == (
        {"team": None, "assignee": None},
        {"team": "service_desk", "assignee": agent.email},
    )
    assert service.assign(agent, key, team="service_desk").events == ()  # nothing changed
    cleared = service.assign(agent, key, assignee="")
    assert cleared.ticket.assignee is None and cleared.ticket.team == "service_desk"
    topics = [topic for topic, _ in outbox(service.db)]
    assert topics.count("ticket.assigned") == 2


def test_public_reply_and_internal_note(
    frozen: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(frozen, requester).ticket.key
    reply = frozen.add_comment(agent, key, "  Please restart Outlook.  ")
    assert reply.comment is not None
    assert (reply.comment.body, reply.comment.public, reply.comment.author) == (
        "Please restart Outlook.",
        True,
        agent.email,
    )
    assert reply.comment.created_at == NOW
    note = frozen.add_comment(agent, key, "Known bug KB-12.", public=False)
    assert note.comment is not None and note.comment.public is False
    assert [(c.body, c.public) for c in frozen.list_comments(agent, key)] == [
        ("Please restart Outlook.", True),
        ("Known bug KB-12.", False),
    ]
    # Only the public reply goes out (notifications): the note stays inside.
    comment_rows = [p for topic, p in outbox(frozen.db) if topic == "comment.added"]
    assert [(p["ticket"], p["by_staff"]) for p in comment_rows] == [(key, True)]


def test_empty_or_oversized_comment_is_refused(service: TicketService, requester: Actor) -> None:
    key = incident(service, requester).ticket.key
    for body in ("", "  \n\t ", "x" * 100_001, "bad\x00byte"):
        with pytest.raises(ValidationFailed) as caught:
            service.add_comment(requester, key, body)
        assert "comment" in caught.value.fields
    assert service.list_comments(requester, key) == []


def test_unknown_key_is_not_found(service: TicketService, agent: Actor) -> None:
    for call in (
        lambda: service.get_ticket(agent, "INC-404"),
        lambda: service.add_comment(agent, "INC-404", "Hello?"),
        lambda: service.take_transition(agent, "INC-404", "start"),
        lambda: service.update_ticket(agent, "INC-404", {"title": "x"}),
    ):
        with pytest.raises(NotFound):
            call()


def test_description_is_checked(service: TicketService, requester: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        incident(service, requester, description="x" * 100_001)
    assert "description" in caught.value.fields
    chinese = incident(service, requester, title="打印机卡纸", description="三楼 HP 打印机")
    assert chinese.ticket.title == "打印机卡纸"
