"""Issue 20, finding 2: sign-in, password mails and API tokens are throttled per
account and per address (429 with Retry-After), a locked account's owner is told by
mail, and an unknown address answers alike; against a real `gongdan serve` (the
server of `conftest`: 3 failed sign-ins per account, 5 unknown tokens per address)."""

from __future__ import annotations

import sqlite3

import httpx2 as httpx

from tests.ui.security.server import Served, add_user, csrf_of

PASSWORD = "a long enough password"  # noqa: S105 - a test account's


def _try(base: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base) as client:
        data = {"email": email, "password": password, "csrf_token": csrf_of(client)}
        return client.post("/login", data=data)


def _outbox(served: Served, topic: str) -> list[str]:
    with sqlite3.connect(served.database_url.removeprefix("sqlite:///")) as connection:
        rows = connection.execute("SELECT payload FROM outbox WHERE topic = ?", (topic,))
        return [row[0] for row in rows]


def test_wrong_passwords_lock_the_account_even_for_the_right_one_and_mail_its_owner(
    server: Served,
) -> None:
    add_user(server, "locked@example.com", PASSWORD)
    wrong = [_try(server.base, "locked@example.com", f"guess {n}").status_code for n in range(3)]
    assert wrong == [401, 401, 401]
    right = _try(server.base, "Locked@Example.com ", PASSWORD)
    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 120
    assert "Too many requests" in right.text
    mails = _outbox(server, "account.locked")
    assert len(mails) == 1 and "locked@example.com" in mails[0]


def test_an_address_nobody_has_answers_exactly_as_an_account_does(server: Served) -> None:
    add_user(server, "exists@example.com", PASSWORD)
    answers = {}
    for email in ("exists@example.com", "nobody.here@example.com"):
        statuses = [_try(server.base, email, f"guess {n}").status_code for n in range(4)]
        last = _try(server.base, email, PASSWORD)
        answers[email] = (statuses, last.status_code, sorted(last.headers.keys()))
    assert answers["exists@example.com"] == answers["nobody.here@example.com"]
    assert answers["exists@example.com"][0] == [401, 401, 401, 429]
    # Only the real account's owner is told (the other address has no owner).
    assert not any("nobody.here" in payload for payload in _outbox(server, "account.locked"))


def test_a_successful_sign_in_clears_the_failures_of_its_account(server: Served) -> None:
    add_user(server, "forgetful@example.com", PASSWORD)
    for _ in range(2):
        assert _try(server.base, "forgetful@example.com", "nope").status_code == 401
    assert _try(server.base, "forgetful@example.com", PASSWORD).status_code == 303
    for _ in range(2):
        assert _try(server.base, "forgetful@example.com", "nope").status_code == 401
    assert _try(server.base, "forgetful@example.com", PASSWORD).status_code == 303


def test_unknown_api_tokens_from_one_address_are_refused_with_429(server: Served) -> None:
    with httpx.Client(base_url=server.base) as client:
        statuses = [
            client.get(
                "/api/v1/tickets", headers={"Authorization": f"Bearer gd_guess{n}"}
            ).status_code
            for n in range(7)
        ]
        assert statuses[:5] == [401] * 5
        assert statuses[5:] == [429, 429]
        refused = client.get("/api/v1/tickets", headers={"Authorization": "Bearer gd_more"})
        assert refused.json()["error"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) > 0
