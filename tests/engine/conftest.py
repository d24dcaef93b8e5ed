"""The people the engine's tests act as: an agent of the service desk and a requester
(a test module that needs someone else defines its own fixture of that name)."""

from __future__ import annotations

import pytest

from gongdan.engine.store.database import Database
from gongdan.rules.workflow import Actor
from tests.factories import make_user


@pytest.fixture
def agent(db: Database) -> Actor:
    """li.wei@example.com, an agent of the service desk."""
    return make_user(db, "li.wei@example.com", teams=("service_desk",))


@pytest.fixture
def requester(db: Database) -> Actor:
    """zhang.san@example.com, a requester."""
    return make_user(db, "zhang.san@example.com", "requester")
