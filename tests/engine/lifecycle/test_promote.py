"""The promotion path and the versions it stores: a valid folder becomes the active
version (its files kept, the log newest first), an invalid one is never stored and
reports its errors as `gongdan check` does, two processes promoting at once store a
version once, and tickets record the version they were written under."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gongdan.bundle.loader import check_bundle
from gongdan.engine.lifecycle.promote import load_candidate, promote, promote_folder
from gongdan.engine.lifecycle.versions import version_files, version_log
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ConfigActivation
from gongdan.errors import NotFound
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import make_user

BROKEN_TYPE = (
    "kind: TicketType\nid: broken\nname: {en: B, zh-CN: B}\nkey_prefix: BRK\nworkflow: nope\n"
)
NEW_TYPE = """\
kind: TicketType
id: question
name: {en: Question, zh-CN: 问题}
key_prefix: QST
workflow: answer
---
kind: Workflow
id: answer
initial: asked
states:
  asked: {category: new}
  answered: {category: closed}
transitions:
  - {id: answer, from: [asked], to: answered}
"""


def test_a_valid_folder_becomes_the_active_version_with_its_files(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    first = promote_folder(db, root, source="apply", activated_by="ops@host")
    assert first.outcome == "activated" and first.bundle is not None
    assert promote_folder(db, root, source="file change").outcome == "unchanged"

    (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
    second = promote_folder(db, root, source="file change")
    assert second.outcome == "activated" and second.version != first.version

    log = version_log(db)
    assert [(r.version, r.source, r.active) for r in log] == [
        (second.version, "file change", True),
        (first.version, "apply", False),
    ]
    assert log[1].activated_by == "ops@host" and "2 ticket types" in log[0].summary
    version, files = version_files(db, second.version[:6])
    assert version == second.version
    assert dict(files)["ticket_types/question.yaml"] == NEW_TYPE
    with pytest.raises(NotFound):
        version_files(db, "ffff")


def test_a_version_is_the_same_wherever_its_folder_lies(tmp_path: Path) -> None:
    here = load_candidate(make_bundle(tmp_path / "a"))
    there = load_candidate(make_bundle(tmp_path / "b" / "deeper"))
    assert here.version == there.version and here.bundle is not None
    assert here.bundle.version == here.version


def test_an_invalid_folder_is_never_stored_and_reports_errors_as_check_does(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    promote_folder(db, root, source="start-up")
    (root / "ticket_types" / "broken.yaml").write_text(BROKEN_TYPE, encoding="utf-8")
    result = promote_folder(db, root, source="file change")
    assert result.outcome == "invalid" and not result.ok
    _, issues = check_bundle(root)
    assert [str(i) for i in result.issues] == [str(i) for i in issues]
    assert any(str(i).startswith(f"{root}/ticket_types/broken.yaml:5:") for i in result.issues)
    assert len(version_log(db)) == 1


def test_tickets_record_the_version_they_were_written_under(db: Database, tmp_path: Path) -> None:
    root = make_bundle(tmp_path)
    result = promote_folder(db, root, source="start-up")
    assert result.bundle is not None
    requester = make_user(db, "req@example.com", "requester")
    created = TicketService(db, result.bundle).create_ticket(
        requester, "incident", title="Printer", fields={"category": "software"}
    )
    assert created.ticket.config_version == result.version == version_log(db)[0].version


def test_processes_racing_to_promote_one_change_store_it_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """Four 'processes' (own connections) promote the same folder at the same moment:
    one activates it, the others find it active."""
    from tests.conftest import _truncate

    setup = Database(postgres_url)
    _truncate(setup)
    candidate = load_candidate(make_bundle(tmp_path))
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def race() -> None:
        db = Database(postgres_url)
        try:
            start.wait()
            outcomes.append(promote(db, candidate, source="file change").outcome)
        finally:
            db.dispose()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["activated", "unchanged", "unchanged", "unchanged"]
    with setup.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConfigActivation)) == 1
    setup.dispose()


def test_the_system_actor_promotes(db: Database, tmp_path: Path) -> None:
    assert Actor.system().user_id is None  # (no account is needed to promote)
    assert promote_folder(db, make_bundle(tmp_path), source="apply").ok
