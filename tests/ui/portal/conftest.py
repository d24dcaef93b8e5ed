"""Portal fixtures: a requester and an agent of the service desk, signed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from tests.ui.conftest import Client, Web

REQUESTER = "zhang.san@example.com"
OTHER = "wang.wu@example.com"
AGENT = "li.wei@example.com"


@dataclass
class People:
    web: Web
    requester: Actor
    other: Actor
    agent: Actor

    def client(self, email: str = REQUESTER, **headers: str) -> Client:
        client = self.web.client(email)
        client.headers.update(headers)
        return client

    def incident(self, who: Actor | None = None, **fields: Any) -> str:
        """An IT incident (software, just me) of `who` (the requester); its key."""
        values = {"category": "software", "impact": "me", **fields}
        result = self.web.service.create_ticket(
            who or self.requester,
            "it_incident",
            title="Outlook keeps crashing",
            description="Since this morning's **update**.",
            fields=values,
        )
        return result.ticket.key

    def resolve(self, key: str, comment: str = "Reinstalled Outlook.") -> None:
        service = self.web.service
        service.assign(self.agent, key, team="service_desk", assignee=AGENT)
        service.take_transition(
            self.agent, key, "resolve", fields={"resolution_code": "fixed"}, comment=comment
        )


@pytest.fixture
def people(web: Web) -> People:
    return People(
        web,
        web.user(REQUESTER, "requester"),
        web.user(OTHER, "requester"),
        web.user(AGENT, "agent", teams=("service_desk",)),
    )


@pytest.fixture
def db_url(db: Database) -> str:
    """The `db` fixture's database as a URL (for an app built on another bundle)."""
    return db.engine.url.render_as_string(hide_password=False)
