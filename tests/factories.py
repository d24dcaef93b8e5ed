"""Plain typed factories for tests: users with roles and teams, actors, tickets of
each example type, the outbox, and a clock that ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gongdan.engine.accounts.users import actor_for, add_user
from gongdan.engine.records import WriteResult
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Membership, Outbox, Team, User
from gongdan.engine.unit_of_work import NO_BUNDLE, begin_write
from gongdan.rules.workflow import Actor

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
    with begin_write(db, NO_BUNDLE, Actor.system(), NOW) as ctx:
        session = ctx.session
        user = add_user(ctx, email, role=role, password=password)
        user.attributes = dict(attributes)
        for team in teams:
            if session.get(Team, team) is None:
                session.add(Team(id=team, name={"en": team}, email=None, active=True))
                session.flush()
            if session.get(Membership, (team, user.id)) is None:  # (not joined as declared)
                session.add(Membership(team_id=team, user_id=user.id, skills=[], capacity=None))
        session.flush()
        return actor_for(session, user)


def actor(db: Database, email: str) -> Actor:
    """The actor the existing user `email` acts as (their role and teams as stored now)."""
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


def access_request(
    service: TicketService, who: Actor, approver: str, **overrides: Any
) -> WriteResult:
    """An access request of the example bundle, approved by `approver` (an email)."""
    values: dict[str, Any] = {
        "title": "ERP read access",
        "description": "For the month-end close.",
        "fields": {
            "system": "erp",
            "access_level": "read",
            "justification": "I prepare the monthly cost reports.",
            "approver": approver,
        },
    }
    values.update(overrides)
    return service.create_ticket(who, "access_request", **values)


def after_sales(service: TicketService, who: Actor, **overrides: Any) -> WriteResult:
    """A return for a refund (after-sales type of the example bundle)."""
    fields: dict[str, Any] = {
        "order_number": "SO20260315000123",
        "product": "laptop",
        "purchase_date": "2026-10-20",
        "request_kind": "return",
        "reason": "changed_mind",
    }
    fields.update(overrides.pop("fields", {}))
    values: dict[str, Any] = {"title": "Return my laptop", "fields": fields}
    values.update(overrides)
    return service.create_ticket(who, "after_sales", **values)


def maintenance(service: TicketService, who: Actor, **overrides: Any) -> WriteResult:
    """An equipment breakdown (maintenance type of the example bundle)."""
    fields: dict[str, Any] = {"device_id": "SMT-0042", "production_line": "smt_1"}
    fields.update(overrides.pop("fields", {}))
    values: dict[str, Any] = {"title": "Pick-and-place head jams", "fields": fields}
    values.update(overrides)
    return service.create_ticket(who, "equipment_maintenance", **values)


def outbox(db: Database) -> list[tuple[str, dict[str, Any]]]:
    """Every outbox row, oldest first, as (topic, payload)."""
    with db.reading() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.id))
        return [(row.topic, dict(row.payload)) for row in rows]


class StepClock:
    """A clock that moves one second forward each time it is read (distinct stamps)."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now
