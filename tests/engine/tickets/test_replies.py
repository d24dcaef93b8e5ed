"""A requester's reply once the work is done: a resolved ticket is reopened by the
workflow's `reopen` transition; a closed one gets a follow-up ticket linked to it,
where the reply goes. Staff replies never move a ticket."""

from __future__ import annotations

from gongdan.engine.service import TicketService
from gongdan.rules.workflow import Actor
from tests.factories import incident


def _resolved(service: TicketService, requester: Actor, agent: Actor) -> str:
    key = incident(service, requester).ticket.key
    service.assign(agent, key, assignee=agent.email)
    service.take_transition(agent, key, "start")
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Reinstalled it."
    )
    assert service.get_ticket(agent, key).state == "resolved"
    return key


def test_a_requester_reply_reopens_a_resolved_ticket(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = _resolved(service, requester, agent)
    result = service.add_comment(requester, key, "It crashes again since this morning.")
    assert result.ticket.key == key and result.ticket.state == "in_progress"
    assert result.comment is not None and result.comment.ticket_key == key
    bodies = [c.body for c in service.list_comments(agent, key)]
    assert bodies.count("It crashes again since this morning.") == 1
    kinds = [e.kind for e in service.list_events(agent, key)]
    assert "ticket.transitioned" in kinds[-3:]


def test_a_staff_reply_leaves_a_resolved_ticket_resolved(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = _resolved(service, requester, agent)
    service.add_comment(agent, key, "Glad it works.")
    assert service.get_ticket(agent, key).state == "resolved"


def test_a_requester_reply_to_a_closed_ticket_starts_a_linked_follow_up(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = _resolved(service, requester, agent)
    service.take_transition(agent, key, "close")
    result = service.add_comment(requester, key, "The same crash is back.")
    new = result.ticket
    assert new.key != key and (new.type, new.requester) == ("it_incident", requester.email)
    assert new.state_category == "new" and new.title == "Outlook keeps crashing"
    assert result.comment is not None and result.comment.ticket_key == new.key
    assert [c.body for c in service.list_comments(agent, new.key)] == ["The same crash is back."]
    assert service.get_ticket(agent, key).state == "closed"  # the closed one stays closed
    links = {(link.kind, link.key) for link in service.list_links(agent, new.key)}
    assert links == {("follow_up_of", key)}
    assert service.list_events(agent, key)[-1].after == {"by": new.key}


def test_a_requester_reply_to_a_merged_ticket_goes_to_the_survivor(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    survivor = incident(service, requester, title="Mail down").ticket.key
    duplicate = incident(service, requester, title="Mail down again").ticket.key
    service.merge(agent, duplicate, survivor)
    result = service.add_comment(requester, duplicate, "Any news?")
    assert result.ticket.key == survivor
    assert [c.body for c in service.list_comments(agent, survivor)] == ["Any news?"]
    assert service.list_comments(agent, duplicate) == []
