"""Macros (issue 21): picked on the ticket page (the reply filled in for the ticket, in
its requester's language, what the macro changes by label), edited and sent in one
write; applied in bulk from a queue with each ticket's outcome; listed and applied in
the REST API."""

from __future__ import annotations

import sqlalchemy as sa

from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role
from tests.factories import incident
from tests.ui.conftest import Web

AGENT = "li.wei@example.com"
HTMX = {"HX-Request": "true"}


def _ticket(web: Web, *, assigned: bool = True, requester: str = "zhang.san@example.com") -> str:
    with web.db.transaction() as session:
        known = set(session.scalars(sa.select(User.email)))
    if AGENT not in known:
        web.user(AGENT, teams=("service_desk",))
    agent = Actor(_user_id(web, AGENT), AGENT, Role.AGENT, frozenset({"service_desk"}))
    if requester not in known:
        web.user(requester, "requester")
    key = incident(web.service, agent, requester=requester).ticket.key
    # Routing may have assigned it already: make it as the test says.
    web.service.assign(agent, key, team="service_desk", assignee=agent.email if assigned else "")
    return key


def _user_id(web: Web, email: str) -> int:
    with web.db.transaction() as session:
        return int(session.scalar(sa.select(User.id).where(User.email == email)) or 0)


def test_the_ticket_page_offers_the_macros_of_its_type_and_previews_one(web: Web) -> None:
    key = _ticket(web)
    client = web.client(AGENT)
    page = client.get(f"/desk/tickets/{key}").text
    assert 'name="macro"' in page and "Ask for the device serial" in page
    preview = client.get(f"/desk/tickets/{key}/macro", params={"macro": "ask_for_serial"})
    assert preview.status_code == 200
    html = preview.text
    # The reply is filled in for this ticket, and what it changes is said by labels.
    assert "Outlook keeps crashing" in html  # {{ ticket.title }} filled in
    assert "add the tags serial_asked" in html
    resolve = client.get(f"/desk/tickets/{key}/macro", params={"macro": "resolved_with_guidance"})
    assert "set Resolution code to User guidance" in resolve.text  # the option's label
    assert "then take “Ask requester”" in html
    assert 'name="body"' in html


def test_applying_a_macro_changes_fields_replies_and_transitions_at_once(web: Web) -> None:
    key = _ticket(web)
    client = web.client(AGENT)
    sent = client.send_form(
        f"/desk/tickets/{key}/macro",
        {"macro": "ask_for_serial", "body": "Which serial, please?", "visibility": "public"},
    )
    assert sent.status_code == 303
    agent = web.user("other.agent@example.com", teams=("service_desk",))
    ticket = web.service.get_ticket(agent, key)
    assert ticket.state == "waiting_customer"
    assert "serial_asked" in ticket.tags
    comments = web.service.list_comments(agent, key)
    assert [(c.body, c.public) for c in comments] == [("Which serial, please?", True)]
    page = client.get(f"/desk/tickets/{key}").text
    assert "applied the macro “Ask for the device serial”" in page  # the timeline says so


def test_a_refused_macro_changes_nothing_and_says_why_by_label(web: Web) -> None:
    key = _ticket(web, assigned=False)
    client = web.client(AGENT)
    refused = client.send_form(
        f"/desk/tickets/{key}/macro",
        {"macro": "resolved_with_guidance", "body": "Done.", "visibility": "public"},
    )
    assert refused.status_code == 422
    assert "The macro could not be applied" in refused.text
    agent = web.user("other.agent@example.com", teams=("service_desk",))
    ticket = web.service.get_ticket(agent, key)
    assert ticket.state == "new" and "resolution_code" not in ticket.data
    assert web.service.list_comments(agent, key) == []


def test_the_reply_speaks_the_requesters_language(web: Web) -> None:
    key = _ticket(web, requester="wang.fang@example.com")
    with web.db.transaction() as session:
        session.execute(
            sa.update(User).where(User.email == "wang.fang@example.com").values(language="zh-CN")
        )
    client = web.client(AGENT)
    html = client.get(f"/desk/tickets/{key}/macro", params={"macro": "thanks_for_patience"}).text
    assert "感谢您对工单" in html and key in html


