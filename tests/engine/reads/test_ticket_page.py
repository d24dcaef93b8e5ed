"""`TicketService.read_ticket_page`: the desk's page of a ticket and the portal's (the
requester's view, whoever looks) read in one session from the same reads as the
service's single ones, with the people it names read in one statement whatever their
number.
"""

from __future__ import annotations

from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import STAFF_ROLES
from tests.factories import after_sales, incident, make_user
from tests.sql import StatementRecorder


def _people(db: Database) -> tuple[Actor, Actor]:
    agent = make_user(db, "li.wei@example.com", teams=("service_desk", "after_sales"))
    requester = make_user(db, "zhang.san@example.com", "requester")
    return agent, requester


def test_the_desk_page_is_the_single_reads_in_one(db: Database, service: TicketService) -> None:
    agent, requester = _people(db)
    key = incident(service, requester).ticket.key
    service.add_comment(agent, key, "Looking into it")
    service.add_comment(agent, key, "Probably the update", public=False)
    page = service.read_ticket_page(agent, key)
    assert page.ticket == service.get_ticket(agent, key)
    assert page.transitions == tuple(service.transitions_for(agent, key))
    assert page.comments == tuple(service.list_comments(agent, key))
    assert page.events == tuple(service.list_events(agent, key))
    assert page.attachments == tuple(service.list_attachments(agent, key))
    assert [c.public for c in page.comments] == [True, False]
    assert page.assignable and page.surveys == ()


def test_the_portal_page_is_the_requesters_view_whoever_looks(
    db: Database, service: TicketService
) -> None:
    agent, requester = _people(db)
    key = after_sales(service, requester).ticket.key
    service.update_ticket(agent, key, {"inspection_notes": "Scratched lid"})  # internal
    service.add_comment(agent, key, "We received it")
    service.add_comment(agent, key, "Customer seems annoyed", public=False)
    for reader in (requester, agent):
        page = service.read_ticket_page(reader, key, portal=True)
        assert "inspection_notes" not in page.ticket.data
        assert [c.body for c in page.comments] == ["We received it"]
        assert all(t.roles - STAFF_ROLES for t in page.transitions)
        assert page.events == () and page.assignable == () and page.deliveries == ()
    # The agent's own view of the same ticket keeps what only staff see.
    desk = service.read_ticket_page(agent, key)
    assert desk.ticket.data["inspection_notes"] == "Scratched lid" and len(desk.comments) == 2
    assert service.transitions_for(agent, key, portal=True) == list(page.transitions)


def test_the_page_reads_its_people_at_once_however_many_there_are(
    db: Database, service: TicketService, statements: StatementRecorder
) -> None:
    agent, requester = _people(db)
    key = incident(service, requester).ticket.key
    service.add_comment(agent, key, "First answer")

    def cost() -> int:
        with statements.recording(db) as seen:
            service.read_ticket_page(agent, key)
        return len(seen)

    few = cost()
    for n in range(6):
        colleague = make_user(db, f"agent{n}@example.com", teams=("service_desk",))
        service.add_comment(colleague, key, f"Note {n}", public=n % 2 == 0)
        service.update_ticket(colleague, key, {"tags": [f"t{n}"]})
    assert cost() == few
