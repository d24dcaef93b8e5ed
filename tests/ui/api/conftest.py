"""The API as a client sees it: the `/api/v1` router over a real database (SQLite and
PostgreSQL), the example bundle without routing, and one bearer token per user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.attachments import AttachmentStore
from gongdan.rules.workflow import Actor
from gongdan.ui.api import api_router
from tests.factories import NOW, make_user

Login = Callable[..., TestClient]


def api_app(db: Database, bundle: Bundle, files: Path) -> FastAPI:
    """The API router alone, as `create_app` mounts it (the HTML app is not needed)."""
    app = FastAPI(title="Gongdan API under test")
    app.state.db = db
    app.state.bundle = bundle
    app.state.service = TicketService(db, bundle, attachments=AttachmentStore(files))
    app.include_router(api_router)
    return app


def token_for(db: Database, email: str) -> str:
    return AccountService(db, clock=lambda: NOW).create_token(Actor.system(), email, "tests")[1]


@pytest.fixture
def app(db: Database, example_bundle: Bundle, tmp_path: Path) -> FastAPI:
    return api_app(db, example_bundle, tmp_path / "attachments")


@pytest.fixture
def login(app: FastAPI, db: Database) -> Login:
    """`login(email, role, teams=())`: a client sending that new user's bearer token."""

    def client(email: str, role: str = "agent", teams: tuple[str, ...] = ()) -> TestClient:
        make_user(db, email, role, teams=teams)
        token = token_for(db, email)
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return client


@pytest.fixture
def admin(login: Login) -> TestClient:
    return login("admin@example.com", "admin")


INCIDENT = {
    "type": "it_incident",
    "title": "Outlook keeps crashing",
    "description": "Since this morning's update.",
    "fields": {"category": "software", "impact": "me"},
}
