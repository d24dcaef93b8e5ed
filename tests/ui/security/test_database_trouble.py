"""Issue 20, findings 9 and 12, against a real `gongdan serve` on PostgreSQL (a
database of its own, `<test db>_outage`; the PostgreSQL server itself is never
stopped, other tests use it):

- a database that goes away (connections cut, new ones refused) gives 503 with
  `Retry-After`, JSON `{error: "unavailable"}` on the API and a bilingual page on
  HTML, on a connection that stays usable, and everything works again once it is back;
- a hung database call of one request (a token lookup waiting on a lock) does not
  stall the worker's other requests.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from gongdan.engine import Database
from tests.conftest import PG_ADMIN_URL, PG_TEST_DB, service_unavailable
from tests.helpers import run_gongdan, wait_until
from tests.ui.security.server import Served, raw_request, read_answer, served

NAME = f"{PG_TEST_DB}_outage"


@pytest.fixture(scope="module")
def admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {NAME}"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        service_unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.orig}")
    yield engine
    with engine.connect() as connection:
        connection.execute(sa.text(f"ALTER DATABASE {NAME} ALLOW_CONNECTIONS true"))
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))
    engine.dispose()


@pytest.fixture(scope="module")
def pg_server(admin: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    url = sa.make_url(PG_ADMIN_URL).set(database=NAME).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    database.dispose()
    with served(tmp_path_factory.mktemp("pg"), database_url=url) as running:
        yield running


def _token(server: Served) -> str:
    env = {**os.environ, "GONGDAN_DATABASE_URL": server.database_url}
    done = run_gongdan("token", "create", "admin@example.com", "--name", "outage", env=env)
    found = re.search(r"gd_\S+", done.stdout)
    assert found, done.stdout + done.stderr
    return found.group(0)


def test_a_hung_token_lookup_does_not_stall_other_requests(
    pg_server: Served, admin: sa.Engine
) -> None:
    token = _token(pg_server)
    answers: list[int] = []
    lock_engine = sa.create_engine(pg_server.database_url)
    with lock_engine.connect() as locker:
        locker.execute(sa.text("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE"))

        def ask() -> None:
            with httpx.Client(base_url=pg_server.base, timeout=60) as client:
                answer = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
                answers.append(answer.status_code)

        waiting = threading.Thread(target=ask)
        waiting.start()
        time.sleep(1.0)  # the lookup now waits for the lock
        started = time.monotonic()
        with httpx.Client(base_url=pg_server.base, timeout=5) as client:
            health = client.get("/healthz")
        assert health.status_code == 200
        assert time.monotonic() - started < 3
        assert answers == [], "the token lookup did not wait for the lock"
        locker.rollback()
    waiting.join(timeout=30)
    lock_engine.dispose()
    assert answers == [200]


def _allow(admin: sa.Engine, allowed: bool) -> None:
    with admin.connect() as connection:
        connection.execute(
            sa.text(f"ALTER DATABASE {NAME} ALLOW_CONNECTIONS {'true' if allowed else 'false'}")
        )
        if not allowed:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": NAME},
            )


def test_a_database_outage_answers_503_and_the_service_comes_back(
    pg_server: Served, admin: sa.Engine, tmp_path: Path
) -> None:
    token = _token(pg_server)
    auth = {"Authorization": f"Bearer {token}"}
    html = httpx.Client(base_url=pg_server.base)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html.get("/login").text)
    assert csrf
    with httpx.Client(base_url=pg_server.base) as client:
        assert client.get("/api/v1/tickets", headers=auth).status_code == 200
    _allow(admin, False)
    try:
        # Two requests on one connection: the 503 leaves it usable (or says it closes).
        sock = raw_request(
            pg_server.port,
            f"GET /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}",
        )
        with sock:
            status, headers, body = read_answer(sock)
            assert status == 503, body[:300]
            assert headers["content-type"] == "application/json"
            assert b'"error":"unavailable"' in body
            assert int(headers["retry-after"]) > 0
            if headers.get("connection") != "close":
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                again, _, health = read_answer(sock)
                assert again == 503 and b"unavailable" in health
        page = html.post(
            "/login",
            data={"email": "admin@example.com", "password": "demo", "csrf_token": csrf.group(1)},
            headers={"Accept-Language": "zh-CN"},
        )
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "工单系统暂时无法使用" in page.text and int(page.headers["retry-after"]) > 0
    finally:
        _allow(admin, True)
    with httpx.Client(base_url=pg_server.base) as client:
        assert wait_until(
            lambda: client.get("/api/v1/tickets", headers=auth).status_code == 200, timeout=20
        )
        assert client.get("/healthz").status_code == 200
    html.close()
