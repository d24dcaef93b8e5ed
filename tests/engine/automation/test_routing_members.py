"""A team's members are kept in memory per process between picks (`engine.automation.routing`):
whatever changes users or memberships — this process, another one, a tool writing SQL,
a transaction rolled back — the next pick sees the members as they are committed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.automation.routing import load_candidates
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import DirectoryGeneration, Membership, User
from gongdan.engine.unit_of_work import begin_write
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import NOW, make_user

TEAM = """kind: Team
name: Desk
members: [{user: a1@example.com}, {user: a2@example.com}, {user: a3@example.com}]
"""
RULES = """kind: RoutingRules
id: default
rules:
  - name: Everything to the desk in turn
    assign: {team: desk, strategy: round_robin}
"""


@pytest.fixture
def routed(db: Database, tmp_path: Path) -> tuple[TicketService, Bundle]:
    bundle = load_bundle(
        make_bundle(tmp_path, {"teams/desk.yaml": TEAM, "routing/default.yaml": RULES})
    )
    for n in (1, 2, 3):
        make_user(db, f"a{n}@example.com")
    AccountService(db, bundle).sync_teams()
    return TicketService(db, bundle), bundle


def assignees(service: TicketService, requester: Actor, count: int) -> Counter[str | None]:
    return Counter(
        service.create_ticket(
            requester, "incident", title="Help", fields={"category": "software"}
        ).ticket.assignee
        for _ in range(count)
    )


def test_changes_by_another_process_reach_the_next_pick(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    requester = make_user(db, "r@example.com", "requester")
    everyone = {"a1@example.com": 2, "a2@example.com": 2, "a3@example.com": 2}
    assert assignees(service, requester, 6) == everyone  # members now held in memory
    other = Database(db.url)  # another process's engine: plain SQL, no engine code
    try:
        with other.engine.begin() as connection:
            connection.execute(update(User).where(User.email == "a1@example.com").values(away=True))
        assert assignees(service, requester, 4) == {"a2@example.com": 2, "a3@example.com": 2}

        with other.engine.begin() as connection:  # a1 is back, a3 leaves the team
            connection.execute(
                update(User).where(User.email == "a1@example.com").values(away=False)
            )
            a3 = connection.scalar(select(User.id).where(User.email == "a3@example.com"))
            connection.execute(delete(Membership).where(Membership.user_id == a3))
        assert assignees(service, requester, 4) == {"a1@example.com": 2, "a2@example.com": 2}

        a4 = make_user(other, "a4@example.com")  # a new agent joins the team
        with other.engine.begin() as connection:
            connection.execute(
                insert(Membership).values(team_id="desk", user_id=a4.user_id, skills=[])
            )
        assert assignees(service, requester, 6) == {
            "a1@example.com": 2,
            "a2@example.com": 2,
            "a4@example.com": 2,
        }

        with other.engine.begin() as connection:  # a4 is deactivated
            connection.execute(update(User).where(User.id == a4.user_id).values(active=False))
        assert assignees(service, requester, 4) == {"a1@example.com": 2, "a2@example.com": 2}
    finally:
        other.dispose()


def test_members_read_in_a_write_rolled_back_are_not_kept(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, bundle = routed
    requester = make_user(db, "r@example.com", "requester")
    assignees(service, requester, 3)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), begin_write(db, bundle, Actor.system(), NOW) as ctx:
        # Everyone away, then the members read inside this write, which is rolled back.
        ctx.session.execute(update(User).where(User.role == "agent").values(away=True))
        assert all(member.away for member in load_candidates(ctx, "desk"))
        raise Abandoned
    with db.engine.begin() as connection:  # and a change committed before the next pick
        connection.execute(text("UPDATE users SET name = 'Requester' WHERE role = 'requester'"))

    assert assignees(service, requester, 3) == {
        "a1@example.com": 1,
        "a2@example.com": 1,
        "a3@example.com": 1,
    }


def test_the_generation_moves_with_every_change_and_never_repeats(db: Database) -> None:
    """The triggers themselves: a new value with each change to users or memberships,
    the old one back after a rollback, and a value a rolled-back change gave is not
    given again."""

    def generation() -> int:
        with db.engine.connect() as connection:
            return int(connection.scalar(select(DirectoryGeneration.generation)))

    seen = [generation()]
    make_user(db, "a1@example.com")
    seen.append(generation())
    make_user(db, "r@example.com", "requester")  # not someone routing reads
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET name = 'R' WHERE role = 'requester'"))
    assert generation() == seen[-1]
    with db.engine.connect() as connection:
        trans = connection.begin()
        connection.execute(text("UPDATE users SET name = 'Someone'"))
        inside = connection.scalar(select(DirectoryGeneration.generation))
        trans.rollback()
    assert generation() == seen[-1]
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET name = 'Someone else'"))
    seen.append(generation())
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM users"))
    seen.append(generation())
    assert len({*seen, inside}) == len(seen) + 1
