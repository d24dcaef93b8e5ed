"""Issue 20, finding 1: sessions end on the server at once (logout, a new password, an
admin's "sign out everywhere", deactivation), against a real `gongdan serve`; idle and
absolute lifetimes on the engine with a clock."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx2 as httpx

from gongdan.engine import AccountService, Database
from gongdan.rules.workflow import Actor
from tests.helpers import run_gongdan
from tests.ui.security.server import Served, add_user, csrf_of, signed_in_client

PASSWORD = "a long enough password"  # noqa: S105 - a test account's


def _signed_in(base: str, cookies: dict[str, str]) -> bool:
    """Whether a browser holding `cookies` (and nothing else) is signed in."""
    with httpx.Client(base_url=base, cookies=cookies) as other:
        return other.get("/account").status_code == 200


def test_a_cookie_copied_before_logout_no_longer_signs_in(server: Served) -> None:
    add_user(server, "logout@example.com", PASSWORD)
    with closing(signed_in_client(server.base, "logout@example.com", PASSWORD)) as client:
        stolen = dict(client.cookies)
        assert _signed_in(server.base, stolen)
        out = client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})
        assert out.status_code == 303
    assert not _signed_in(server.base, stolen)


def test_a_new_password_ends_every_other_session_but_the_one_that_set_it(
    server: Served,
) -> None:
    add_user(server, "newpass@example.com", PASSWORD)
    other = signed_in_client(server.base, "newpass@example.com", PASSWORD)
    with closing(signed_in_client(server.base, "newpass@example.com", PASSWORD)) as client:
        changed = client.post(
            "/account/password",
            data={
                "csrf_token": csrf_of(client, "/account"),
                "current_password": PASSWORD,
                "new_password": PASSWORD + "!",
                "repeat_password": PASSWORD + "!",
            },
        )
        assert changed.status_code == 303
        assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 303
    other.close()


def test_sign_out_everywhere_and_deactivation_end_sessions_at_once(server: Served) -> None:
    add_user(server, "everywhere@example.com", PASSWORD)
    add_user(server, "leaver@example.com", PASSWORD)
    phone = signed_in_client(server.base, "everywhere@example.com", PASSWORD)
    laptop = signed_in_client(server.base, "everywhere@example.com", PASSWORD)
    env = {**os.environ, "GONGDAN_DATABASE_URL": server.database_url}
    done = run_gongdan("user", "signout", "everywhere@example.com", env=env)
    assert done.returncode == 0 and "2 sessions ended" in done.stdout, done.stderr
    assert phone.get("/account").status_code == 303
    assert laptop.get("/account").status_code == 303
    unknown = run_gongdan("user", "signout", "nobody@example.com", env=env)
    assert unknown.returncode == 1 and "no user" in unknown.stderr

    leaver = signed_in_client(server.base, "leaver@example.com", PASSWORD)
    assert leaver.get("/account").status_code == 200
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE users SET active = 0 WHERE email = 'leaver@example.com'")
    assert leaver.get("/account").status_code == 303
    for client in (phone, laptop, leaver):
        client.close()


def test_sessions_end_when_idle_or_too_old(db: Database) -> None:
    now = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]
    accounts = AccountService(db, clock=lambda: now[0])
    user = accounts.add_user("idle@example.com", role="agent", password=PASSWORD)
    limits = {"idle": timedelta(minutes=30), "lifetime": timedelta(hours=8)}
    key = accounts.start_session(user.id)
    for _ in range(20):  # used every 29 minutes: never idle, but over in 8 hours
        now[0] += timedelta(minutes=29)
        alive = accounts.session_account(key, **limits)
        if now[0] - datetime(2026, 12, 7, 9, 0, tzinfo=UTC) <= timedelta(hours=8):
            assert alive is not None and alive.email == "idle@example.com"
        else:
            assert alive is None
            break
    else:
        raise AssertionError("the session outlived its absolute lifetime")
    idle = accounts.start_session(user.id)
    now[0] += timedelta(minutes=31)
    assert accounts.session_account(idle, **limits) is None
    assert accounts.session_account(idle, **limits) is None  # and it stays over
    ended = accounts.start_session(user.id)
    assert accounts.sign_out_everywhere(Actor.system(), "idle@example.com") >= 1
    assert accounts.session_account(ended, **limits) is None
