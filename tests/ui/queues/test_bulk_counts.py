"""After a bulk action the queue counts follow at once (an out-of-band swap of the
counts in the same answer), not at the next 30-second poll."""

from __future__ import annotations

import re

from tests.factories import incident
from tests.ui.conftest import Web


def test_bulk_assign_answers_with_the_new_counts(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    admin = web.user("root@example.com", "admin")
    keys = []
    for _ in range(2):
        key = incident(web.service, requester).ticket.key
        web.service.assign(admin, key, team="service_desk", assignee="")
        keys.append(key)
    client = web.client("li.wei@example.com")
    before = client.get("/desk/queues/counts", headers={"HX-Request": "true"}).text
    assert 'data-queue="mine">0<' in before and 'data-queue="unassigned">2<' in before

    form = {"keys": keys, "action": "assign", "assignee": "me"}
    answer = client.send_form(
        "/desk/queues/unassigned/bulk", form, headers={"HX-Request": "true"}
    ).text
    counts = re.search(r'<nav id="queue-counts"[^>]*hx-swap-oob="true".*?</nav>', answer, re.S)
    assert counts, "the answer carries the counts out-of-band"
    assert 'data-queue="mine">2<' in counts.group(0)
    assert 'data-queue="unassigned">0<' in counts.group(0)
    # A plain page of the queue has no out-of-band counts.
    assert "hx-swap-oob" not in client.get("/desk/queues/unassigned").text


def test_assignee_boxes_pick_from_assignable_people(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    web.user("zhao.lei@example.com", teams=("field_service",))
    web.user("zhang.san@example.com", "requester")
    html = web.client("li.wei@example.com").get("/desk/queues/my_teams?assignee=me").text
    boxes = re.findall(r'<select name="assignee">.*?</select>', html, re.S)
    assert len(boxes) in (1, 2)  # the filter (and the bulk form when tickets are listed)
    for box in boxes:
        assert 'value="zhao.lei@example.com"' in box and 'value="none"' in box
        assert "zhang.san@example.com" not in box  # requesters are never assignees
    assert '<option value="me" selected>' in boxes[0]


def test_the_desk_opens_on_the_agents_own_queue_with_the_counts(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    client = web.client("li.wei@example.com")
    home = client.get("/desk", follow_redirects=True)
    assert home.url.path == "/desk/queues/mine"
    assert "<h1>My tickets</h1>" in home.text
    assert 'hx-get="/desk/queues/counts?current=mine"' in home.text  # every queue's count
