"""The desk's ticket page on SQLite and PostgreSQL: who may see it, transitions and their
forms, replies and internal notes, fields edited in place, assignment, SLA, files."""

from __future__ import annotations

import re

import pytest

from gongdan.rules.workflow import Actor
from tests.factories import incident
from tests.sql import StatementRecorder, Statements
from tests.ui.conftest import Client, Web

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(web: Web) -> dict[str, Actor]:
    return {
        "agent": web.user("li.wei@example.com", "agent", teams=("service_desk",)),
        "outsider": web.user("outsider@example.com", "agent", teams=("field_service",)),
        "requester": web.user("zhang.san@example.com", "requester"),
    }


@pytest.fixture
def key(web: Web, people: dict[str, Actor]) -> str:
    """A software incident: routed to the service desk, assigned to li.wei."""
    result = incident(web.service, people["requester"], title="Outlook keeps crashing")
    assert result.ticket.team == "service_desk"
    return result.ticket.key


@pytest.fixture
def agent(web: Web, people: dict[str, Actor]) -> Client:
    return web.client("li.wei@example.com")


def htmx(client: Client) -> dict[str, str]:
    return {**HTMX, "X-CSRF-Token": client.csrf}


def test_agent_sees_the_ticket_with_its_buttons(agent: Client, key: str) -> None:
    page = agent.get(f"/desk/tickets/{key}")
    assert page.status_code == 200
    html = page.text
    assert "Outlook keeps crashing" in html and key in html
    assert 'data-transition="start"' in html and 'data-transition="resolve"' in html
    assert 'data-transition="withdraw"' not in html  # requesters only
    assert "First response" in html and 'class="sla-badge running"' in html
    assert "Why this deadline?" in html
    assert 'id="tk-category-input"' in html  # the agent form, editable


def test_timeline_says_what_routing_did_to_the_new_ticket(agent: Client, key: str) -> None:
    timeline = agent.get(f"/desk/tickets/{key}").text.split('id="timeline"', 1)[1]
    created, routed = timeline.split('<div class="meta">')[1:3]
    assert "created the ticket" in created
    assert "<strong>System</strong>" in routed and "changed the assignment" in routed
    assert "Team: — → IT service desk" in routed
    assert "Assignee: — → li.wei@example.com" in routed
    agent.send_form("/account/profile", {"name": "李伟", "language": "zh-CN"})
    chinese = agent.get(f"/desk/tickets/{key}").text
    assert "团队: — → IT 服务台" in chinese and "修改了分派" in chinese


def test_agent_outside_the_team_gets_404(web: Web, people: dict[str, Actor], key: str) -> None:
    outsider = web.client("outsider@example.com")
    response = outsider.get(f"/desk/tickets/{key}")
    assert response.status_code == 404
    assert "Outlook" not in response.text
    refused = outsider.post(
        f"/desk/tickets/{key}/comments", data={"body": "hi"}, headers=htmx(outsider)
    )
    assert refused.status_code == 404


def test_requester_cannot_open_the_desk_page(web: Web, people: dict[str, Actor], key: str) -> None:
    requester = web.client("zhang.san@example.com")
    response = requester.get(f"/desk/tickets/{key}")
    assert response.status_code == 303 and response.headers["location"] == "/portal"


def test_simple_transition_rerenders_the_ticket(agent: Client, key: str) -> None:
    response = agent.post(f"/desk/tickets/{key}/transitions/start", headers=htmx(agent))
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#ticket"
    assert 'id="ticket-state">In progress' in response.text
    assert "<html" not in response.text  # only the ticket block
    assert "New → In progress" in response.text


def test_transition_form_requires_its_field_and_comment(agent: Client, key: str) -> None:
    form = agent.get(f"/desk/tickets/{key}/transitions/resolve", headers=htmx(agent))
    assert form.status_code == 200 and "<html" not in form.text
    assert 'id="tr-resolution_code-input"' in form.text and 'aria-required="true"' in form.text
    refused = agent.post(
        f"/desk/tickets/{key}/transitions/resolve", data={"comment": ""}, headers=htmx(agent)
    )
    assert refused.status_code == 422
    code_error = re.search(r'id="tr-resolution_code-error">(.*?)</p>', refused.text, re.S)
    assert code_error and "is required" in code_error.group(1)
    comment_error = re.search(r'id="tr-comment-error">(.*?)</p>', refused.text, re.S)
    assert comment_error and "is required" in comment_error.group(1)
    done = agent.post(
        f"/desk/tickets/{key}/transitions/resolve",
        data={"resolution_code": "fixed", "comment": "Reinstalled Office.", "visibility": "public"},
        headers=htmx(agent),
    )
    assert done.status_code == 200
    assert 'id="ticket-state">Resolved' in done.text
    assert "Reinstalled Office." in done.text


