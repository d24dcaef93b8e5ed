"""Users and teams: passwords, roles, teams synced from config by email, config versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.accounts.users import add_user, check_password
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigVersion, Membership, Team, User
from gongdan.engine.unit_of_work import NO_BUNDLE, begin_write
from gongdan.errors import Conflict, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import NOW


def test_passwords_are_argon2_and_checked(db: Database) -> None:
    with begin_write(db, NO_BUNDLE, Actor.system(), NOW) as ctx:
        user = add_user(ctx, " Li.Wei@Example.COM ", role="agent", password="s3cret")  # noqa: S106
        assert user.email == "li.wei@example.com"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert check_password(user, "s3cret")
        assert not check_password(user, "S3cret")
        user.active = False
        assert not check_password(user, "s3cret")


def test_bad_users_are_refused(db: Database) -> None:
    accounts = AccountService(db)
    accounts.add_user("a@example.com", role="agent")
    with pytest.raises(Conflict):
        accounts.add_user("A@example.com", role="agent")
    with pytest.raises(ValidationFailed):
        accounts.add_user("not an email", role="agent")
    with pytest.raises(ValidationFailed):
        accounts.add_user("b@example.com", role="boss")


def test_teams_sync_from_config_by_email(
    db: Database, example_bundle: Bundle, tmp_path: Path
) -> None:
    accounts = AccountService(db, example_bundle)
    accounts.add_user("li.wei@example.com", role="agent")
    missing = accounts.sync_teams()
    assert "li.wei@example.com" not in missing and missing  # others have no account yet
    with db.reading() as session:
        teams = {t.id: t for t in session.scalars(select(Team))}
        assert set(teams) == set(example_bundle.teams) and all(t.active for t in teams.values())
        rows = session.execute(
            select(Membership.team_id, Membership.skills, Membership.capacity)
            .join(User, User.id == Membership.user_id)
            .where(User.email == "li.wei@example.com")
        ).all()
    declared = [
        t.id
        for t in example_bundle.teams.values()
        if any(m.user == "li.wei@example.com" for m in t.members)
    ]
    assert sorted(r.team_id for r in rows) == sorted(declared)
    # A team removed from config is deactivated, not deleted (tickets may still name it).
    smaller = load_bundle(
        make_bundle(
            tmp_path,
            base=None,
            files={
                "teams/desk.yaml": "kind: Team\nname: Desk\nmembers: [{user: li.wei@example.com}]\n"
            },
        )
    )
    AccountService(db, smaller).sync_teams()
    with db.reading() as session:
        active = {t.id for t in session.scalars(select(Team).where(Team.active.is_(True)))}
        assert active == {"desk"}


def test_config_versions_are_recorded_once(db: Database, example_bundle: Bundle) -> None:
    for _ in range(2):
        AccountService(db, example_bundle, clock=lambda: NOW).record_config_version()
    with db.reading() as session:
        versions = list(session.scalars(select(ConfigVersion)))
    assert [v.version for v in versions] == [example_bundle.version]
    assert "5 ticket types" in versions[0].summary


def test_demo_seed_is_idempotent(db: Database, example_bundle: Bundle) -> None:
    for _ in range(2):
        TicketService(db, example_bundle, clock=lambda: NOW).seed_demo()
    with db.reading() as session:
        admins = list(session.scalars(select(User).where(User.role == "admin")))
        assert [a.email for a in admins] == ["admin@example.com"]
        assert check_password(admins[0], "demo")
