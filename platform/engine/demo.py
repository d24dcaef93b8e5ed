"""Demo data for `gongdan serve --demo`: the people of the example bundle and a few
tickets, so a newcomer sees a working desk at once. Idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.users import add_user, sync_teams
from gongdan.engine.automation.sla import sync_sla
from gongdan.engine.store.models import User
from gongdan.engine.tickets.tickets import create_ticket
from gongdan.engine.unit_of_work import WriteContext
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = ["DEMO_PASSWORD", "seed_demo"]

DEMO_PASSWORD = "demo"  # noqa: S105 - a documented demo password, demo mode only
DEMO_TICKETS = [
    (
        "it_incident",
        "打印机卡纸 / Printer jams on floor 3",
        {"category": "hardware", "device_serial": "PRN-3F-0042", "impact": "team"},
    ),
    ("it_incident", "VPN disconnects every 10 minutes", {"category": "network", "impact": "me"}),
    (
        "access_request",
        "ERP read access for the new planner",
        {
            "system": "erp",
            "access_level": "read",
            "justification": "Monthly planning reports",
            "approver": "admin@example.com",
        },
    ),
]


def seed_demo(session: Session, bundle: Bundle, now: datetime) -> None:
    """Create demo users (password `demo`) for every team member, and sample tickets."""
    if session.scalar(select(User.id).where(User.email == "admin@example.com")) is not None:
        return
    add_user(
        session, "admin@example.com", role=Role.ADMIN, name="Admin", password=DEMO_PASSWORD, now=now
    )
    requester = add_user(
        session,
        "zhang.san@example.com",
        role=Role.REQUESTER,
        name="张三",
        password=DEMO_PASSWORD,
        now=now,
    )
    for team in bundle.teams.values():
        for member in team.members:
            if session.scalar(select(User.id).where(User.email == member.user)) is None:
                add_user(session, member.user, role=Role.AGENT, password=DEMO_PASSWORD, now=now)
    sync_teams(session, bundle)  # so routing finds the demo agents in their teams
    ctx = WriteContext(session, bundle, Actor(requester.id, requester.email, Role.REQUESTER), now)
    for type_id, title, fields in DEMO_TICKETS:
        if type_id in bundle.ticket_types:
            ticket = create_ticket(ctx, type_id, title=title, description=title, fields=fields)
            sync_sla(ctx, ticket)
