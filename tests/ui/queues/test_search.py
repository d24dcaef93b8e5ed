"""The desk's search box: a key opens its ticket, other text lists the tickets whose
title, description, comments, text fields or requester match (Chinese too), in the
search queue with its filters; scoped exactly as the queues are (SQLite and
PostgreSQL). The API's `q` searches the same way, without a requester's hidden parts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gongdan.engine import TicketQuery
from gongdan.rules.workflow import Actor
from tests.factories import after_sales, incident
from tests.ui.conftest import Web


def _people(web: Web) -> dict[str, Actor]:
    return {
        "agent": web.user("li.wei@example.com", teams=("service_desk",)),
        "fixer": web.user("zhao.lei@example.com", teams=("field_service",)),
        "requester": web.user("zhang.san@example.com", "requester"),
        "admin": web.user("root@example.com", "admin"),
    }


def _ours(web: Web, people: dict[str, Actor], **values: object) -> str:
    """A ticket of the service desk (li.wei's team), not assigned."""
    key = incident(web.service, people["requester"], **values).ticket.key
    web.service.assign(people["admin"], key, team="service_desk", assignee="")
    return key


def _theirs(web: Web, people: dict[str, Actor], **values: object) -> str:
    """A ticket of field service (not li.wei's team)."""
    key = incident(web.service, people["requester"], **values).ticket.key
    web.service.assign(people["admin"], key, team="field_service", assignee="")
    return key


def test_a_key_opens_its_ticket_and_other_text_the_results(web: Web) -> None:
    people = _people(web)
    key = _ours(web, people, title="Printer jams on floor 3")
    hidden = _theirs(web, people, title="Printer out of toner")
    client = web.client("li.wei@example.com")
    assert 'action="/desk/search"' in client.get("/desk/queues").text  # the box on desk pages

    jump = client.get(f"/desk/search?q={key.lower()}")
    assert (jump.status_code, jump.headers["location"]) == (303, f"/desk/tickets/{key}")
    # Another team's key is not a hint that it exists: it is searched as text.
    unseen = client.get(f"/desk/search?q={hidden}")
    assert unseen.headers["location"] == f"/desk/queues/search?q={hidden}"
    assert f"/desk/tickets/{hidden}" not in client.get(unseen.headers["location"]).text

    words = client.get("/desk/search?q=printer")
    assert words.headers["location"] == "/desk/queues/search?q=printer"
    results = client.get("/desk/queues/search?q=printer")
    assert results.status_code == 200 and "Search results" in results.text
    assert f"/desk/tickets/{key}" in results.text
    assert f"/desk/tickets/{hidden}" not in results.text
    assert 'value="printer"' in results.text  # the box keeps what was typed
    assert client.get("/desk/search?q=").headers["location"] == "/desk/queues"
    requester = web.client("zhang.san@example.com")
    assert requester.get("/desk/queues/search?q=printer").status_code == 303  # to the portal


def test_search_finds_comments_fields_requesters_and_chinese_text(web: Web) -> None:
    people = _people(web)
    by_chinese = _ours(web, people, title="打印机卡纸", description="三楼的打印机每天卡纸")
    by_comment = _ours(web, people, title="Slow laptop")
    web.service.add_comment(people["agent"], by_comment, "Looks like a failing 固态硬盘")
    by_field = _ours(
        web, people, title="Dock broken",
        fields={"category": "hardware", "device_serial": "DOCK-7731-ZX", "impact": "me"},
    )  # fmt: skip
    other = web.user("wang.wu@example.com", "requester")
    by_requester = incident(web.service, other, title="VPN").ticket.key
    web.service.assign(people["admin"], by_requester, team="service_desk", assignee="")
    closed = _ours(web, people, title="Old closed 打印机 ticket")
    web.service.take_transition(people["requester"], closed, "withdraw")

    client = web.client("li.wei@example.com")

    def found(text: str, **filters: str) -> set[str]:
        page = client.get("/desk/queues/search", params={"q": text, **filters}).text
        keys = {by_chinese, by_comment, by_field, by_requester, closed}
        return {k for k in keys if f'href="/desk/tickets/{k}"' in page}

    assert found("打印机") == {by_chinese, closed}  # every state, closed too
    assert found("固态硬盘") == {by_comment}
    assert found("dock-7731") == {by_field}  # a custom text field, any case
    assert found("wang.wu@") == {by_requester}
    assert found("打印机", state="new") == {by_chinese}  # with the queue's filters
    assert found("100%") == set() and found("_") == set()  # LIKE wildcards are literal


def test_the_api_q_searches_alike_but_not_what_a_requester_may_not_see(web: Web) -> None:
    people = _people(web)
    rma = after_sales(web.service, people["requester"], title="Return my earbuds").ticket.key
    web.service.update_ticket(people["admin"], rma, {"inspection_notes": "Water damage found"})
    note = _ours(web, people, title="Monitor flickers")
    web.service.add_comment(people["agent"], note, "Suspect the HDMI cable", public=False)

    def keys(who: Actor, text: str) -> set[str]:
        page = web.service.list_tickets(who, TicketQuery(text=text))
        return {t.key for t in page.items}

    assert keys(people["admin"], "water damage") == {rma}
    assert keys(people["requester"], "water damage") == set()  # an internal field
    assert keys(people["admin"], "hdmi") == {note}
    assert keys(people["requester"], "hdmi") == set()  # an internal note
    assert keys(people["requester"], "earbuds") == {rma}
    assert keys(people["fixer"], "monitor") == set()  # another team's ticket


def test_search_box_is_not_shown_to_requesters(web: Web) -> None:
    _people(web)
    requester: TestClient = web.client("zhang.san@example.com")
    assert 'action="/desk/search"' not in requester.get("/portal").text


def test_search_sorts_by_sla_deadline_only_over_open_states(web: Web) -> None:
    """No index orders closed tickets by deadline: a search sorted so must be limited to
    open states (then the open tickets' indexes serve it), else it is refused clearly,
    and the sort box does not offer it."""
    people = _people(web)
    key = _ours(web, people, title="Printer jams on floor 3")
    client = web.client("li.wei@example.com")
    refused = client.get("/desk/queues/search", params={"q": "printer", "sort": "sla"})
    assert refused.status_code == 422 and "closed tickets" in refused.text
    plain = client.get("/desk/queues/search", params={"q": "printer"}).text
    assert '<option value="sla"' not in plain and '<option value="updated_at"' in plain
    for state in ("new", "in_progress"):
        page = client.get(
            "/desk/queues/search",
            params={"q": "printer", "sort": "resolution_due", "state": state},
        )
        assert page.status_code == 200
        assert (f"/desk/tickets/{key}" in page.text) is (state == "new")
        assert '<option value="sla"' in page.text
    closed = client.get(
        "/desk/queues/search", params={"q": "printer", "sort": "sla", "state": "resolved"}
    )
    assert closed.status_code == 422
    # The queues themselves keep every sort (their conditions hold open tickets only).
    assert client.get("/desk/queues/my_teams", params={"sort": "sla"}).status_code == 200
