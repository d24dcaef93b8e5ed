"""`gongdan user list|set|deactivate|reactivate` as an operator runs them, against a
real database: what the console's People page does, from the shell."""

from __future__ import annotations

import json

import pytest

from gongdan.cli import main
from gongdan.engine import AccountService
from gongdan.engine.store.database import Database
from tests.factories import make_user

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's


@pytest.fixture
def url(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    address = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GONGDAN_DATABASE_URL", address)
    make_user(db, "wang.fang@example.com", "admin", password=PASSWORD)
    make_user(db, "li.wei@example.com", "agent", teams=("service_desk",))
    make_user(db, "zhang.san@example.com", "requester")
    return address


def test_list_shows_every_user_with_role_teams_and_flags(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "li.wei@example.com",
        "wang.fang@example.com",
        "zhang.san@example.com",
    ]
    assert "agent" in lines[0] and "teams: service_desk" in lines[0]
    assert "(no password)" in lines[2] and "no password" not in lines[1]

    assert main(["user", "list", "--role", "agent", "--format", "json"]) == 0
    (agent,) = json.loads(capsys.readouterr().out)
    assert agent["email"] == "li.wei@example.com" and agent["teams"] == ["service_desk"]


def test_set_changes_role_name_language_and_away(
    url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "user",
            "set",
            "Li.Wei@example.com",
            "--role",
            "admin",
            "--name",
            "Li Wei",
            "--language",
            "zh-CN",
            "--away",
        ]
    )
    assert code == 0, capsys.readouterr().err
    person = AccountService(db).get_person("li.wei@example.com")
    assert (person.role, person.name, person.language, person.away) == (
        "admin",
        "Li Wei",
        "zh-CN",
        True,
    )
    assert main(["user", "set", "li.wei@example.com", "--back"]) == 0
    assert not AccountService(db).get_person("li.wei@example.com").away


def test_deactivate_and_reactivate(
    url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = AccountService(db)
    assert accounts.authenticate("wang.fang@example.com", PASSWORD) is not None
    # The last active admin stays.
    assert main(["user", "deactivate", "wang.fang@example.com"]) == 1
    assert "last active admin" in capsys.readouterr().err
    assert main(["user", "set", "wang.fang@example.com", "--role", "agent"]) == 1
    assert "last active admin" in capsys.readouterr().err

    assert main(["user", "set", "li.wei@example.com", "--role", "admin"]) == 0
    assert main(["user", "deactivate", "wang.fang@example.com"]) == 0
    assert "wang.fang@example.com is deactivated" in capsys.readouterr().out
    assert accounts.authenticate("wang.fang@example.com", PASSWORD) is None
    assert main(["user", "list"]) == 0
    assert "(inactive)" in next(
        line for line in capsys.readouterr().out.splitlines() if "wang.fang" in line
    )

    assert main(["user", "reactivate", "wang.fang@example.com"]) == 0
    assert accounts.authenticate("wang.fang@example.com", PASSWORD) is not None


def test_an_unknown_user_or_a_bad_value_is_an_error_not_a_traceback(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "deactivate", "nobody@example.com"]) == 1
    assert capsys.readouterr().err.strip() == (
        "gongdan user deactivate: no user 'nobody@example.com'"
    )
    assert main(["user", "set", "li.wei@example.com", "--name", "   "]) == 1
    assert "li.wei@example.com was not changed: name" in capsys.readouterr().err
