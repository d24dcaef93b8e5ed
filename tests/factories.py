"""Plain typed factories for tests: users with roles and teams, actors, tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gongdan.engine.db.database import Database
from gongdan.engine.db.models import Membership, Team, User
from gongdan.engine.decisions import Actor
from gongdan.engine.records import WriteResult
from gongdan.engine.service import TicketService
from gongdan.engine.users import actor_for, add_user

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_user(
    db: Database,
    email: str,
    role: str = "agent",
    *,
    teams: tuple[str, ...] = (),
    password: str | None = None,
    **attributes: Any,
) -> Actor:
    """A user in the database (and in `teams`), returned as the actor they act as."""
    with db.transaction() as session:
        user = add_user(session, email, role=role, now=NOW, password=password)
        user.attributes = dict(attributes)
        for team in teams:
            if session.get(Team, team) is None:
                session.add(Team(id=team, name={"en": team}, email=None, active=True))
                session.flush()
            session.add(Membership(team_id=team, user_id=user.id, skills=[], capacity=None))
        session.flush()
        return actor_for(session, user)


def actor(db: Database, email: str) -> Actor:
    with db.reading() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        return actor_for(session, user)


def incident(service: TicketService, who: Actor, **overrides: Any) -> WriteResult:
    """An IT incident of the example bundle, software by default (no serial needed)."""
    values: dict[str, Any] = {
        "title": "Outlook keeps crashing",
        "description": "Since this morning's update.",
        "fields": {"category": "software", "impact": "me"},
    }
    values.update(overrides)
    return service.create_ticket(who, "it_incident", **values)
