"""Demo data for `gongdan serve --demo`: the people of the example bundle and a few
tickets, so a newcomer sees a working desk at once. Idempotent. Runs in one
`UnitOfWork` (`TicketService.seed_demo`); the tickets are created by the demo
requester, and the runner syncs their SLA clocks as for any write."""

from __future__ import annotations

import re

from sqlalchemy import select

from gongdan.engine.accounts.users import add_user, sync_teams
from gongdan.engine.store.models import User
from gongdan.engine.tickets.tickets import create_ticket
from gongdan.engine.unit_of_work import UnitOfWork
from gongdan.rules.workflow import Actor
from gongdan.vocabulary import Role

__all__ = ["DEMO_PASSWORD", "display_name", "seed_demo"]

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


def display_name(email: str) -> str:
    """A person's name as a demo shows it, read from their address: li.wei@… is
    "Li Wei" (pinyin given name after family name, as the addresses are written)."""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or local


def seed_demo(ctx: UnitOfWork) -> None:
    """Create demo users (password `demo`) for every team member, and sample tickets."""
    session, bundle = ctx.session, ctx.bundle
    if session.scalar(select(User.id).where(User.email == "admin@example.com")) is not None:
        return
    add_user(ctx, "admin@example.com", role=Role.ADMIN, name="Admin", password=DEMO_PASSWORD)
    requester = add_user(
        ctx, "zhang.san@example.com", role=Role.REQUESTER, name="张三", password=DEMO_PASSWORD
    )
    for team in bundle.teams.values():
        for member in team.members:
            if session.scalar(select(User.id).where(User.email == member.user)) is None:
                add_user(
                    ctx,
                    member.user,
                    role=Role.AGENT,
                    name=display_name(member.user),
                    password=DEMO_PASSWORD,
                )
    sync_teams(ctx)  # so routing finds the demo agents in their teams
    as_requester = ctx.acting_as(Actor(requester.id, requester.email, Role.REQUESTER))
    for type_id, title, fields in DEMO_TICKETS:
        if type_id in bundle.ticket_types:
            create_ticket(as_requester, type_id, title=title, description=title, fields=fields)
