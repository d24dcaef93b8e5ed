"""Fixtures of the admin console's tests: the app over a copy of the example config
(saves write to it, never to the repository's `config/`), an admin, an agent and a
requester, each signed in through `/login`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gongdan.engine.store.database import Database
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE, make_bundle
from tests.ui.conftest import Client, Web

ADMIN, AGENT, REQUESTER = "wang.fang@example.com", "li.wei@example.com", "zhang.san@example.com"


@dataclass
class Console:
    web: Web
    root: Path
    admin: Client
    agent: Client
    requester: Client


@pytest.fixture
def console(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GONGDAN_SECRET_KEY", raising=False)
    root = make_bundle(tmp_path, base=EXAMPLE)
    app = create_app(root, database_url=db.engine.url.render_as_string(hide_password=False))
    web = Web(app, app.state.db, app.state.service)
    web.user(ADMIN, "admin")
    web.user(AGENT, "agent", teams=("service_desk",))
    web.user(REQUESTER, "requester")
    yield Console(web, root, web.client(ADMIN), web.client(AGENT), web.client(REQUESTER))
    app.state.db.dispose()
