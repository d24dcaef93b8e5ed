"""The portal's home, sign-up and new-request pages, through the real app on a real
database: what a requester sees, what they may not, and every error they can make."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gongdan.engine.accounts.throttle import DatabaseCounts
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.ui.app import ACCOUNT_REQUESTS, create_app
from gongdan.ui.ratelimit import Throttle
from gongdan.ui.websettings import WebSettings
from tests.bundles import EXAMPLE, make_bundle
from tests.factories import access_request
from tests.sql import StatementRecorder, Statements
from tests.ui.conftest import Web
from tests.ui.portal.conftest import AGENT, OTHER, People

GOOD_PASSWORD = "a long enough secret"  # noqa: S105 - a test account


def test_the_portal_asks_to_sign_in(web: Web) -> None:
    response = web.client().get("/portal")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portal"


def test_my_requests_with_their_progress(people: People) -> None:
    mine = people.incident()
    theirs = people.incident(people.other)
    page = people.client().get("/portal").text
    assert mine in page and theirs not in page
    assert 'class="steps compact"' in page and 'aria-current="step"' in page
    assert "New request" in page and "Outlook keeps crashing" in page


def test_my_requests_in_chinese(people: People) -> None:
    people.incident()
    client = people.client()
    assert client.send_form("/language", {"language": "zh-CN"}).status_code == 303
    page = client.get("/portal").text
    assert "我的请求" in page and "新建" in page  # the state label of the workflow


def test_an_empty_portal_invites_a_first_request(people: People) -> None:
    page = people.client().get("/portal").text
    assert "You have no requests yet." in page


# Sign-up ---------------------------------------------------------------------------


def test_sign_up_mails_a_link_and_signs_nobody_in_yet(web: Web) -> None:
    client = web.client()
    form = client.get("/portal/signup")
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    response = client.send_form(
        "/portal/signup",
        {"email": "Chen.Jing@Example.com", "name": "Chen Jing", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 200 and "Check your mail" in response.text
    assert "chen.jing@example.com" in response.text
    assert client.get("/portal").status_code == 303  # not signed in
    # The rest of the way (the mail, the link, signing in) is in test_signup_verification.


def test_sign_up_shows_every_problem_next_to_its_field(web: Web) -> None:
    client = web.client()
    response = client.send_form(
        "/portal/signup", {"email": "not-an-address", "name": " ", "password": "short"}
    )
    assert response.status_code == 422
    assert 'id="signup-email-error">must be an email address' in response.text
    assert 'id="signup-name-error">is required' in response.text
    assert 'id="signup-password-error">must be at least 10 characters' in response.text
    assert 'value="not-an-address"' in response.text  # what was typed stays
    assert GOOD_PASSWORD not in response.text


def test_sign_up_with_a_taken_address(people: People) -> None:
    client = people.web.client()
    response = client.send_form(
        "/portal/signup", {"email": OTHER.upper(), "name": "Someone", "password": GOOD_PASSWORD}
    )
    # Answered as any new address is: nothing tells whoever typed it that an account
    # exists (its owner is mailed a set-password link instead).
    assert response.status_code == 200
    assert "already registered" not in response.text
    assert OTHER.lower() in response.text


def test_sign_up_errors_in_chinese(web: Web) -> None:
    client = web.client()
    client.headers["Accept-Language"] = "zh-CN"
    response = client.send_form("/portal/signup", {"email": "x@", "name": "X"})
    assert response.status_code == 422
    assert "注册账户" in response.text and "至少 10 个字符" in response.text
    assert "须为邮箱地址" in response.text


def test_the_sign_in_page_offers_sign_up(web: Web) -> None:
    page = web.client().get("/login").text
    assert 'href="/portal/signup"' in page and "Create an account" in page


def test_sign_up_is_closed_without_the_flag(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    root = make_bundle(tmp_path, {"portal.yaml": None}, base=EXAMPLE)
    app = create_app(root, database_url=db_url)
    try:
        client = TestClient(app, follow_redirects=False)
        assert client.get("/portal/signup").status_code == 404
        token = client.get("/login").text.split('"X-CSRF-Token": "')[1].split('"')[0]
        response = client.post(
            "/portal/signup",
            data={"csrf_token": token, "email": "a@example.com", "name": "A", "password": "x" * 12},
        )
        assert response.status_code == 404
    finally:
        app.state.db.dispose()


def test_sign_up_needs_the_csrf_token(web: Web) -> None:
    client = web.client()
    response = client.post(
        "/portal/signup", data={"email": "a@example.com", "name": "A", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 403


# New request -----------------------------------------------------------------------


def test_choose_among_the_portal_types(people: People) -> None:
    page = people.client().get("/portal/new").text
    for type_id in ("it_incident", "after_sales", "access_request", "equipment_maintenance"):
        assert f'href="/portal/new/{type_id}"' in page
    assert "/portal/new/complaint" not in page  # `portal: false`
    assert people.client().get("/portal/new/complaint").status_code == 404
    assert people.client().get("/portal/new/nope").status_code == 404


def test_the_create_form_never_offers_internal_or_staff_fields(people: People) -> None:
    page = people.client().get("/portal/new/equipment_maintenance").text
    for internal in ("root_cause", "parts_used", "parts_notes", "work_performed", "downtime"):
        assert f'name="{internal}' not in page
    for staff in ("priority", "team", "assignee", "requester"):
        assert f'name="{staff}"' not in page
    assert (
        'name="device_id"' in page and 'hx-post="/portal/new/equipment_maintenance/check"' in page
    )


def test_create_a_request(people: People) -> None:
    client = people.client()
    response = client.send_form(
        "/portal/new/it_incident",
        {"title": "VPN drops", "description": "Every 5 minutes", "category": "network",
         "impact": "me"},
    )  # fmt: skip
    assert response.status_code == 303
    key = response.headers["location"].removeprefix("/portal/tickets/").split("?")[0]
    ticket = people.web.service.get_ticket(people.agent, key)
    assert ticket.requester == "zhang.san@example.com" and ticket.data["category"] == "network"
    page = client.get(response.headers["location"]).text
    assert f"Your request {key} has been received" in page


def test_create_shows_errors_and_keeps_what_was_typed(people: People) -> None:
    response = people.client().send_form(
        "/portal/new/it_incident",
        {"title": "", "description": "Keeps what I typed", "category": "hardware"},
    )
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text
    assert "Keeps what I typed" in response.text
    assert 'id="new-device_serial"' in response.text  # required for hardware, now shown


def test_a_requester_cannot_slip_in_staff_fields(people: People) -> None:
    response = people.client().send_form(
        "/portal/new/it_incident",
        {"title": "Sneaky", "category": "software", "impact": "me", "priority": "urgent",
         "team": "escalation"},
    )  # fmt: skip
    assert response.status_code == 303
    key = response.headers["location"].removeprefix("/portal/tickets/").split("?")[0]
    ticket = people.web.service.get_ticket(people.agent, key)
    assert ticket.priority == "normal" and ticket.team != "escalation"


def test_inline_check_shows_fields_that_depend_on_a_choice(people: People) -> None:
    client = people.client()
    response = client.post(
        "/portal/new/it_incident/check",
        data={"title": "x", "category": "hardware"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "category", "X-CSRF-Token": client.csrf},
    )
    assert response.status_code == 200
    assert 'id="new-device_serial"' in response.text and 'hx-swap-oob="outerHTML"' in response.text


def test_upload_while_creating(people: People) -> None:
    client = people.client()
    response = client.post(
        "/portal/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("error.txt", b"Error 0x80070005", "text/plain")},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf},
    )
    assert response.status_code == 200, response.text
    assert "error.txt" in response.text
    link = re.search(r'href="(/portal/attachments/[\w-]+)"', response.text)
    assert link, "the uploaded file links to the portal's download"
    assert client.get(link.group(1)).content == b"Error 0x80070005"
    refused = client.post(
        "/portal/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("evil.exe", b"MZ", "application/x-msdownload")},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf},
    )
    assert refused.status_code == 422


def test_an_approver_decides_in_the_portal(people: People) -> None:
    key = access_request(people.web.service, people.requester, OTHER).ticket.key
    approver = people.client(OTHER)
    home = approver.get("/portal").text
    assert "Waiting for your decision" in home and f'href="/portal/tickets/{key}"' in home
    page = approver.get(f"/portal/tickets/{key}").text
    assert "/transitions/approve" in page and "/transitions/reject" in page
    assert "/transitions/provide_info" not in page  # the requester's, not the approver's
    response = approver.send_form(f"/portal/tickets/{key}/transitions/approve", {"comment": "OK"})
    assert response.status_code == 303
    assert people.web.service.get_ticket(people.requester, key).state == "approved"
    # The requester does not approve their own request, and has nothing to decide.
    mine = people.client()
    assert "Waiting for your decision" not in mine.get("/portal").text
    assert mine.send_form(f"/portal/tickets/{key}/transitions/reject").status_code == 404


def test_my_requests_page_costs_the_same_statements_for_1_or_20_tickets(
    people: People, statements: StatementRecorder
) -> None:
    client = people.client()

    def page() -> Statements:
        with statements.recording(people.web.db) as seen:
            assert client.get("/portal").status_code == 200
        return seen

    people.incident()
    few = page()
    for _ in range(19):
        people.incident()
    many = page()
    assert many.kinds() == few.kinds(), many
    # Reads only: the account and its teams, the requests, their people, the ones
    # waiting for a decision and theirs.
    assert few.count() == few.count("select") <= 6, few


def test_a_tampered_cursor_starts_from_the_first_page(people: People) -> None:
    key = people.incident()
    response = people.client().get("/portal?cursor=not-a-cursor")
    assert response.status_code == 200 and key in response.text


def test_sign_ups_from_one_address_are_limited(web: Web) -> None:
    client = web.client()
    answers = [
        client.send_form(
            "/portal/signup", {"email": f"bot{n}@example.com", "name": "Bot", "password": "short"}
        ).status_code
        for n in range(ACCOUNT_REQUESTS + 1)
    ]
    assert answers == [422] * ACCOUNT_REQUESTS + [429]
    refused = client.send_form(
        "/portal/signup", {"email": "late@example.com", "name": "Late", "password": GOOD_PASSWORD}
    )
    assert refused.status_code == 429 and "Too many requests" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    with web.db.reading() as session:  # the refused one made no account
        assert session.scalar(select(User).where(User.email == "late@example.com")) is None


def test_the_limit_counts_per_address_and_forgets_after_the_window(db: Database) -> None:
    now = [1000.0]
    settings = WebSettings(account_mail_limit=2, account_mail_window_seconds=60)
    throttle = Throttle(DatabaseCounts(db, clock=lambda: now[0]), settings)
    waits = [throttle.count("signup", ip="10.0.0.1")[0] for _ in range(3)]
    assert waits == [None, None, 60]
    assert throttle.count("signup", ip="10.0.0.2")[0] is None  # its own count
    assert throttle.blocked("signup", ip="10.0.0.1") == 60
    now[0] = 1060.5
    assert throttle.blocked("signup", ip="10.0.0.1") is None
    assert throttle.count("signup", ip="10.0.0.1") == (None, {"ip": 1})


def test_a_requesters_upload_is_not_readable_from_the_desk_before_it_is_attached(
    people: People,
) -> None:
    # Issue 20, finding 5: the desk served any unattached upload to any agent.
    client = people.client()
    response = client.post(
        "/portal/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("payslip.txt", b"salary 1234", "text/plain")},
        headers={"HX-Request": "true", "X-CSRF-Token": client.csrf},
    )
    link = re.search(r'href="/portal/attachments/([\w-]+)"', response.text)
    assert link and not link.group(1).isdigit()
    assert client.get(f"/portal/attachments/{link.group(1)}").content == b"salary 1234"
    agent = people.client(AGENT)
    assert agent.get(f"/desk/attachments/{link.group(1)}").status_code == 404
    assert people.client(OTHER).get(f"/portal/attachments/{link.group(1)}").status_code == 404
