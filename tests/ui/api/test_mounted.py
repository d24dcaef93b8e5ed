"""The API inside the whole app (`create_app`): bearer tokens instead of the session
and CSRF of the HTML side, JSON errors, and OpenAPI at /docs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gongdan.engine.store.database import Database
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE
from tests.factories import make_user
from tests.ui.api.conftest import INCIDENT, token_for


def test_the_whole_app_serves_the_api_with_tokens_and_no_csrf(db: Database, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config, ignore=shutil.ignore_patterns("routing"))
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config, database_url=url)
    try:
        _check(app, db)
    finally:
        app.state.db.dispose()


def _check(app: FastAPI, db: Database) -> None:
    make_user(db, "crm@example.com", "agent")
    client = TestClient(app, follow_redirects=False)

    anonymous = client.post("/api/v1/tickets", json=INCIDENT)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "unauthorized"

    headers = {"Authorization": f"Bearer {token_for(db, 'crm@example.com')}"}
    created = client.post("/api/v1/tickets", json=INCIDENT, headers=headers)  # no CSRF token
    assert created.status_code == 201, created.text
    missing = client.get("/api/v1/tickets/INC-404", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json()["error"] == "not_found"

    spec = client.get("/openapi.json").json()
    assert {"/api/v1/tickets", "/api/v1/tickets/{key}/sla", "/api/v1/uploads"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    patch = spec["paths"]["/api/v1/tickets/{key}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Swagger UI comes from the app itself: the docs work on a desk without internet.
    assert "https://" not in docs.text and "http://" not in docs.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text) + re.findall(
        r"url: '(/[^']+)'", docs.text
    ):
        assert client.get(asset).status_code == 200, asset
