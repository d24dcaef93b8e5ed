"""The app as a whole: health, type schemas through the API, refusing a bad bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from gongdan.errors import ConfigError
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE, make_bundle


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    root = tmp_path_factory.mktemp("app")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGDAN_DATA_DIR", str(root / "data"))
        return TestClient(create_app(EXAMPLE, database_url=f"sqlite:///{root / 'g.db'}"))


def test_healthz_reports_the_config_version(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert len(response.json()["config_version"]) == 16


def test_ticket_type_schema_endpoint(client: TestClient) -> None:
    response = client.get("/api/v1/config/ticket-types/it_incident/schema")
    assert response.status_code == 200
    schema = response.json()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert not list(validator.iter_errors({"category": "software", "impact": "me"}))
    assert list(validator.iter_errors({"category": "teleport", "impact": "me"}))


def test_unknown_ticket_type_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/config/ticket-types/nope/schema")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "no ticket type 'nope'",
        "fields": {},
    }


def test_invalid_bundle_refuses_to_start(tmp_path: Path) -> None:
    root = make_bundle(tmp_path, {"teams/bad.yaml": "kind: Team\n"})
    with pytest.raises(ConfigError, match="missing required key 'name'"):
        create_app(root)


def test_the_favicon_is_served_not_a_404(client: TestClient) -> None:
    """Browsers ask for /favicon.ico on every page: a real icon, cached, not a 404."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert icon.content[22:30] == b"\x89PNG\r\n\x1a\n"  # holding one PNG image
    assert "max-age" in icon.headers["cache-control"]
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/login").text
