"""One ticket through its life on both databases (detailed tests live beside this)."""

from __future__ import annotations

from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.factories import incident, make_user


def test_create_start_assign_resolve(db: Database, service: TicketService) -> None:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    requester = make_user(db, "zhang.san@example.com", "requester")
    created = incident(service, requester)
    assert created.ticket.key == "INC-1" and created.ticket.state == "new"
    started = service.take_transition(agent, "INC-1", "start")
    assert started.ticket.state == "in_progress"
    service.assign(agent, "INC-1", team="service_desk", assignee="li.wei@example.com")
    resolved = service.take_transition(
        agent, "INC-1", "resolve", fields={"resolution_code": "fixed"}, comment="Reinstalled."
    )
    assert resolved.ticket.state == "resolved"
    assert [e.kind for e in service.list_events(agent, "INC-1")][:2] == [
        "ticket.created",
        "ticket.transitioned",
    ]
