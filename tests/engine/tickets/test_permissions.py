"""Who sees and does what, through every read and write of the service.

Requesters see only their own tickets, never an internal comment, an internal event or
the value of an internal field (not in the ticket, not in its history, not through a
list filter). Agents see their teams' tickets, tickets assigned to them and tickets in
no team yet; admins see everything. A ticket the caller may not see is `NotFound`, the
same answer as for a key that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gongdan.engine.reads.queries import FieldFilter, TicketQuery
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import after_sales, incident, make_user


@pytest.fixture
def alice(db: Database) -> Actor:
    return make_user(db, "alice@example.com", "requester")


@pytest.fixture
def bob(db: Database) -> Actor:
    return make_user(db, "bob@example.com", "requester")


def keys(service: TicketService, who: Actor, query: TicketQuery | None = None) -> set[str]:
    return {t.key for t in service.list_tickets(who, query).items}


def every_read_and_write(service: TicketService, who: Actor, key: str) -> list[Callable[[], Any]]:
    return [
        lambda: service.get_ticket(who, key),
        lambda: service.list_comments(who, key),
        lambda: service.list_events(who, key),
        lambda: service.transitions_for(who, key),
        lambda: service.take_transition(who, key, "withdraw"),
        lambda: service.add_comment(who, key, "Any news?"),
        lambda: service.update_ticket(who, key, {"title": "Mine now"}),
    ]


# Requesters ------------------------------------------------------------------------


def test_requester_never_reaches_another_requesters_ticket(
    service: TicketService, alice: Actor, bob: Actor, agent: Actor
) -> None:
    theirs = incident(service, alice, title="Alice's laptop").ticket.key
    mine = incident(service, bob).ticket.key
    for call in every_read_and_write(service, bob, theirs):
        with pytest.raises(NotFound) as caught:
            call()
        assert str(caught.value) == f"no ticket '{theirs}'"  # same as for a missing key
    assert keys(service, bob) == {mine}
    assert keys(service, bob, TicketQuery(text="Alice")) == set()
    assert keys(service, bob, TicketQuery(requester="alice@example.com")) == set()
    assert service.get_ticket(alice, theirs).state == "new"
    assert len(service.list_events(agent, theirs)) == 1  # nothing happened to it


def test_requester_lists_only_their_own_in_every_page(
    service: TicketService, alice: Actor, bob: Actor
) -> None:
    for n in range(7):
        incident(service, alice if n % 2 else bob, title=f"Ticket {n}")
    seen: list[str] = []
    cursor = None
    while True:
        page = service.list_tickets(bob, TicketQuery(limit=2, cursor=cursor))
        seen += [t.requester for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["bob@example.com"] * 4


def test_requester_never_sees_internal_comments(
    service: TicketService, alice: Actor, agent: Actor
) -> None:
    key = incident(service, alice).ticket.key
    service.add_comment(agent, key, "Known Outlook bug, see KB-12.", public=False)
    service.add_comment(agent, key, "Please restart Outlook.")
    reply = service.add_comment(alice, key, "Restarted, still broken.")
    assert [c.body for c in service.list_comments(alice, key)] == [
        "Please restart Outlook.",
        "Restarted, still broken.",
    ]
    assert len(service.list_comments(agent, key)) == 3
    events = service.list_events(alice, key)
    assert not any(e.internal for e in events)
    assert [e.kind for e in events] == ["ticket.created", "comment.added", "comment.added"]
    assert all(not e.internal for e in reply.events)
    with pytest.raises(PermissionDenied):
        service.add_comment(alice, key, "secret", public=False)


def test_requester_never_sees_internal_field_values(
    service: TicketService, alice: Actor, agent: Actor
) -> None:
    key = after_sales(service, alice).ticket.key
    service.update_ticket(
        agent,
        key,
        {"refund_amount": "3999.00", "inspection_notes": "Screen scratched by the customer."},
    )
    assert service.get_ticket(agent, key).data["refund_amount"] == "3999.00"
    ticket = service.get_ticket(alice, key)
    assert "refund_amount" not in ticket.data and "inspection_notes" not in ticket.data
    (listed,) = service.list_tickets(alice).items
    assert "refund_amount" not in listed.data
    history = repr(service.list_events(alice, key))
    # The amount as stored (a bare "3999" may be in a timestamp's microseconds).
    assert "3999.00" not in history and "scratched" not in history
    assert "refund_amount" not in history


def test_internal_fields_are_hidden_in_a_created_snapshot(
    service: TicketService, alice: Actor, agent: Actor
) -> None:
    """Staff may log a ticket for a customer with internal fields already filled."""
    key = after_sales(
        service,
        agent,
        requester=alice.email,
        fields={"under_warranty": True, "inspection_notes": "Known batch defect."},
    ).ticket.key
    assert service.get_ticket(agent, key).data["under_warranty"] is True
    history = repr(service.list_events(alice, key))
    assert "batch defect" not in history and "under_warranty" not in history


def test_requester_cannot_filter_on_internal_fields(
    service: TicketService, alice: Actor, agent: Actor
) -> None:
    """A filter would reveal the hidden value by which tickets it returns."""
    key = after_sales(service, alice).ticket.key
    service.update_ticket(agent, key, {"refund_amount": "3999.00"})
    query = TicketQuery(fields=(FieldFilter("refund_amount", "gt", 3000),))
    assert keys(service, agent, query) == {key}
    with pytest.raises(ValidationFailed) as caught:
        service.list_tickets(alice, query)
    assert "refund_amount" in caught.value.fields


def test_merged_history_of_another_requesters_ticket_stays_hidden(
    service: TicketService, alice: Actor, bob: Actor, agent: Actor
) -> None:
    target = incident(service, alice, title="Outlook crashes").ticket.key
    source = incident(
        service, bob, title="Mail crashes on the merger memo", description="Project Kunlun"
    ).ticket.key
    service.add_comment(bob, source, "Attaching the Kunlun memo.")
    service.merge(agent, source, target)
    assert source in {e.ticket_key for e in service.list_events(agent, target)}
    history = service.list_events(alice, target)
    assert {e.ticket_key for e in history} == {target}
    assert "Kunlun" not in repr(history) and "merger" not in repr(history)
    assert service.get_ticket(bob, source).merged_into == target
    with pytest.raises(NotFound):
        service.get_ticket(bob, target)


def test_requester_may_not_do_staff_work(service: TicketService, alice: Actor, bob: Actor) -> None:
    key = incident(service, alice).ticket.key
    other = incident(service, alice).ticket.key
    for call in (
        lambda: service.assign(alice, key, team="service_desk"),
        lambda: service.update_ticket(alice, key, {"impact": "company"}),
        lambda: service.link(alice, key, other),
        lambda: service.merge(alice, key, other),
        lambda: service.split(alice, key, title="Part two"),
        lambda: incident(service, alice, priority="urgent"),
        lambda: incident(service, alice, requester="bob@example.com"),
        lambda: service.create_ticket(
            alice,
            "complaint",
            title="Rude driver",
            fields={"channel": "web", "customer_name": "Alice", "complaint_category": "staff"},
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert keys(service, bob) == set()


# Agents ----------------------------------------------------------------------------


def test_agents_see_their_teams_their_own_and_unrouted_tickets(
    db: Database, service: TicketService, alice: Actor, agent: Actor
) -> None:
    fixer = make_user(db, "yang.lei@example.com", teams=("field_service",))
    admin = make_user(db, "root@example.com", "admin")
    unrouted = incident(service, alice, title="Unrouted").ticket.key
    desk = incident(service, alice, title="Desk").ticket.key
    service.assign(admin, desk, team="service_desk")
    field = incident(service, alice, title="Field").ticket.key
    service.assign(admin, field, team="field_service", assignee=fixer.email)
    assert keys(service, agent) == {unrouted, desk}
    assert keys(service, fixer) == {unrouted, field}
    assert keys(service, admin) == {unrouted, desk, field}
    for call in every_read_and_write(service, agent, field):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        service.assign(agent, field, assignee=agent.email)
    assert service.get_ticket(fixer, field).assignee == fixer.email


def test_agent_keeps_a_ticket_assigned_to_them_after_it_changes_team(
    db: Database, service: TicketService, alice: Actor, agent: Actor
) -> None:
    colleague = make_user(db, "wang.fang@example.com", teams=("service_desk",))
    key = incident(service, alice).ticket.key
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    service.assign(agent, key, team="field_service")
    assert service.get_ticket(agent, key).team == "field_service"
    assert key in keys(service, agent)
    assert key not in keys(service, colleague)
    with pytest.raises(NotFound):
        service.get_ticket(colleague, key)