def test_a_macro_in_bulk_reports_each_ticket(web: Web) -> None:
    done_key = _ticket(web)
    refused_key = _ticket(web, assigned=False)
    client = web.client(AGENT)
    answer = client.send_form(
        "/desk/queues/my_teams/bulk",
        {"keys": [done_key, refused_key], "action": "macro", "macro": "resolved_with_guidance"},
    )
    assert answer.status_code == 200
    html = answer.text
    assert f'<li class="ok">{done_key}: done</li>' in html
    assert f'<li class="failed">{refused_key}:' in html
    other = web.user("other.agent@example.com", teams=("service_desk",))
    assert web.service.get_ticket(other, done_key).state == "resolved"
    assert web.service.get_ticket(other, refused_key).state == "new"
    comments = web.service.list_comments(other, done_key)
    assert done_key in comments[0].body  # the reply filled in for that very ticket


def test_the_api_lists_and_applies_macros(web: Web) -> None:
    key = _ticket(web)
    agent = Actor(_user_id(web, AGENT), AGENT, Role.AGENT, frozenset({"service_desk"}))
    token = web.service.accounts.create_token(agent, AGENT, "macros")[1]
    client = web.client()
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/macros", params={"ticket": key}, headers=auth)
    assert listed.status_code == 200
    ids = [m["id"] for m in listed.json()]
    assert "ask_for_serial" in ids and "thanks_for_patience" in ids
    applied = client.post(
        f"/api/v1/tickets/{key}/macros/thanks_for_patience", json={}, headers=auth
    )
    assert applied.status_code == 200, applied.text
    assert "patience_sent" in applied.json()["tags"]
    unknown = client.post(f"/api/v1/tickets/{key}/macros/nope", json={}, headers=auth)
    assert unknown.status_code == 404


def test_a_macro_changes_the_team_through_the_assignment(web: Web) -> None:
    """`set: {team, assignee}` goes through the engine's assign path: the ticket moves
    to the team, unassigned, with its `ticket.assigned` event and notification."""
    key = _ticket(web)
    client = web.client(AGENT)
    preview = client.get(f"/desk/tickets/{key}/macro", params={"macro": "send_to_field_service"})
    assert "set Team to Field Service" in preview.text or "set Team to" in preview.text
    assert "set Assignee to Unassigned" in preview.text
    sent = client.send_form(
        f"/desk/tickets/{key}/macro",
        {"macro": "send_to_field_service", "body": "On site, please.", "visibility": "internal"},
    )
    assert sent.status_code == 303, sent.text
    admin = web.user("root@example.com", "admin")
    ticket = web.service.get_ticket(admin, key)
    assert (ticket.team, ticket.assignee) == ("field_service", None)
    assert "on_site" in ticket.tags
    assigned = [e for e in web.service.list_events(admin, key) if e.kind == "ticket.assigned"]
    assert assigned[-1].after.get("team") == "field_service"
    with web.db.transaction() as session:
        from gongdan.engine.store.models import Outbox

        topics = list(session.scalars(sa.select(Outbox.topic).order_by(Outbox.id)))
    assert "ticket.assigned" in topics


def test_a_take_it_macro_in_bulk_assigns_each_ticket_to_whoever_applies_it(web: Web) -> None:
    keys = [_ticket(web, assigned=False), _ticket(web, assigned=False)]
    client = web.client(AGENT)
    answer = client.send_form(
        "/desk/queues/my_teams/bulk", {"keys": keys, "action": "macro", "macro": "take_it"}
    )
    assert answer.status_code == 200
    for key in keys:
        assert f'<li class="ok">{key}: done</li>' in answer.text
    other = web.user("other.agent@example.com", teams=("service_desk",))
    assert all(web.service.get_ticket(other, k).assignee == AGENT for k in keys)


def test_a_macro_preview_names_the_assignee_in_chinese(web: Web) -> None:
    key = _ticket(web)
    client = web.client(AGENT)
    client.send_form("/language", {"language": "zh-CN"})
    html = client.get(f"/desk/tickets/{key}/macro", params={"macro": "take_it"}).text
    assert "将处理人设为您（应用此快捷回复的人）" in html
