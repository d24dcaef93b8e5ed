"""Bearer tokens at the door of the API, and the config routes readable without one."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy import select, update

from gongdan.engine.accounts import tokens
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.service import utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ApiToken, User
from gongdan.rules.workflow import Actor
from tests.cli.test_token import gongdan
from tests.factories import make_user
from tests.helpers import wait_until
from tests.sql import StatementRecorder
from tests.ui.api.conftest import INCIDENT, token_for


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gd_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_no_or_unknown_token_is_401_with_www_authenticate(
    app: FastAPI, headers: dict[str, str]
) -> None:
    client = TestClient(app)
    for method, url in (("GET", "/api/v1/tickets"), ("POST", "/api/v1/tickets")):
        response = client.request(method, url, headers=headers, json=INCIDENT)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"


def test_revoked_token_and_deactivated_user_are_401(app: FastAPI, db: Database) -> None:
    make_user(db, "crm@example.com", "agent")
    token = token_for(db, "crm@example.com")
    client = TestClient(app, headers=_bearer(token))
    assert client.get("/api/v1/tickets").status_code == 200
    accounts = AccountService(db)
    info = accounts.list_tokens("crm@example.com")[0]
    assert info.last_used_at is not None  # recorded on use
    accounts.revoke_token(Actor.system(), info.id)
    assert client.get("/api/v1/tickets").status_code == 401

    second = token_for(db, "crm@example.com")
    client = TestClient(app, headers=_bearer(second))
    assert client.get("/api/v1/tickets").status_code == 200
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == "crm@example.com"))
        assert user is not None
        user.active = False
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]
    with db.reading() as session:
        assert session.scalar(select(ApiToken.token_hash).where(ApiToken.id == 2)) != second


def _listening(db: Database) -> bool:
    """Whether this process hears the database's token changes (PostgreSQL only)."""
    return db.url in tokens._listening


def test_a_token_recognised_a_moment_ago_is_kept_only_while_changes_are_heard(
    app: FastAPI, db: Database, statements: StatementRecorder
) -> None:
    make_user(db, "crm@example.com", "agent")
    client = TestClient(app, headers=_bearer(token_for(db, "crm@example.com")))
    assert client.get("/api/v1/tickets").status_code == 200  # (starts listening)
    if db.dialect == "postgresql":
        assert wait_until(lambda: _listening(db), 10)
    tokens.forget_recent()
    with statements.recording(db) as seen:
        assert [client.get("/api/v1/tickets").status_code for _ in range(3)] == [200] * 3
    # PostgreSQL notifies every revocation: a token is looked up once, then kept.
    # SQLite cannot: every request looks its token up.
    expected = 1 if db.dialect == "postgresql" else 3
    assert seen.count("select", table="api_tokens") == expected, seen


def test_a_revocation_by_another_process_takes_effect_on_the_next_request(
    app: FastAPI, db: Database
) -> None:
    """Revoked elsewhere (`gongdan token revoke`: no session of this process saw it), a
    token recognised a moment ago is refused at once (issue 20, finding 11: it used to
    be honoured for a few more seconds)."""
    make_user(db, "crm@example.com", "agent")
    client = TestClient(app, headers=_bearer(token_for(db, "crm@example.com")))
    assert client.get("/api/v1/tickets").status_code == 200
    if db.dialect == "postgresql":
        assert wait_until(lambda: _listening(db), 10)
        assert client.get("/api/v1/tickets").status_code == 200  # now kept
        assert tokens._recent
    url = db.engine.url.render_as_string(hide_password=False)
    assert gongdan(url, "token", "revoke", "1").returncode == 0  # another process
    assert client.get("/api/v1/tickets").status_code == 401


def test_any_writer_of_a_revocation_or_deactivation_is_heard(app: FastAPI, db: Database) -> None:
    """Migration 0015's triggers fire for plain SQL too (another tool, a console), not
    only for writes through Gongdan's sessions."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite keeps no tokens: there is nothing to forget")
    make_user(db, "crm@example.com", "agent")
    client = TestClient(app, headers=_bearer(token_for(db, "crm@example.com")))
    assert client.get("/api/v1/tickets").status_code == 200
    assert wait_until(lambda: _listening(db), 10)
    for statement in (
        "UPDATE users SET active = false",
        "UPDATE api_tokens SET revoked_at = now()",
    ):
        # Recognised and kept (again: the last round's undoing was notified too).
        assert wait_until(
            lambda: client.get("/api/v1/tickets").status_code == 200 and bool(tokens._recent), 5
        )
        with db.engine.begin() as connection:  # not through a Session
            connection.exec_driver_sql(statement)
        assert wait_until(lambda: not tokens._recent, 5)  # notified on commit
        assert client.get("/api/v1/tickets").status_code == 401
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE users SET active = true")
            connection.exec_driver_sql("UPDATE api_tokens SET revoked_at = NULL")


def test_without_its_listener_a_process_keeps_no_token(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the listening connection is down (a restart of PostgreSQL), nothing is
    kept: a revocation made meanwhile cannot be missed."""
    make_user(db, "crm@example.com", "agent")
    client = TestClient(app, headers=_bearer(token_for(db, "crm@example.com")))
    monkeypatch.setattr(tokens, "_listening", set())
    tokens.forget_recent()
    assert client.get("/api/v1/tickets").status_code == 200
    assert not tokens._recent
    with db.engine.begin() as connection:  # not through a Session: as another process
        connection.execute(update(ApiToken).values(revoked_at=utc_now()))
    assert client.get("/api/v1/tickets").status_code == 401


def test_config_lists_types_and_schemas_without_internal_fields_for_non_staff(
    app: FastAPI, admin: TestClient
) -> None:
    anonymous = TestClient(app)
    types = anonymous.get("/api/v1/config/ticket-types")
    assert types.status_code == 200
    listed = {t["id"]: t for t in types.json()}
    assert "complaint" not in listed  # agents open complaints; not offered to requesters
    assert listed["it_incident"]["name"] == {"en": "IT incident", "zh-CN": "IT 故障"}
    assert {t["id"] for t in admin.get("/api/v1/config/ticket-types").json()} >= {"complaint"}

    public = anonymous.get(listed["after_sales"]["schema_url"]).json()
    Draft202012Validator.check_schema(public)
    assert "refund_amount" not in public["properties"]
    assert "inspection_notes" not in str(public)
    full = admin.get("/api/v1/config/ticket-types/after_sales/schema").json()
    assert "refund_amount" in full["properties"]

    missing = anonymous.get("/api/v1/config/ticket-types/nope/schema")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "not_found",
        "detail": "no ticket type 'nope'",
        "fields": {},
    }
    bad_token = anonymous.get("/api/v1/config/ticket-types", headers=_bearer("gd_nope"))
    assert bad_token.status_code == 401
