"""Saved personal views (issue 21): the current filter and columns saved under a name,
listed in the desk's sidebar next to the queues, renamed, deleted, personal only; and
the desk home, the agent's own queue with counts."""

from __future__ import annotations

from tests.factories import incident
from tests.ui.conftest import Web

AGENT = "li.wei@example.com"


def test_save_open_rename_and_delete_a_view(web: Web) -> None:
    agent = web.user(AGENT, teams=("service_desk",))
    web.user("zhang.san@example.com", "requester")
    key = incident(web.service, agent, requester="zhang.san@example.com").ticket.key
    client = web.client(AGENT)
    page = client.get(
        "/desk/queues/my_teams", params={"priority": "normal", "col": ["key", "title"]}
    )
    assert "data-save-view" in page.text
    saved = client.send_form(
        "/desk/views",
        {"queue": "my_teams", "name": "  Normal ones ", "query": "priority=normal&cols=key,title"},
    )
    assert saved.status_code == 303
    target = saved.headers["location"]
    assert target.startswith("/desk/queues/my_teams?") and "priority=normal" in target
    opened = client.get(target).text
    assert "Normal ones" in opened and key in opened
    # Its columns: only key and title.
    assert 'data-label="Title"' in opened and 'data-label="Priority"' not in opened
    counts = client.get("/desk/queues/counts").text
    assert "Normal ones" in counts and "data-saved-view" in counts
    view_id = web.service.accounts.list_saved_views(agent)[0].id
    client.send_form(f"/desk/views/{view_id}/rename", {"name": "Normal tickets"})
    assert "Normal tickets" in client.get("/desk/views").text
    # Another agent neither sees nor deletes it.
    web.user("chen.jie@example.com", teams=("service_desk",))
    other = web.client("chen.jie@example.com")
    assert "Normal tickets" not in other.get("/desk/queues/counts").text
    assert other.send_form(f"/desk/views/{view_id}/delete").status_code == 404
    assert client.send_form(f"/desk/views/{view_id}/delete").status_code == 303
    assert web.service.accounts.list_saved_views(agent) == []


def test_a_view_needs_a_name(web: Web) -> None:
    web.user(AGENT, teams=("service_desk",))
    client = web.client(AGENT)
    refused = client.send_form("/desk/views", {"queue": "mine", "name": " ", "query": ""})
    assert refused.status_code == 422


def test_the_desk_home_is_the_agents_own_queue_with_counts(web: Web) -> None:
    web.user(AGENT, teams=("service_desk",))
    client = web.client(AGENT)
    home = client.get("/desk")
    assert home.status_code == 303 and home.headers["location"] == "/desk/queues/mine"
    counts = client.get("/desk/queues/counts?current=mine").text
    assert 'data-queue="mine"' in counts and 'data-queue="my_teams"' in counts


def test_an_admin_in_no_team_sees_every_open_ticket_under_my_teams(web: Web) -> None:
    agent = web.user(AGENT, teams=("service_desk",))
    web.user("zhang.san@example.com", "requester")
    web.user("root@example.com", "admin")
    desk_key = incident(web.service, agent, requester="zhang.san@example.com").ticket.key
    field_key = incident(
        web.service, agent, requester="zhang.san@example.com",
        fields={"category": "hardware", "device_serial": "PC-2024-0815", "impact": "me"},
    ).ticket.key  # fmt: skip
    closed_key = incident(web.service, agent, requester="zhang.san@example.com").ticket.key
    web.service.assign(agent, closed_key, team="service_desk", assignee=AGENT)
    web.service.take_transition(
        agent, closed_key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    web.service.take_transition(agent, closed_key, "close")
    page = web.client("root@example.com").get("/desk/queues/my_teams").text
    assert desk_key in page and field_key in page  # two teams' tickets
    assert f">{closed_key}<" not in page  # open ones only


def test_demo_agents_have_display_names(web: Web) -> None:
    web.service.seed_demo()
    people = dict(web.service.list_assignable(web.user("root@example.com", "admin")))
    assert people["li.wei@example.com"] == "Li Wei"
    assert people["yang.lei@example.com"] == "Yang Lei"
