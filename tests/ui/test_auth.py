"""Signing in and out, who reaches the desk, CSRF, the language switch, on real databases."""

from __future__ import annotations

from tests.ui.conftest import PASSWORD, Web


def test_login_page_speaks_the_browsers_language(web: Web) -> None:
    client = web.client()
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 200 and "Sign in" in english.text
    assert 'name="csrf_token"' in english.text
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in chinese.text and '<html lang="zh-CN">' in chinese.text


def test_agent_signs_in_to_the_desk_and_out_again(web: Web) -> None:
    web.user("li.wei@example.com", "agent", teams=("service_desk",))
    client = web.client()
    response = client.send_form("/login", {"email": "LI.WEI@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    client.refresh_csrf("/desk/new")
    assert client.get("/desk").headers["location"] == "/desk/queues/mine"  # their own queue
    desk = client.get("/desk/new")
    assert desk.status_code == 200 and "li.wei" in desk.text
    out = client.send_form("/logout")
    assert out.status_code == 303
    assert client.get("/desk").headers["location"] == "/login?next=/desk"


def test_wrong_password_says_so_and_keeps_the_email(web: Web) -> None:
    web.user("li.wei@example.com")
    client = web.client()
    response = client.send_form("/login", {"email": "li.wei@example.com", "password": "nope"})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert 'value="li.wei@example.com"' in response.text
    unknown = client.send_form("/login", {"email": "who@example.com", "password": "x"})
    assert unknown.status_code == 401


def test_requester_goes_to_the_portal_and_cannot_reach_the_desk(web: Web) -> None:
    web.user("zhang.san@example.com", "requester")
    client = web.client()
    response = client.send_form("/login", {"email": "zhang.san@example.com", "password": PASSWORD})
    assert response.headers["location"] == "/portal"
    for path in ("/desk", "/desk/new", "/desk/new/it_incident"):
        refused = client.get(path)
        assert refused.status_code == 303 and refused.headers["location"] == "/portal"
    client.refresh_csrf("/no-such-page")
    htmx = client.post(
        "/desk/new/it_incident", headers={"HX-Request": "true", "X-CSRF-Token": client.csrf}
    )
    assert htmx.status_code == 403


def test_desk_sends_visitors_to_sign_in_and_back(web: Web) -> None:
    web.user("li.wei@example.com")
    client = web.client()
    response = client.get("/desk/new/it_incident?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/desk/new/it_incident%3Fx%3D1"
    htmx = client.get("/desk", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/login?next=/desk"
    back = client.send_form(
        "/login",
        {"email": "li.wei@example.com", "password": PASSWORD, "next": "/desk/new/it_incident"},
    )
    assert back.headers["location"] == "/desk/new/it_incident"


def test_next_never_leaves_the_site(web: Web) -> None:
    web.user("li.wei@example.com")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = web.client()
        response = client.send_form(
            "/login", {"email": "li.wei@example.com", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/desk"


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:
    web.user("li.wei@example.com")
    client = web.client("li.wei@example.com")
    refused = client.post("/logout", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 403
    assert "会话已过期" in refused.text and "安全令牌" in refused.text
    wrong = client.post("/logout", data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    # Still signed in: the refused posts changed nothing.
    assert client.get("/desk/new").status_code == 200
    # htmx sends the token as a header.
    ok = client.post("/logout", headers={"X-CSRF-Token": client.csrf})
    assert ok.status_code == 303


def test_login_itself_needs_the_token(web: Web) -> None:
    web.user("li.wei@example.com")
    client = web.client()
    response = client.post("/login", data={"email": "li.wei@example.com", "password": PASSWORD})
    assert response.status_code == 403


def test_the_api_is_not_subject_to_csrf(web: Web) -> None:
    client = web.client()
    response = client.post("/api/v1/no-such-endpoint", json={})
    assert response.status_code != 403
    assert response.headers["content-type"].startswith("application/json")


def test_language_switch_is_kept_on_the_account(web: Web) -> None:
    web.user("li.wei@example.com")
    client = web.client("li.wei@example.com")
    english = {"Accept-Language": "en"}
    assert "What kind of ticket?" in client.get("/desk/new", headers=english).text
    switched = client.send_form("/language", {"language": "zh-CN", "next": "/desk/new"})
    assert switched.status_code == 303 and switched.headers["location"] == "/desk/new"
    assert "选择工单类型" in client.get("/desk/new", headers=english).text
    # A new session of the same user reads Chinese too: it is stored on the user.
    again = web.client("li.wei@example.com")
    assert "选择工单类型" in again.get("/desk/new", headers=english).text


def test_anonymous_language_switch_lasts_the_session(web: Web) -> None:
    client = web.client()
    client.send_form("/language", {"language": "zh-CN", "next": "/login"})
    assert "登录" in client.get("/login", headers={"Accept-Language": "en"}).text


def test_root_sends_people_home(web: Web) -> None:
    web.user("li.wei@example.com")
    assert web.client().get("/").headers["location"] == "/login"
    assert web.client("li.wei@example.com").get("/").headers["location"] == "/desk"
