"""The portal follows the one rule the API follows (issue 20, finding 6): a ticket
type's `requester_may_set` puts a staff-only built-in on the create form and lets it
through; the others are neither shown nor taken."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gongdan.engine.store.database import Database
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE
from tests.ui.conftest import Web, _url


@pytest.fixture
def may_set_priority(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Web]:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "ticket_types" / "it_incident.yaml"
    text = path.read_text("utf-8").replace(
        "workflow: incident\n", "workflow: incident\nrequester_may_set: [priority]\n", 1
    )
    path.write_text(
        text.replace("[title, description, category,", "[title, priority, tags, category,")
    )
    app = create_app(root, database_url=_url(db))
    yield Web(app, app.state.db, app.state.service)
    app.state.db.dispose()


def test_the_portal_offers_and_takes_only_what_the_type_lets_requesters_set(
    may_set_priority: Web,
) -> None:
    web = may_set_priority
    agent = web.user("li.wei@example.com", "agent", teams=("service_desk",))
    web.user("zhang.san@example.com", "requester")
    client = web.client("zhang.san@example.com")
    form = client.get("/portal/new/it_incident").text
    assert 'name="priority"' in form
    assert 'name="tags"' not in form  # placed on the form, but staff-only for this type
    response = client.send_form(
        "/portal/new/it_incident",
        {"title": "VPN drops", "category": "network", "impact": "me", "priority": "high",
         "tags": "vip"},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    key = response.headers["location"].removeprefix("/portal/tickets/").split("?")[0]
    ticket = web.service.get_ticket(agent, key)
    assert ticket.priority == "high" and list(ticket.tags) == []
