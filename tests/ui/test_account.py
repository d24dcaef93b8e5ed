"""The "My account" page as its users meet it: profile and language, password change,
and API tokens created and revoked in the page then used against the real API — on
SQLite and the real PostgreSQL (the `web` fixture)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gongdan.engine.accounts.tokens import find_user, list_tokens
from gongdan.engine.store.models import Event, User
from tests.factories import actor
from tests.ui.conftest import PASSWORD, Client, Web

AGENT = "li.wei@example.com"
REQUESTER = "zhang.san@example.com"
OTHER = "wang.wu@example.com"
NEW_PASSWORD = "a much longer secret 2026"  # noqa: S105 - test account only
_TOKEN = re.compile(r'id="new-token-value" type="text" readonly value="(gd_[^"]+)"')
_REVOKE = re.compile(r'action="/account/tokens/(\d+)/revoke"')


def _api(web: Web, token: str) -> TestClient:
    return TestClient(web.app, headers={"Authorization": f"Bearer {token}"})


def _create_token(client: Client, name: str = "CRM sync", **headers: str) -> str:
    response = client.send_form("/account/tokens", {"name": name}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    match = _TOKEN.search(response.text)
    assert match, "the new token is not on the page"
    return match.group(1)


def _incident(web: Web, email: str, title: str) -> str:
    result = web.service.create_ticket(
        actor(web.db, email),
        "it_incident",
        title=title,
        description="Since this morning.",
        fields={"category": "software", "impact": "me"},
    )
    return result.ticket.key


@pytest.fixture
def agent(web: Web) -> Client:
    web.user(AGENT, "agent", teams=("service_desk",))
    return web.client(AGENT)


@pytest.fixture
def requester(web: Web) -> Client:
    web.user(REQUESTER, "requester")
    return web.client(REQUESTER)


# The page -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "home"), [("admin", "/desk"), ("agent", "/desk"), ("requester", "/portal")]
)
def test_every_role_reaches_the_page_from_the_nav(web: Web, role: str, home: str) -> None:
    web.user("someone@example.com", role)
    client = web.client("someone@example.com")
    assert 'href="/account"' in client.get(home, follow_redirects=True).text
    page = client.get("/account")
    assert page.status_code == 200
    assert "someone@example.com" in page.text
    assert 'aria-current="page">My account</a>' in page.text
    assert "You have no API tokens." in page.text


def test_a_visitor_is_sent_to_sign_in(web: Web) -> None:
    response = web.client().get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


# API tokens ---------------------------------------------------------------------------


def test_token_from_the_page_works_in_the_api_until_revoked_in_the_page(
    web: Web, agent: Client
) -> None:
    token = _create_token(agent)
    assert token.startswith("gd_")
    api = _api(web, token)
    assert api.get("/api/v1/tickets").status_code == 200

    page = agent.get("/account").text
    assert token not in page  # shown once, never again
    assert "CRM sync" in page and f"<code>{token[:10]}…</code>" in page
    assert "Never" not in page  # the API call is the token's last use
    (token_id,) = _REVOKE.findall(page)

    revoked = agent.send_form(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    page = agent.get(revoked.headers["location"]).text
    assert f"The token {token[:10]}… is revoked." in page
    assert "Revoked 20" in page and not _REVOKE.findall(page)
    response = api.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    # Both are in the audit trail, by the agent, naming the token but never holding it.
    with web.db.reading() as session:
        owner = find_user(session, AGENT)
        events = session.scalars(
            select(Event).where(Event.kind.like("token.%")).order_by(Event.id)
        ).all()
    assert [(e.kind, e.actor_id) for e in events] == [
        ("token.created", owner.id),
        ("token.revoked", owner.id),
    ]
    assert events[1].after["prefix"] == token[:10] and events[1].after["name"] == "CRM sync"
    assert all(token not in str((e.before, e.after, e.detail)) for e in events)


def test_htmx_create_and_revoke_swap_only_the_token_section(web: Web, agent: Client) -> None:
    htmx = {"HX-Request": "true"}
    response = agent.send_form("/account/tokens", {"name": "Build bot"}, headers=htmx)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="tokens"')
    assert "<html" not in response.text
    assert "Copy it now: it is shown only this once" in response.text
    assert 'data-copy="new-token-value"' in response.text
    (token_id,) = _REVOKE.findall(response.text)
    response = agent.send_form(f"/account/tokens/{token_id}/revoke", headers=htmx)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="tokens"')
    assert "is revoked." in response.text


def test_a_token_needs_a_short_name(agent: Client) -> None:
    for name, message in (("   ", "is required"), ("x" * 201, "must be at most 200 characters")):
        response = agent.send_form("/account/tokens", {"name": name})
        assert response.status_code == 422
        assert f'id="token-name-error"><span class="sr-only">Error: </span>{message}' in (
            response.text
        )
        assert 'aria-invalid="true" aria-describedby="token-name-help token-name-error"' in (
            response.text
        )
    assert "You have no API tokens." in agent.get("/account").text


def test_another_users_token_is_404_and_stays_valid(web: Web, agent: Client) -> None:
    web.user(OTHER, "agent")
    other = web.client(OTHER)
    token = _create_token(other)
    (token_id,) = _REVOKE.findall(other.get("/account").text)

    for wrong in (token_id, "999999", "0", "-1", "abc", "9" * 30, "１"):
        response = agent.send_form(f"/account/tokens/{wrong}/revoke")
        assert response.status_code == 404, wrong
    assert token[:10] not in agent.get("/account").text  # not listed to anyone else
    assert _api(web, token).get("/api/v1/tickets").status_code == 200


def test_a_requesters_token_sees_their_own_tickets_only(web: Web, requester: Client) -> None:
    web.user(OTHER, "requester")
    mine = _incident(web, REQUESTER, "My printer jams")
    _incident(web, OTHER, "Someone else's laptop")
    page = requester.get("/account").text
    assert "the API shows a token of yours only your own requests" in page

    api = _api(web, _create_token(requester, "Home script"))
    response = api.get("/api/v1/tickets")
    assert response.status_code == 200
    assert [t["key"] for t in response.json()["items"]] == [mine]


# CSRF ---------------------------------------------------------------------------------


def test_every_post_without_the_csrf_token_is_403(web: Web, agent: Client) -> None:
    _create_token(agent)
    (token_id,) = _REVOKE.findall(agent.get("/account").text)
    posts = {
        "/account/profile": {"name": "Mallory", "language": "zh-CN"},
        "/account/password": {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
        "/account/tokens": {"name": "stolen"},
        f"/account/tokens/{token_id}/revoke": {},
    }
    for path, data in posts.items():
        assert agent.post(path, data=data).status_code == 403, path
        assert agent.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    with web.db.reading() as session:
        tokens = list_tokens(session, find_user(session, AGENT))
        user = find_user(session, AGENT)
        assert (user.name, user.language) == ("li.wei", "en")
    assert [t.revoked_at for t in tokens] == [None]
    assert web.client(AGENT, password=PASSWORD)  # the password did not change


# Password -----------------------------------------------------------------------------


def test_changed_password_signs_in_and_the_old_one_does_not(web: Web, agent: Client) -> None:
    response = agent.send_form(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    page = agent.get(response.headers["location"]).text
    assert "Your password is changed" in page

    fresh = web.client()
    refused = fresh.send_form("/login", {"email": AGENT, "password": PASSWORD})
    assert refused.status_code == 401
    assert web.client(AGENT, password=NEW_PASSWORD).get("/account").status_code == 200
    with web.db.reading() as session:
        user = session.scalar(select(User).where(User.email == AGENT))
        assert user is not None
        events = session.scalars(select(Event).where(Event.actor_id == user.id)).all()
        changed = [e for e in events if e.kind == "user.password_changed"]
        assert len(changed) == 1 and changed[0].ticket_id is None
        assert NEW_PASSWORD not in str(changed[0].detail) + str(changed[0].after)


def test_a_new_password_ends_every_other_session(web: Web, agent: Client) -> None:
    laptop = web.client(AGENT)  # signed in elsewhere (or a stolen cookie)
    assert laptop.get("/account").status_code == 200
    response = agent.send_form(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Your password is changed" in response.text
    assert agent.get("/account").status_code == 200  # this session goes on
    response = laptop.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"
    assert laptop.get("/account").status_code == 303  # and stays signed out


def test_wrong_current_password_is_said_next_to_the_field(web: Web, agent: Client) -> None:
    response = agent.send_form(
        "/account/password",
        {
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section class="card" id="password"')
    assert (
        'id="password-current-password-error"><span class="sr-only">Error: </span>'
        "is not your current password</p>"
    ) in response.text
    assert 'href="#password-current-password">Current password</a>' in response.text
    assert 'id="password-new-password-error"' not in response.text
    assert web.client(AGENT, password=PASSWORD)  # unchanged


@pytest.mark.parametrize(
    ("new", "repeat", "field", "message"),
    [
        ("short", "short", "new-password", "must be at least 10 characters"),
        ("x" * 1025, "x" * 1025, "new-password", "must be at most 1024 characters"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "repeat-password", "does not match the new password"),
    ],
)
def test_weak_or_mistyped_new_password_is_refused(
    web: Web, agent: Client, new: str, repeat: str, field: str, message: str
) -> None:
    response = agent.send_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new, "repeat_password": repeat},
    )
    assert response.status_code == 422
    assert f'id="password-{field}-error"><span class="sr-only">Error: </span>{message}' in (
        response.text
    )
    assert web.client(AGENT, password=PASSWORD)  # unchanged


def test_password_errors_in_chinese(web: Web, agent: Client) -> None:
    agent.send_form("/account/profile", {"name": "李伟", "language": "zh-CN"})
    response = agent.send_form(
        "/account/password",
        {"current_password": "nope", "new_password": "短", "repeat_password": "短"},
    )
    assert response.status_code == 422
    assert "不是您当前的密码" in response.text
    assert "至少 10 个字符" in response.text
    assert "修改密码" in response.text
    refused = agent.send_form("/account/profile", {"name": "李伟", "language": "fr"})
    assert refused.status_code == 422
    assert "须为以下之一：en, zh-CN" in refused.text


# Profile ------------------------------------------------------------------------------


def test_profile_name_and_language_are_saved(web: Web, requester: Client) -> None:
    response = requester.send_form("/account/profile", {"name": "  张 三  ", "language": "zh-CN"})
    assert response.status_code == 303
    page = requester.get(response.headers["location"]).text
    assert '<html lang="zh-CN">' in page
    assert "个人资料已保存。" in page
    assert 'value="张 三"' in page
    assert "当前用户：张 三" in page
    with web.db.reading() as session:
        user = find_user(session, REQUESTER)
        assert (user.name, user.language) == ("张 三", "zh-CN")
        event = session.scalar(
            select(Event).where(Event.actor_id == user.id, Event.kind == "user.updated")
        )
        assert event is not None
        assert event.before == {"language": "en", "name": "zhang.san"}
        assert event.after == {"language": "zh-CN", "name": "张 三"}


@pytest.mark.parametrize(
    ("name", "language", "field", "message"),
    [
        ("   ", "en", "name", "is required"),
        ("n" * 201, "en", "name", "must be at most 200 characters"),
        ("Bell\x07", "en", "name", "has control characters"),
        ("Zhang", "fr", "language", "must be one of: en, zh-CN"),
    ],
)
def test_bad_profile_is_refused_next_to_the_field(
    web: Web, agent: Client, name: str, language: str, field: str, message: str
) -> None:
    response = agent.send_form("/account/profile", {"name": name, "language": language})
    assert response.status_code == 422
    assert f'id="profile-{field}-error"><span class="sr-only">Error: </span>{message}' in (
        response.text
    )
    with web.db.reading() as session:
        assert find_user(session, AGENT).name == "li.wei"


def test_email_is_read_only(web: Web, agent: Client) -> None:
    page = agent.get("/account").text
    assert re.search(
        r'<input id="profile-email" type="email" value="li.wei@example.com" readonly', page
    )
    agent.send_form(
        "/account/profile", {"name": "Li Wei", "language": "en", "email": "x@example.com"}
    )
    with web.db.reading() as session:
        assert find_user(session, AGENT).email == AGENT
