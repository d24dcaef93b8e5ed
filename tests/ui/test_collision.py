"""The collision warning on the desk's ticket page (TestClient, SQLite and PostgreSQL):
the page polls who else is viewing and what others changed since it was loaded (htmx,
no inline script), and a reply sent on a ticket changed meanwhile shows what changed
first; sending it again confirms."""

from __future__ import annotations

import re

import pytest

from gongdan.rules.workflow import Actor
from tests.factories import incident
from tests.ui.conftest import Web

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(web: Web) -> dict[str, Actor]:
    return {
        "li": web.user("li.wei@example.com", "agent", teams=("service_desk",)),
        "wang": web.user("wang.fang@example.com", "agent", teams=("service_desk",)),
        "requester": web.user("zhang.san@example.com", "requester"),
    }


def _seen(html: str) -> str:
    found = re.search(r'name="seen" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def _key(web: Web, people: dict[str, Actor]) -> str:
    key = incident(web.service, people["requester"], title="Printer offline").ticket.key
    web.service.assign(people["li"], key, team="service_desk", assignee="")
    return key


def test_the_page_polls_and_names_the_other_viewers(web: Web, people: dict[str, Actor]) -> None:
    key = _key(web, people)
    li, wang = web.client("li.wei@example.com"), web.client("wang.fang@example.com")
    page = li.get(f"/desk/tickets/{key}").text
    seen = _seen(page)
    assert f'hx-get="/desk/tickets/{key}/activity?seen={seen}"' in page
    assert 'hx-trigger="every 10s"' in page and "<script>" not in page
    first = li.get(f"/desk/tickets/{key}/activity?seen={seen}", headers=HTMX).text
    assert "Also viewing" not in first
    wang.get(f"/desk/tickets/{key}/activity?seen={seen}", headers=HTMX)
    both = li.get(f"/desk/tickets/{key}/activity?seen={seen}", headers=HTMX).text
    assert "Also viewing this ticket:" in both and "wang.fang" in both.lower()
    # A reply by the other agent shows up at the next poll.
    web.service.add_comment(people["wang"], key, "I am on it")
    changed = li.get(f"/desk/tickets/{key}/activity?seen={seen}", headers=HTMX).text
    assert "Others changed this ticket since you opened it" in changed
    assert "replied" in changed and "Reload the ticket" in changed
    # An agent's own changes are no collision.
    own = wang.get(f"/desk/tickets/{key}/activity?seen={seen}", headers=HTMX).text
    assert "Others changed" not in own
    outsider = web.user("zhao.lei@example.com", "agent", teams=("field_service",))
    assert outsider is not None
    hidden = web.client("zhao.lei@example.com").get(f"/desk/tickets/{key}/activity?seen=0")
    assert hidden.status_code == 404


def test_a_reply_to_a_changed_ticket_shows_the_change_first(
    web: Web, people: dict[str, Actor]
) -> None:
    key = _key(web, people)
    li = web.client("li.wei@example.com")
    seen = _seen(li.get(f"/desk/tickets/{key}").text)
    web.service.add_comment(people["wang"], key, "Replaced the toner already")
    reply = {"body": "Please restart the printer", "visibility": "public", "seen": seen}
    held = li.send_form(f"/desk/tickets/{key}/comments", reply, headers=HTMX)
    assert held.status_code == 409
    assert "The ticket changed while you were writing" in held.text
    assert "Replaced the toner already" in held.text  # what changed, in full
    assert "Please restart the printer" in held.text  # the reply is kept
    bodies = [c.body for c in web.service.read_ticket_page(people["li"], key).comments]
    assert bodies == ["Replaced the toner already"]
    # Sending again (here edited) confirms.
    again = {**reply, "body": "Toner replaced: please restart it", "confirmed": "1"}
    sent = li.send_form(f"/desk/tickets/{key}/comments", again, headers=HTMX)
    assert sent.status_code == 200
    bodies = [c.body for c in web.service.read_ticket_page(people["li"], key).comments]
    assert bodies[-1] == "Toner replaced: please restart it"
    # Unchanged since the page was read: sent at once.
    fresh = _seen(li.get(f"/desk/tickets/{key}").text)
    quick = {"body": "Thanks", "visibility": "public", "seen": fresh}
    assert li.send_form(f"/desk/tickets/{key}/comments", quick, headers=HTMX).status_code == 200
