"""Memberships follow the people: whoever is named in a `kind: Team` joins it the moment
their account exists, by any path, in any process (the CLI's account service has no
bundle at all), and a change to a team takes effect when its version becomes active."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gongdan.engine.accounts.service import AccountService
from gongdan.engine.lifecycle.promote import promote_folder
from gongdan.engine.outbox.mail_log import MailLog
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event
from tests.bundles import make_bundle
from tests.factories import make_user

DESK_WITHOUT_WANG = """\
kind: Team
name: {en: Service desk, zh-CN: 服务台}
members:
  - {user: li.wei@example.com, skills: [hardware], capacity: 15}
  - {user: zhao.min@example.com}
"""


def test_a_user_added_without_any_bundle_joins_the_teams_that_name_them(
    db: Database, tmp_path: Path
) -> None:
    promote_folder(db, make_bundle(tmp_path), source="start-up")
    accounts = AccountService(db)  # as `gongdan user add` makes it: no bundle
    assert accounts.members_without_account() == [
        ("desk", "li.wei@example.com"),
        ("desk", "wang.fang@example.com"),
    ]
    added = accounts.add_user("Li.Wei@example.com", role="agent")
    assert added.actor.team_ids == frozenset({"desk"})
    assert accounts.members_without_account() == [("desk", "wang.fang@example.com")]
    stranger = accounts.add_user("nobody@example.com", role="agent")
    assert stranger.actor.team_ids == frozenset()
    with db.reading() as session:
        joined = session.scalars(select(Event.after).where(Event.kind == "user.joined_teams"))
        assert list(joined) == [{"email": "li.wei@example.com", "teams": ["desk"]}]


def test_requesters_made_by_mail_or_by_a_ticket_join_their_teams_too(
    db: Database, tmp_path: Path
) -> None:
    result = promote_folder(db, make_bundle(tmp_path), source="start-up")
    assert result.bundle is not None
    service = TicketService(db, result.bundle)
    agent = make_user(db, "agent@example.com", "agent", teams=("desk",))
    service.create_ticket(
        agent,
        "incident",
        title="For a new requester",
        fields={"category": "software"},
        requester="wang.fang@example.com",
    )
    person = MailLog(db).ensure_requester("li.wei@example.com", name="Li", language="en")
    accounts = AccountService(db)
    assert accounts.members_without_account() == []
    assert person.email == "li.wei@example.com"


def test_a_team_change_takes_effect_when_its_version_becomes_active(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    promote_folder(db, root, source="start-up")
    accounts = AccountService(db)
    wang = accounts.add_user("wang.fang@example.com", role="agent")
    zhao = accounts.add_user("zhao.min@example.com", role="agent")
    assert wang.actor.team_ids == {"desk"} and zhao.actor.team_ids == frozenset()
    (root / "teams" / "desk.yaml").write_text(DESK_WITHOUT_WANG, encoding="utf-8")
    assert promote_folder(db, root, source="file change").outcome == "activated"
    assert accounts.get_account(wang.id).actor.team_ids == frozenset()  # type: ignore[union-attr]
    assert accounts.get_account(zhao.id).actor.team_ids == {"desk"}  # type: ignore[union-attr]
    assert accounts.members_without_account() == [("desk", "li.wei@example.com")]