def test_transition_without_js_works_too(agent: Client, key: str) -> None:
    page = agent.get(f"/desk/tickets/{key}/transitions/resolve")
    assert "<html" in page.text and 'name="resolution_code"' in page.text
    done = agent.send_form(
        f"/desk/tickets/{key}/transitions/resolve",
        {"resolution_code": "workaround", "comment": "Use the web version."},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/desk/tickets/{key}"


def test_a_transition_not_allowed_now_is_404(agent: Client, key: str) -> None:
    assert agent.get(f"/desk/tickets/{key}/transitions/reopen").status_code == 404


def test_internal_notes_stay_internal(
    web: Web, people: dict[str, Actor], agent: Client, key: str
) -> None:
    agent.post(
        f"/desk/tickets/{key}/comments",
        data={
            "body": "Check the **licence** server <script>alert(1)</script>",
            "visibility": "internal",
        },
        headers=htmx(agent),
    )
    agent.post(
        f"/desk/tickets/{key}/comments",
        data={"body": "We are on it.", "visibility": "public"},
        headers=htmx(agent),
    )
    html = agent.get(f"/desk/tickets/{key}").text
    assert "<strong>licence</strong>" in html and "<script>alert" not in html
    assert 'class="comment markdown internal"' in html
    seen = [c.body for c in web.service.list_comments(people["requester"], key)]
    assert seen == ["We are on it."]


def test_empty_reply_shows_the_error_and_keeps_the_choice(agent: Client, key: str) -> None:
    response = agent.post(
        f"/desk/tickets/{key}/comments",
        data={"body": "  ", "visibility": "internal"},
        headers=htmx(agent),
    )
    assert response.status_code == 422
    assert 'id="reply-error">is required' in response.text
    assert 'value="internal" checked' in response.text


def test_fields_are_edited_in_place(web: Web, agent: Client, key: str) -> None:
    version = web.service.get_ticket(Actor.system(), key).version
    bad = agent.post(
        f"/desk/tickets/{key}/fields",
        data={
            "version": version,
            "priority": "high",
            "category": "hardware",
            "device_serial": "x",
            "impact": "me",
        },
        headers=htmx(agent),
    )
    assert bad.status_code == 422
    error = re.search(r'id="tk-device_serial-error">(.*?)</p>', bad.text, re.S)
    assert error and "must look like" in error.group(1)
    assert 'value="x"' in bad.text  # what the agent typed stays
    good = agent.post(
        f"/desk/tickets/{key}/fields",
        data={
            "version": version,
            "priority": "high",
            "category": "software",
            "impact": "team",
            "tags": "vpn, outlook",
        },
        headers=htmx(agent),
    )
    assert good.status_code == 200 and "Saved." in good.text
    ticket = web.service.get_ticket(Actor.system(), key)
    assert ticket.priority == "high" and ticket.data["impact"] == "team"
    assert ticket.tags == ("vpn", "outlook")


def test_a_change_that_reroutes_the_ticket_away_goes_back_to_the_desk(
    web: Web, agent: Client, key: str
) -> None:
    version = web.service.get_ticket(Actor.system(), key).version
    moved = agent.post(
        f"/desk/tickets/{key}/fields",
        data={
            "version": version,
            "priority": "normal",
            "category": "hardware",
            "device_serial": "PC-2024-0815",
            "impact": "me",
        },
        headers=htmx(agent),
    )
    if web.service.get_ticket(Actor.system(), key).team == "service_desk":
        pytest.skip("the example routing does not re-route on update")
    assert moved.status_code == 204 and moved.headers["HX-Redirect"] == "/desk"


def test_stale_version_is_a_conflict_message(agent: Client, key: str) -> None:
    response = agent.post(
        f"/desk/tickets/{key}/fields",
        data={"version": "999", "priority": "low", "category": "software", "impact": "me"},
        headers=htmx(agent),
    )
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#flash"
    assert "Changed by someone else" in response.text


def test_assign_to_me(web: Web, agent: Client, key: str) -> None:
    web.service.assign(Actor.system(), key, assignee="")
    response = agent.post(
        f"/desk/tickets/{key}/assign",
        data={"team": "service_desk", "assignee": "li.wei@example.com"},
        headers=htmx(agent),
    )
    assert response.status_code == 200
    assert web.service.get_ticket(Actor.system(), key).assignee == "li.wei@example.com"


def test_ticket_posts_need_the_csrf_token(agent: Client, key: str) -> None:
    response = agent.post(f"/desk/tickets/{key}/comments", data={"body": "hi"})
    assert response.status_code == 403


def test_unknown_ticket_is_404(agent: Client) -> None:
    assert agent.get("/desk/tickets/INC-99999").status_code == 404


def test_changing_a_field_shows_its_dependents_in_place(agent: Client, key: str) -> None:
    page = agent.get(f"/desk/tickets/{key}").text
    assert re.search(r'id="tk-device_serial" hidden', page)
    assert 'hx-post="/desk/tickets/' in page and '/fields/check"' in page
    headers = {**htmx(agent), "HX-Trigger-Name": "category"}
    shown = agent.post(
        f"/desk/tickets/{key}/fields/check",
        data={"category": "hardware", "impact": "me", "priority": "normal"},
        headers=headers,
    )
    assert shown.status_code == 200
    swap = re.search(r'<div class="field[^"]*" id="tk-device_serial"([^>]*)>', shown.text)
    assert swap and "hidden" not in swap.group(1)
    assert 'id="tk-category-input"' not in shown.text  # the focused field is left alone


def test_delivery_log_is_shown_to_agents(web: Web, agent: Client, key: str) -> None:
    from gongdan.engine.store.models import Delivery
    from tests.factories import NOW

    with web.db.transaction() as session:
        session.add(
            Delivery(
                outbox_id=1, ticket_key=key, kind="notification", target="zhang.san@example.com",
                attempt=2, outcome="failed", status_code=None, error="SMTP refused", at=NOW,
            )
        )  # fmt: skip
    html = agent.get(f"/desk/tickets/{key}").text
    assert "Notifications" in html and "SMTP refused" in html and "(#2)" in html


def test_requester_portal_never_shows_the_internal_note(
    web: Web, people: dict[str, Actor], agent: Client, key: str
) -> None:
    for body, visibility in (("Secret triage note", "internal"), ("Visible answer", "public")):
        agent.post(
            f"/desk/tickets/{key}/comments",
            data={"body": body, "visibility": visibility},
            headers=htmx(agent),
        )
    requester = web.client("zhang.san@example.com")
    page = requester.get(f"/portal/tickets/{key}")
    assert page.status_code == 200
    assert "Visible answer" in page.text and "Secret triage note" not in page.text


def test_linked_tickets_are_listed(
    web: Web, people: dict[str, Actor], agent: Client, key: str
) -> None:
    other = incident(web.service, people["requester"], title="Outlook crashes on a second PC")
    web.service.link(people["agent"], other.ticket.key, key)
    html = agent.get(f"/desk/tickets/{key}").text
    assert f'href="/desk/tickets/{other.ticket.key}"' in html and "Related tickets" in html


def test_ticket_page_in_chinese(agent: Client, key: str) -> None:
    agent.send_form("/language", {"language": "zh-CN"})
    html = agent.get(f"/desk/tickets/{key}").text
    assert "动态" in html and "开始处理" in html and "服务时效" in html and "首次响应" in html


def test_ticket_page_queries_do_not_grow_with_the_timeline(
    web: Web, people: dict[str, Actor], agent: Client, key: str, statements: StatementRecorder
) -> None:
    def page() -> Statements:
        with statements.recording(web.db) as seen:
            assert agent.get(f"/desk/tickets/{key}").status_code == 200
        return seen

    web.service.add_comment(people["agent"], key, "First answer")
    web.service.add_comment(people["requester"], key, "Thanks")
    few = page()
    for n in range(10):
        web.service.add_comment(people["agent"], key, f"Update {n}", public=n % 2 == 0)
        web.service.add_comment(people["requester"], key, f"Reply {n}")
    web.service.update_ticket(people["agent"], key, {"priority": "high"})
    many = page()
    assert many.kinds() == few.kinds(), many  # whatever the timeline's length
    # Reads only: the account (2) and the page (10).
    assert few.count() == few.count("select") <= 12, few


def test_nul_characters_are_refused_not_crashed_on(web: Web, agent: Client, key: str) -> None:
    """PostgreSQL refuses NUL in text: every form says no instead of failing."""
    version = str(web.service.get_ticket(Actor.system(), key).version)
    posts = [
        (f"/desk/tickets/{key}/assign", {"team": "service\x00desk", "assignee": ""}),
        (f"/desk/tickets/{key}/assign", {"team": "service_desk", "assignee": "li\x00@example.com"}),
        (f"/desk/tickets/{key}/comments", {"body": "hi \x00", "visibility": "public"}),
        (
            f"/desk/tickets/{key}/fields",
            {"version": version, "tags": "a\x00b", "category": "software", "impact": "me"},
        ),
        (
            f"/desk/tickets/{key}/fields",
            {"version": version, "title": "t\x00", "category": "software", "impact": "me"},
        ),
        (
            f"/desk/tickets/{key}/transitions/resolve",
            {"resolution_code": "fi\x00xed", "comment": "x\x00"},
        ),
    ]
    for path, data in posts:
        response = agent.post(path, data=data, headers=htmx(agent))
        assert response.status_code < 500, (path, data, response.text[:300])
    anonymous = web.client()
    login = anonymous.send_form("/login", {"email": "li\x00wei@example.com", "password": "x"})
    assert login.status_code == 401


def test_the_sla_panel_explains_time_counted_and_pauses(
    web: Web, people: dict[str, Actor], agent: Client, key: str
) -> None:
    service = web.service
    service.take_transition(people["agent"], key, "start")
    service.take_transition(people["agent"], key, "ask_requester", comment="Which version?")
    html = agent.get(f"/desk/tickets/{key}").text
    assert "Business time counted" in html
    assert "still paused" in html  # waiting on the customer stops the resolution clock
    service.take_transition(people["requester"], key, "requester_replied", comment="2021")
    html = agent.get(f"/desk/tickets/{key}").text
    assert "Clock paused" in html and "still paused" not in html
    assert "so the deadline is" in html  # the remaining time laid out over working hours
    chinese = web.client("li.wei@example.com")
    chinese.send_form("/language", {"language": "zh-CN"})
    assert "计时暂停" in chinese.get(f"/desk/tickets/{key}").text
