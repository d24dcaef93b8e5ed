"""A field that holds people takes only existing, active accounts: an approver nobody
can ever be is refused when the ticket is created or changed."""

from __future__ import annotations

import pytest

from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import access_request, make_user


def test_an_unknown_or_inactive_approver_is_refused(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        access_request(service, requester, "nobody@example.com")
    assert caught.value.fields == {"approver": "no active user 'nobody@example.com'"}
    assert service.list_tickets(agent).items == ()

    make_user(db, "boss@example.com", "agent")
    key = access_request(service, requester, "Boss@Example.com").ticket.key
    assert service.get_ticket(agent, key).data["approver"] == "boss@example.com"
    with pytest.raises(ValidationFailed) as changed:
        service.update_ticket(agent, key, {"approver": "ghost@example.com"})
    assert "approver" in changed.value.fields
    assert service.get_ticket(agent, key).data["approver"] == "boss@example.com"
