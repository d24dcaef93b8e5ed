"""The desk's queue pages through the real app: who may open them, what they list,
filters, sorting, bad input, bulk actions with CSRF, and a bounded number of SQL
statements per page (no N+1)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gongdan.engine.store.models import User
from tests.factories import actor, incident
from tests.sql import StatementRecorder
from tests.ui.conftest import Web


def _tickets(web: Web) -> dict[str, str]:
    web.user("li.wei@example.com", teams=("service_desk",))
    web.user("zhao.lei@example.com", teams=("field_service",))
    requester = web.user("zhang.san@example.com", "requester")
    admin = web.user("root@example.com", "admin")
    ours = incident(web.service, admin, requester=requester.email, priority="urgent").ticket.key
    web.service.assign(admin, ours, team="service_desk", assignee="")
    theirs = incident(web.service, admin, requester=requester.email).ticket.key
    web.service.assign(admin, theirs, team="field_service", assignee="")
    return {"ours": ours, "theirs": theirs}


def test_queue_list_shows_every_queue_with_live_counts(web: Web) -> None:
    _tickets(web)
    client = web.client("li.wei@example.com")
    page = client.get("/desk/queues")
    assert page.status_code == 200
    for name in ("My tickets", "My teams", "Unassigned", "Breaching soon", "Urgent open incidents"):
        assert name in page.text
    counts = client.get("/desk/queues/counts", headers={"HX-Request": "true"})
    assert counts.status_code == 200
    assert 'hx-trigger="every 30s"' in counts.text
    assert 'data-queue="my_teams">1<' in counts.text
    with web.db.transaction() as session:
        session.execute(sa.update(User).values(language="zh-CN"))
    home = client.get("/desk/queues").text
    assert "我的团队" in home and "紧急未结故障" in home
    queue = client.get("/desk/queues/my_teams").text
    for label in ("我的团队", "对所选工单", "剩余", "优先级"):
        assert label in queue


def test_an_agent_sees_only_their_teams_tickets_and_a_requester_no_queue(web: Web) -> None:
    made = _tickets(web)
    client = web.client("li.wei@example.com")
    page = client.get("/desk/queues/my_teams")
    assert page.status_code == 200
    assert made["ours"] in page.text and made["theirs"] not in page.text
    assert client.get("/desk/queues/line_stoppages").status_code == 404
    assert client.get("/desk/queues/nope").status_code == 404
    requester = web.client("zhang.san@example.com")
    assert requester.get("/desk/queues").status_code == 303
    assert requester.get("/desk/queues/mine").headers["location"].startswith("/portal")
    anonymous = web.client()
    assert "/login" in anonymous.get("/desk/queues/mine").headers["location"]


def test_filters_sort_links_and_bad_input(web: Web) -> None:
    made = _tickets(web)
    client = web.client("zhao.lei@example.com")
    both = client.get("/desk/queues/my_teams")
    assert made["ours"] not in both.text  # another team's ticket
    assert made["theirs"] in both.text
    urgent = client.get("/desk/queues/my_teams?priority=urgent")
    assert made["theirs"] not in urgent.text
    assert "sort=priority" in both.text  # a column heading sorts by its column
    by_priority = client.get("/desk/queues/my_teams?sort=priority&dir=desc")
    assert 'aria-sort="descending"' in by_priority.text
    fragment = client.get("/desk/queues/my_teams?sort=key&dir=desc", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="results"' in fragment.text
    garbage = client.get("/desk/queues/my_teams?cursor=garbage")
    assert garbage.status_code == 422 and "is not a cursor from this queue" in garbage.text
    assert client.get("/desk/queues/my_teams?sort=title").status_code == 422
    for query in ("q=%00", "state=%00", "assignee=a%00b", "sort=%00", "cursor=%00"):
        nul = client.get(f"/desk/queues/my_teams?{query}")
        assert nul.status_code == 422 and "NUL" in nul.text, query
    unknown_field = client.get("/desk/queues/my_teams?field=nope&value=1")
    assert unknown_field.status_code == 422 and "nope" in unknown_field.text


def test_bulk_assign_needs_the_csrf_token_and_reports_each_ticket(web: Web) -> None:
    made = _tickets(web)
    client = web.client("li.wei@example.com")
    form: dict[str, Any] = {"keys": [made["ours"], made["theirs"]], "action": "assign",
                            "team": "service_desk", "assignee": "me"}  # fmt: skip
    refused = client.post("/desk/queues/mine/bulk", data=form)
    assert refused.status_code == 403
    done = client.send_form("/desk/queues/mine/bulk", form)
    assert done.status_code == 200
    assert f"{made['ours']}: done" in done.text
    assert f"{made['theirs']}: " in done.text and f"{made['theirs']}: done" not in done.text
    assert made["ours"] in client.get("/desk/queues/mine").text
    unknown = client.send_form("/desk/queues/nope/bulk", form)
    assert unknown.status_code == 404
    too_many = client.send_form(
        "/desk/queues/mine/bulk", {**form, "keys": [f"INC-{n}" for n in range(1, 202)]}
    )
    assert too_many.status_code == 422 and "at most 200" in too_many.text
    nul = client.send_form("/desk/queues/mine/bulk", {**form, "keys": ["INC-1\x00"]})
    assert nul.status_code == 422 and "NUL" in nul.text
    empty = client.send_form("/desk/queues/mine/bulk", {"action": "assign"})
    assert empty.status_code == 422 and "Select at least one ticket." in empty.text


def test_bulk_transition_asks_for_required_fields_per_ticket(web: Web) -> None:
    made = _tickets(web)
    client = web.client("li.wei@example.com")
    form = {"keys": [made["ours"]], "action": "transition", "transition": "start"}
    started = client.send_form("/desk/queues/my_teams/bulk", form)
    assert f"{made['ours']}: done" in started.text
    agent = actor(web.db, "li.wei@example.com")
    web.service.assign(agent, made["ours"], team="service_desk", assignee=agent.email)
    resolve = {"keys": [made["ours"]], "action": "transition", "transition": "resolve",
               "comment": "Fixed"}  # fmt: skip
    refused = client.send_form("/desk/queues/my_teams/bulk", resolve)
    assert "resolution_code" in refused.text


def test_a_queue_page_runs_a_fixed_number_of_statements(
    web: Web, statements: StatementRecorder
) -> None:
    agent = web.user("li.wei@example.com", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    for _ in range(15):
        key = incident(web.service, agent, requester=requester.email).ticket.key
        web.service.assign(agent, key, team="service_desk", assignee=agent.email)
    client = web.client("li.wei@example.com")
    with statements.recording(web.db) as seen:
        page = client.get("/desk/queues/mine")
    assert page.status_code == 200 and page.text.count('name="keys"') == 15
    # The account and its teams, the page of tickets, their people (15 rows or 1), and
    # the people the assignee boxes offer; on PostgreSQL first the two settings that
    # keep a queue's own page on its index's range (`store.counters.ordered_reads`).
    settings = {"other": 2} if web.db.engine.dialect.name == "postgresql" else {}
    assert seen.kinds() == {"select": 5} | settings, seen
