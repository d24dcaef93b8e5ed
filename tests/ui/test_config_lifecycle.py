"""The config lifecycle as a running server shows it: an agent added with
`gongdan user add` while the server runs is in their team at once (they see its
tickets, routing assigns them); a changed folder is served within seconds; a broken
one leaves the active version in place and an admin's token reads its errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gongdan.cli import main
from gongdan.ui.app import create_app
from tests.bundles import make_bundle
from tests.engine.lifecycle.test_promote import BROKEN_TYPE, NEW_TYPE
from tests.helpers import wait_until

SOFTWARE = {"type": "incident", "title": "Mail is down", "fields": {"category": "software"}}


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Path]]:
    """The app running (its lifespan: the follower thread, background work) on a SQLite
    file that the CLI commands of the test use too."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    root = make_bundle(tmp_path)
    app = create_app(root, database_url=url)
    app.state.live.poll_seconds = 0.2
    with TestClient(app) as client:
        yield client, root
    app.state.db.dispose()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0, capsys.readouterr()
    return capsys.readouterr().out.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_agent_added_while_the_server_runs_is_in_their_team_at_once(
    running: tuple[TestClient, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = running
    cli(capsys, "user", "add", "req@example.com", "--role", "requester")
    requester = bearer(cli(capsys, "token", "create", "req@example.com"))
    before = client.post("/api/v1/tickets", json=SOFTWARE, headers=requester).json()
    assert before["team"] == "desk" and before["assignee"] is None  # nobody to assign yet
    assert client.get("/healthz").json()["members_without_account"] == 2

    cli(capsys, "user", "add", "li.wei@example.com", "--role", "agent")
    cli(capsys, "user", "add", "outsider@example.com", "--role", "agent")
    agent = bearer(cli(capsys, "token", "create", "li.wei@example.com"))
    outsider = bearer(cli(capsys, "token", "create", "outsider@example.com"))
    assert client.get(f"/api/v1/tickets/{before['key']}", headers=agent).status_code == 200
    assert client.get(f"/api/v1/tickets/{before['key']}", headers=outsider).status_code == 404
    after = client.post("/api/v1/tickets", json=SOFTWARE, headers=requester).json()
    assert after["assignee"] == "li.wei@example.com"
    assert client.get("/healthz").json()["members_without_account"] == 1


def test_a_changed_folder_is_served_and_a_broken_one_reported_to_admins(
    running: tuple[TestClient, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, root = running
    cli(capsys, "user", "add", "admin@example.com", "--role", "admin")
    admin = bearer(cli(capsys, "token", "create", "admin@example.com"))
    schema = "/api/v1/config/ticket-types/question/schema"
    first = client.get("/healthz").json()["config_version"]
    assert client.get(schema).status_code == 404

    (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
    assert wait_until(lambda: client.get(schema).status_code == 200, 10)
    second = client.get("/healthz").json()
    assert second["config_version"] != first and second["config_errors"] == 0

    broken = root / "ticket_types" / "broken.yaml"
    broken.write_text(BROKEN_TYPE, encoding="utf-8")
    assert wait_until(lambda: client.get("/healthz").json()["config_errors"] > 0, 10)
    assert client.get("/healthz").json()["config_version"] == second["config_version"]
    status = client.get("/api/v1/config/status", headers=admin).json()
    assert status["version"] == second["config_version"] and status["reload"] == "watch"
    assert status["errors"] and status["errors"][0].startswith(f"{broken}:5:")
    assert {"team": "desk", "email": "li.wei@example.com"} in status["members_without_account"]
    cli(capsys, "user", "add", "agent@example.com", "--role", "agent")
    agent = bearer(cli(capsys, "token", "create", "agent@example.com"))
    assert client.get("/api/v1/config/status", headers=agent).status_code == 403

    broken.unlink()
    assert wait_until(lambda: client.get("/healthz").json()["config_errors"] == 0, 10)
    assert client.get("/healthz").json()["config_version"] == second["config_version"]


def test_apply_log_and_show_from_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    root = make_bundle(tmp_path)
    assert main(["apply", str(root)]) == 0
    applied = capsys.readouterr().out.strip().splitlines()[-1]
    assert applied.startswith(f"{root}: version ") and applied.endswith(" is active")
    version = applied.split()[2]
    assert main(["apply", str(root)]) == 0
    assert "is already active" in capsys.readouterr().out

    broken = root / "ticket_types" / "broken.yaml"
    broken.write_text(BROKEN_TYPE, encoding="utf-8")
    assert main(["apply", str(root)]) == 1
    out, err = capsys.readouterr()
    assert main(["check", str(root)]) == 1
    assert out == capsys.readouterr().out  # the errors exactly as check prints them
    assert f"{broken}:5:" in out and "not applied" in err

    assert main(["config", "log"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"* {version}") and " apply " in lines[0]
    assert main(["config", "show", version[:8]]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"# version {version}: 5 files")
    assert "# --- teams/desk.yaml\nkind: Team\n" in shown
    assert main(["config", "show", "0000"]) == 1
    assert "no config version '0000'" in capsys.readouterr().err


def test_check_names_team_members_without_an_account_when_a_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_bundle(tmp_path)
    monkeypatch.delenv("GONGDAN_DATABASE_URL", raising=False)
    assert main(["check", str(root)]) == 0
    assert "no account" not in capsys.readouterr().out  # no database: nothing to say

    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    assert main(["check", str(root)]) == 0
    assert "no account" not in capsys.readouterr().out
    assert not (tmp_path / "absent.db").exists()  # check never makes a database

    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.db'}")
    cli(capsys, "user", "add", "li.wei@example.com", "--role", "agent")
    assert main(["check", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == [
        "warning: team 'desk' names wang.fang@example.com, who has no account yet "
        "(gongdan user add wang.fang@example.com --role agent)"
    ]
    assert lines[-1].startswith(f"{root}: OK")


def test_healthz_counts_members_without_account_once_per_version(
    running: tuple[TestClient, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count is kept per active version: a load balancer's health checks do not
    each ask the database; a declared member added in this process shows at once, one
    added behind its back (another process) within `MISSING_SECONDS`."""
    import sqlalchemy as sa

    from gongdan.engine.accounts import users
    from gongdan.engine.store.models import User

    client, _ = running
    asked: list[int] = []
    counting = users.members_without_account

    def members(session: object) -> list[tuple[str, str]]:
        asked.append(1)
        return counting(session)  # type: ignore[arg-type]

    monkeypatch.setattr(users, "members_without_account", members)
    assert client.get("/healthz").json()["members_without_account"] == 2
    for _ in range(5):
        assert client.get("/healthz").json()["members_without_account"] == 2
    assert len(asked) == 1
    cli(capsys, "user", "add", "li.wei@example.com", "--role", "agent")  # forgets the count
    assert client.get("/healthz").json()["members_without_account"] == 1
    assert len(asked) == 2
    # Another process's new member: not seen until the count is old enough.
    engine = sa.create_engine(str(client.app.state.db.url))  # type: ignore[attr-defined]
    with engine.begin() as connection:
        table = sa.Table("users", User.metadata)  # the model's table
        row = connection.execute(sa.select(table).limit(1)).mappings().one()
        declared = connection.execute(
            sa.text("SELECT email FROM declared_members WHERE email <> 'li.wei@example.com'")
        ).scalar_one()
        values = {k: v for k, v in row.items() if k != "id"} | {"email": declared}
        connection.execute(table.insert().values(**values))
    engine.dispose()
    assert client.get("/healthz").json()["members_without_account"] == 1
    monkeypatch.setattr(users, "MISSING_SECONDS", 0.0)
    assert client.get("/healthz").json()["members_without_account"] == 0
