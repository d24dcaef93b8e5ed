"""`gongdan plan` as a CI job runs it: against a database holding tickets, exit 0 when
nothing changes, 2 when something does (text or `--format json`), 1 on errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.cli import main
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.bundles import EXAMPLE, NO_ROUTING, NO_WAITING, edit_bundle, make_bundle
from tests.factories import StepClock, incident, make_user
from tests.helpers import run_gongdan

SHORTER_RESOLUTION = {
    "sla/policies.yaml": [
        (
            "resolution:     {urgent: 4h, high: 1d, normal: 3d, low: 5d}",
            "resolution:     {urgent: 4h, high: 1d, normal: 2d, low: 5d}",
        )
    ]
}


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database (`GONGDAN_DATABASE_URL`) with tickets written under the
    example bundle at `tmp_path/active/config` (returned): two incidents, one of them
    waiting for its requester."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    active = make_bundle(tmp_path / "active", NO_ROUTING, base=EXAMPLE)
    db = Database(url)
    db.upgrade()
    service = TicketService(db, load_bundle(active), clock=StepClock())
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    incident(service, requester, title="Still new")
    waiting = incident(service, requester, title="Waiting").ticket.key
    service.take_transition(agent, waiting, "ask_requester", comment="Which version?")
    db.dispose()
    return active


def candidate(tmp_path: Path, files: dict[str, str | None], edits: dict | None = None) -> Path:
    root = make_bundle(tmp_path / "candidate", {**NO_ROUTING, **files}, base=EXAMPLE)
    return edit_bundle(root, edits or {})


def test_the_active_bundle_itself_plans_no_change(
    desk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(desk), "plan"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("No changes: the bundle matches the active version")


def test_changes_exit_2_with_one_line_each_and_the_tickets_they_touch(
    desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = candidate(tmp_path, {}, SHORTER_RESOLUTION)
    assert main(["--config", str(desk), "plan", str(new)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Comparing {new} with the active bundle ({desk})."
    assert lines[1].startswith("Plan: 0 to add, 1 to change, 0 to remove (active ")
    assert "  ~ SLATarget  it_standard.resolution.normal  changed: 3d → 2d" in lines
    # The waiting ticket's clocks stand still: only the other one gets a new deadline.
    assert "  SLA: 1 ticket would get another deadline, e.g.:" in lines
    assert any(line.startswith("    INC-1 resolution: ") for line in lines)


def test_json_for_ci_bots_with_the_refusal_and_its_counts(
    desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = candidate(tmp_path, NO_WAITING)
    code = main(["--config", str(desk), "plan", str(new), "--format", "json"])
    plan = json.loads(capsys.readouterr().out)
    assert code == 2 == plan["exit_code"]
    assert plan["active"] == str(desk) and plan["candidate"] == str(new)
    assert {
        "kind": "State",
        "id": "incident.waiting_customer",
        "what": "removed",
        "detail": "",
    } in (plan["changes"])
    assert plan["tickets"]["states"] == [
        {
            "workflow": "incident",
            "ticket_type": "it_incident",
            "state": "waiting_customer",
            "tickets": 1,
            "migrate_to": None,
        }
    ]
    assert plan["refusal"].startswith("Refused: 1 ticket not closed would be left in states")
    assert "(incident.waiting_customer: 1)" in plan["refusal"]
    assert plan["summary"]["removed"] >= 1


def test_active_folder_option_compares_with_another_folder(
    desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = candidate(tmp_path, {}, SHORTER_RESOLUTION)
    # The candidate against itself: nothing changes, whatever --config says.
    assert main(["--config", str(desk), "plan", str(new), "--active", str(new)]) == 0
    assert f"({new})" in capsys.readouterr().out


def test_an_invalid_bundle_exits_1_with_errors_as_check_prints_them(
    desk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = candidate(tmp_path, {"teams/bad.yaml": "kind: Team\nname: x\ncolour: 1\n"})
    assert main(["--config", str(desk), "plan", str(broken)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{broken}/teams/bad.yaml:3:1: colour: unknown key 'colour' (expected one of: "
        "description, email, id, kind, members, name)"
    ]
    assert "1 error" in captured.err
    assert main(["--config", str(desk), "plan", str(broken), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 1 and report["errors"][0].endswith(
        "unknown key 'colour' (expected one of: description, email, id, kind, members, name)"
    )


def test_a_database_without_tables_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{empty}")
    assert main(["--config", str(EXAMPLE), "plan"]) == 1
    assert "run `gongdan db upgrade` first" in capsys.readouterr().out
    assert not empty.exists()  # a plan creates no database
    bare = Database(f"sqlite:///{empty}")
    bare.ping()  # now a file, with no tables
    bare.dispose()
    assert main(["--config", str(EXAMPLE), "plan", "--format", "json"]) == 1
    assert "has no Gongdan tables" in json.loads(capsys.readouterr().out)["errors"][0]


def test_the_command_exits_2_in_a_real_process(desk: Path, tmp_path: Path) -> None:
    new = candidate(tmp_path, {}, SHORTER_RESOLUTION)
    result = run_gongdan("--config", str(desk), "plan", str(new), env=dict(os.environ))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "it_standard.resolution.normal" in result.stdout
