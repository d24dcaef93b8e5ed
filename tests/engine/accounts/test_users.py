"""Users and teams: passwords, roles, teams synced from config by email, config versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.users import (
    add_user,
    check_password,
    record_config_version,
    sync_teams,
)
from gongdan.engine.demo import seed_demo
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigVersion, Membership, Team, User
from gongdan.errors import Conflict, ValidationFailed
from tests.bundles import make_bundle
from tests.factories import NOW


def test_passwords_are_argon2_and_checked(db: Database) -> None:
    with db.transaction() as session:
        user = add_user(session, " Li.Wei@Example.COM ", role="agent", now=NOW, password="s3cret")  # noqa: S106
        assert user.email == "li.wei@example.com"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert check_password(user, "s3cret")
        assert not check_password(user, "S3cret")
        user.active = False
        assert not check_password(user, "s3cret")


def test_bad_users_are_refused(db: Database) -> None:
    with db.transaction() as session:
        add_user(session, "a@example.com", role="agent", now=NOW)
    with pytest.raises(Conflict), db.transaction() as session:
        add_user(session, "A@example.com", role="agent", now=NOW)
    with pytest.raises(ValidationFailed), db.transaction() as session:
        add_user(session, "not an email", role="agent", now=NOW)
    with pytest.raises(ValidationFailed), db.transaction() as session:
        add_user(session, "b@example.com", role="boss", now=NOW)


def test_teams_sync_from_config_by_email(
    db: Database, example_bundle: Bundle, tmp_path: Path
) -> None:
    with db.transaction() as session:
        add_user(session, "li.wei@example.com", role="agent", now=NOW)
        missing = sync_teams(session, example_bundle)
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
    with db.transaction() as session:
        sync_teams(session, smaller)
    with db.reading() as session:
        active = {t.id for t in session.scalars(select(Team).where(Team.active.is_(True)))}
        assert active == {"desk"}


def test_config_versions_are_recorded_once(db: Database, example_bundle: Bundle) -> None:
    for _ in range(2):
        with db.transaction() as session:
            record_config_version(session, example_bundle, NOW)
    with db.reading() as session:
        versions = list(session.scalars(select(ConfigVersion)))
    assert [v.version for v in versions] == [example_bundle.version]
    assert "5 ticket types" in versions[0].summary


def test_demo_seed_is_idempotent(db: Database, example_bundle: Bundle) -> None:
    for _ in range(2):
        with db.transaction() as session:
            seed_demo(session, example_bundle, NOW)
    with db.reading() as session:
        admins = list(session.scalars(select(User).where(User.role == "admin")))
        assert [a.email for a in admins] == ["admin@example.com"]
        assert check_password(admins[0], "demo")
