"""Requester-settable built-ins are one declared list (issue 20, finding 6): tags,
priority, team and assignee are staff-only unless a ticket type's `requester_may_set`
names them, and the API and the portal apply the same rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gongdan.bundle.loader import load_bundle
from gongdan.engine.store.database import Database
from tests.conftest import EXAMPLE
from tests.ui.api.conftest import INCIDENT, Login, api_app


def test_a_requester_sending_tags_is_refused_naming_the_field(login: Login) -> None:
    requester = login("mei@example.com", "requester")
    answer = requester.post("/api/v1/tickets", json={**INCIDENT, "tags": ["vip"]})
    assert answer.status_code == 403, answer.text
    problem = answer.json()
    assert "requester_may_set" in problem["fields"]["tags"]
    assert "it_incident" in problem["fields"]["tags"]
    assert requester.get("/api/v1/tickets").json()["items"] == []  # nothing was created


@pytest.mark.parametrize(
    ("name", "value"), [("priority", "urgent"), ("team", "service_desk"), ("tags", [])]
)
def test_every_staff_only_built_in_is_refused_to_a_requester(
    login: Login, name: str, value: object
) -> None:
    requester = login("mei@example.com", "requester")
    answer = requester.post("/api/v1/tickets", json={**INCIDENT, name: value})
    assert answer.status_code == 403, answer.text
    assert set(answer.json()["fields"]) == {name}


def test_staff_still_set_tags_and_priority(login: Login) -> None:
    agent = login("li.wei@example.com", "agent", teams=("service_desk",))
    answer = agent.post("/api/v1/tickets", json={**INCIDENT, "tags": ["vip"], "priority": "high"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["tags"], answer.json()["priority"]) == (["vip"], "high")


@pytest.fixture
def may_set_priority(db: Database, tmp_path: Path) -> FastAPI:
    """The example bundle whose `it_incident` lets requesters set the priority (and
    shows it on the portal's create form)."""
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("routing"))
    path = root / "ticket_types" / "it_incident.yaml"
    text = path.read_text("utf-8").replace(
        "workflow: incident\n", "workflow: incident\nrequester_may_set: [priority]\n", 1
    )
    path.write_text(text.replace("[title, description, category,", "[title, priority, category,"))
    return api_app(db, load_bundle(root), tmp_path / "files")


def test_a_ticket_type_may_let_requesters_set_the_priority(
    may_set_priority: FastAPI, db: Database
) -> None:
    from tests.factories import make_user
    from tests.ui.api.conftest import token_for

    make_user(db, "mei@example.com", "requester")
    client = TestClient(
        may_set_priority,
        headers={"Authorization": f"Bearer {token_for(db, 'mei@example.com')}"},
    )
    allowed = client.post("/api/v1/tickets", json={**INCIDENT, "priority": "high"})
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["priority"] == "high"
    still_refused = client.post("/api/v1/tickets", json={**INCIDENT, "tags": ["x"]})
    assert still_refused.status_code == 403
    assert set(still_refused.json()["fields"]) == {"tags"}


def test_requester_may_set_names_only_staff_only_built_ins(tmp_path: Path) -> None:
    from gongdan.errors import ConfigError

    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("routing"))
    path = root / "ticket_types" / "it_incident.yaml"
    path.write_text(
        path.read_text("utf-8").replace(
            "workflow: incident\n", "workflow: incident\nrequester_may_set: [state]\n", 1
        )
    )
    with pytest.raises(ConfigError, match=r"it_incident\.yaml:\d+"):
        load_bundle(root)
