"""A view's custom-field columns show option labels in the reader's language, never the
stored option values."""

from __future__ import annotations

import re

import sqlalchemy as sa

from gongdan.engine.store.models import User
from tests.factories import incident
from tests.ui.conftest import Web


def test_view_columns_show_option_labels(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    admin = web.user("root@example.com", "admin")
    key = incident(
        web.service, admin, requester=requester.email, priority="urgent",
        fields={"category": "network", "impact": "me"},
    ).ticket.key  # fmt: skip
    web.service.assign(admin, key, team="service_desk", assignee="")
    client = web.client("li.wei@example.com")
    html = client.get("/desk/queues/urgent_incidents").text
    row = re.search(rf"<tr>(?:(?!</tr>).)*{key}.*?</tr>", html, re.S)
    assert row, html
    assert ">Network</td>" in row.group(0) and ">network</td>" not in row.group(0)
    with web.db.transaction() as session:
        session.execute(sa.update(User).values(language="zh-CN"))
    assert ">网络</td>" in client.get("/desk/queues/urgent_incidents").text


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}">.*?</select>', html, re.S)
    assert found, name
    return found.group(0)


def test_state_filter_and_bulk_transitions_are_grouped_by_the_types_in_view(web: Web) -> None:
    web.user("li.wei@example.com", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    admin = web.user("root@example.com", "admin")
    key = incident(web.service, admin, requester=requester.email).ticket.key
    web.service.assign(admin, key, team="service_desk", assignee="")
    client = web.client("li.wei@example.com")

    everything = _select(client.get("/desk/queues/my_teams").text, "state")
    assert '<optgroup label="IT incident">' in everything  # one group per workflow
    assert everything.count("<optgroup") == len(web.service.bundle.workflows)

    incidents = _select(client.get("/desk/queues/my_teams?type=it_incident").text, "state")
    assert "<optgroup" not in incidents  # the filtered type's own states only
    states = re.findall(r'<option value="(\w+)"', incidents)
    assert states == list(web.service.bundle.workflows["incident"].states)

    # Only IT incidents on the page: only the incident workflow's transitions, once each.
    bulk = _select(client.get("/desk/queues/my_teams").text, "transition")
    offered = re.findall(r'<option value="(\w+)"', bulk)
    incident_flow = {t.id for t in web.service.bundle.workflows["incident"].transitions}
    assert set(offered) == incident_flow and len(offered) == len(set(offered))


def test_bulk_outcomes_name_fields_by_their_labels(web: Web) -> None:
    agent = web.user("li.wei@example.com", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    admin = web.user("root@example.com", "admin")
    key = incident(web.service, admin, requester=requester.email).ticket.key
    web.service.assign(admin, key, team="service_desk", assignee=agent.email)
    web.service.take_transition(agent, key, "start")
    client = web.client("li.wei@example.com")
    form = {"keys": [key], "action": "transition", "transition": "resolve", "bulk_form": "resolve"}
    answer = client.send_form("/desk/queues/my_teams/bulk", form).text
    outcome = re.search(rf"<li class=\"failed\">{key}:.*?</li>", answer, re.S)
    assert outcome, answer
    assert "Resolution code: is required; Comment: is required" in outcome.group(0)
    assert "resolution_code" not in outcome.group(0) and "'resolve'" not in outcome.group(0)
