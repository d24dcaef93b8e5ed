"""Bulk transitions on a queue page that ask for fields and a comment: the form opens
as an htmx fragment once a transition is chosen, its values go to every selected
ticket, tickets of types whose forms differ are refused with a clear message, and
without JavaScript the post first shows the form. Also the folding filter bar."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from tests.factories import incident
from tests.ui.conftest import Web

AGENT = "li.wei@example.com"
HTMX = {"HX-Request": "true"}


def _assigned_incidents(web: Web, count: int = 2) -> tuple[Actor, list[str]]:
    agent = web.user(AGENT, teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    keys = []
    for _ in range(count):
        key = incident(web.service, agent, requester=requester.email).ticket.key
        web.service.assign(agent, key, team="service_desk", assignee=agent.email)
        keys.append(key)
    return agent, keys


def _complaint(web: Web, agent: Actor) -> str:
    admin = web.user("root@example.com", "admin")
    key = web.service.create_ticket(
        admin,
        "complaint",
        title="Parcel left in the rain",
        requester="zhang.san@example.com",
        fields={"channel": "web", "customer_name": "王女士", "complaint_category": "delivery",
                "severity": "minor"},
    ).ticket.key  # fmt: skip
    web.service.assign(admin, key, team="service_desk", assignee=agent.email)
    web.service.take_transition(admin, key, "investigate")
    return key


def _state(web: Web, agent: Actor, key: str) -> str:
    return web.service.get_ticket(agent, key).state


def test_choosing_a_transition_opens_its_form_with_the_shared_widgets(web: Web) -> None:
    _, keys = _assigned_incidents(web)
    client = web.client(AGENT)
    page = client.get("/desk/queues/mine").text
    assert 'hx-get="/desk/queues/mine/bulk/transition"' in page
    # gongdan.js sends `bulk-selection` when the selection or the transition changes
    # (no event filter in the page: htmx may not evaluate code under the CSP).
    assert 'hx-trigger="bulk-selection from:closest form"' in page
    fragment = client.get(
        "/desk/queues/mine/bulk/transition",
        params={"transition": "resolve", "keys": keys},
        headers=HTMX,
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    html = fragment.text
    assert 'id="bulk-transition"' in html
    assert 'name="resolution_code"' in html and 'value="workaround"' in html  # the select widget
    assert "Resolution code" in html and 'aria-required="true"' in html
    assert 'name="comment"' in html and 'name="visibility"' in html
    assert 'name="bulk_form" value="resolve"' in html
    # A transition that asks for nothing more opens no form.
    start = client.get(
        "/desk/queues/mine/bulk/transition", params={"transition": "start", "keys": keys}
    )
    assert start.status_code == 200 and 'name="bulk_form"' not in start.text


def test_the_values_go_to_every_selected_ticket(web: Web) -> None:
    agent, keys = _assigned_incidents(web)
    client = web.client(AGENT)
    form: dict[str, Any] = {"keys": keys, "action": "transition", "transition": "resolve",
                            "bulk_form": "resolve", "resolution_code": "workaround",
                            "comment": "Restarted the mail service", "visibility": "public"}  # fmt: skip
    done = client.send_form("/desk/queues/mine/bulk", form)
    assert done.status_code == 200
    for key in keys:
        assert f"{key}: done" in done.text
        ticket = web.service.get_ticket(agent, key)
        assert ticket.state == "resolved" and ticket.data["resolution_code"] == "workaround"
        bodies = [c.body for c in web.service.list_comments(agent, key)]
        assert "Restarted the mail service" in bodies


def test_without_javascript_the_post_shows_the_form_first(web: Web) -> None:
    agent, keys = _assigned_incidents(web)
    client = web.client(AGENT)
    form = {"keys": keys, "action": "transition", "transition": "resolve"}
    asked = client.send_form("/desk/queues/mine/bulk", form)
    assert asked.status_code == 200
    assert "Fill in what this transition asks for" in asked.text
    assert 'name="resolution_code"' in asked.text
    assert 'value="resolve" selected' in asked.text
    for key in keys:  # nothing changed, and the tickets are still selected
        assert _state(web, agent, key) == "new"
        assert f'value="{key}" checked' in asked.text


def test_a_bad_value_is_reported_per_ticket_and_the_form_stays_open(web: Web) -> None:
    agent, keys = _assigned_incidents(web)
    client = web.client(AGENT)
    form = {"keys": keys, "action": "transition", "transition": "resolve",
            "bulk_form": "resolve", "resolution_code": "nonsense", "comment": "Done"}  # fmt: skip
    refused = client.send_form("/desk/queues/mine/bulk", form, headers=HTMX)
    assert refused.status_code == 200
    assert "<html" not in refused.text
    for key in keys:
        assert f"{key}: " in refused.text and f"{key}: done" not in refused.text
        assert f'value="{key}" checked' in refused.text
        assert _state(web, agent, key) == "new"
    assert 'id="bulk-resolution_code"' in refused.text and "has-error" in refused.text
    assert "Done</textarea>" in refused.text  # what was typed is kept
    no_comment = client.send_form(
        "/desk/queues/mine/bulk", {**form, "resolution_code": "fixed", "comment": ""}, headers=HTMX
    )
    assert 'id="bulk-comment-error">is required<' in no_comment.text  # no transition id
    assert '<option value="fixed" selected>' in no_comment.text
    assert all(_state(web, agent, key) == "new" for key in keys)


def test_tickets_whose_forms_differ_are_refused_with_a_clear_message(web: Web) -> None:
    agent, keys = _assigned_incidents(web, count=1)
    complaint = _complaint(web, agent)
    client = web.client(AGENT)
    selection = [keys[0], complaint]
    fragment = client.get(
        "/desk/queues/mine/bulk/transition",
        params={"transition": "resolve", "keys": selection},
        headers=HTMX,
    ).text
    assert "forms ask for different things" in fragment
    assert "IT incident: Resolution code, comment (required)" in fragment
    assert "Root cause" in fragment and 'name="bulk_form"' not in fragment
    form = {"keys": selection, "action": "transition", "transition": "resolve",
            "bulk_form": "resolve", "resolution_code": "fixed", "comment": "Done"}  # fmt: skip
    refused = client.send_form("/desk/queues/mine/bulk", form)
    assert refused.status_code == 422 and "forms ask for different things" in refused.text
    assert _state(web, agent, keys[0]) == "new"
    assert _state(web, agent, complaint) == "investigating"
    # Both types share `close`'s form (nothing asked), so no message then.
    same = client.get(
        "/desk/queues/mine/bulk/transition", params={"transition": "start", "keys": selection}
    )
    assert "different" not in same.text
    with web.db.transaction() as session:
        session.execute(sa.update(User).values(language="zh-CN"))
    chinese = client.get(
        "/desk/queues/mine/bulk/transition",
        params={"transition": "resolve", "keys": selection},
    ).text
    assert "要求填写的内容不同" in chinese and "IT 故障" in chinese


def test_the_filter_bar_folds_into_details_with_the_active_count(web: Web) -> None:
    _assigned_incidents(web, count=1)
    client = web.client(AGENT)
    page = client.get("/desk/queues/mine?priority=normal&q=Outlook&sort=key").text
    # Open, and folded on a phone by gongdan.js (the browser test checks it does).
    assert '<details class="queue-filters-box" id="queue-filters" open data-fold-narrow>' in page
    assert "<summary>Filters" in page and "(2 active)" in page
    fragment = client.get("/desk/queues/mine?priority=normal", headers=HTMX).text
    assert '<span id="filter-count" hx-swap-oob="true">(1 active)</span>' in fragment
    assert "(0 active)" in client.get("/desk/queues/mine").text


def test_bad_bulk_transition_input_is_a_clear_422(web: Web) -> None:
    _, keys = _assigned_incidents(web, count=1)
    client = web.client(AGENT)
    none = client.send_form("/desk/queues/mine/bulk", {"keys": keys, "action": "transition"})
    assert none.status_code == 422 and "choose a transition" in none.text
    nul = client.get("/desk/queues/mine/bulk/transition", params={"transition": "re\x00solve"})
    assert nul.status_code == 422 and "NUL" in nul.text
    unknown = client.get("/desk/queues/nope/bulk/transition", params={"transition": "resolve"})
    assert unknown.status_code == 404
    nowhere = client.get(
        "/desk/queues/mine/bulk/transition", params={"transition": "nope", "keys": keys}
    )
    assert nowhere.status_code == 200 and "has this transition" in nowhere.text
