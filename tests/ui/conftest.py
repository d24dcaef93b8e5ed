"""Fixtures for the web UI: the real app over a real database (SQLite file or the real
PostgreSQL, like `db`), and signed-in browsers-in-a-test (`TestClient`s).

`web` builds the app on the example bundle (routing included) and the `db` fixture's
database; `web.client(email)` signs a user in through `/login` and keeps their CSRF
token on `client.csrf` for posts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE
from tests.factories import make_user

PASSWORD = "correct horse battery"  # noqa: S105 - test accounts only
_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def page_token(html: str) -> str:
    """The CSRF token a page carries (in <body hx-headers>)."""
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class Client(TestClient):
    """A TestClient that remembers its session's CSRF token."""

    csrf: str = ""

    def refresh_csrf(self, path: str = "/login") -> str:
        self.csrf = page_token(self.get(path, follow_redirects=True).text)
        return self.csrf

    def send_form(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form the way the browser does without htmx (token as a field)."""
        return self.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@dataclass
class Web:
    app: FastAPI
    db: Database
    service: TicketService

    def user(self, email: str, role: str = "agent", teams: tuple[str, ...] = ()) -> Actor:
        return make_user(self.db, email, role, teams=teams, password=PASSWORD)

    def client(self, email: str | None = None, *, password: str = PASSWORD) -> Client:
        client = Client(self.app, follow_redirects=False)
        client.refresh_csrf("/login")
        if email is not None:
            response = client.send_form("/login", {"email": email, "password": password})
            assert response.status_code == 303, response.text
            client.refresh_csrf(response.headers["location"])
        return client


def _url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def web(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GONGDAN_SECRET_KEY", raising=False)
    app = create_app(EXAMPLE, database_url=_url(db))
    yield Web(app, app.state.db, app.state.service)
    app.state.db.dispose()
