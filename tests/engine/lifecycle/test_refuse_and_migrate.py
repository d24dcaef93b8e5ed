"""The promotion path (reload, `gongdan apply`) decides with `gongdan plan`'s rule: a
bundle that would strand tickets not closed in a state their workflow no longer has is
refused with the counts and the active version stays; with a workflow `migrate:` the
same change is activated and the tickets move, by the system, with an event, in the
promotion's transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.cli import main
from gongdan.engine.lifecycle.promote import promote_folder
from gongdan.engine.lifecycle.versions import version_log
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event, Ticket
from tests.bundles import (
    EXAMPLE,
    MIGRATE_TO_IN_PROGRESS,
    NO_ROUTING,
    NO_WAITING,
    edit_bundle,
    make_bundle,
)
from tests.factories import StepClock, incident, make_user


def waiting_tickets(db: Database, bundle: Bundle, count: int) -> list[str]:
    service = TicketService(db, bundle, clock=StepClock())
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    keys = []
    for n in range(count):
        key = incident(service, requester, title=f"Waiting {n}").ticket.key
        service.take_transition(agent, key, "ask_requester", comment="Which version?")
        keys.append(key)
    incident(service, requester, title="Still new")
    return keys


def active_folder(db: Database, tmp_path: Path) -> tuple[Path, Bundle]:
    root = make_bundle(tmp_path / "live", dict(NO_ROUTING), base=EXAMPLE)
    first = promote_folder(db, root, source="apply")
    assert first.outcome == "activated" and first.bundle is not None
    return root, first.bundle


def test_a_change_that_strands_open_tickets_is_refused_and_the_old_version_stays(
    db: Database, tmp_path: Path
) -> None:
    root, bundle = active_folder(db, tmp_path)
    waiting_tickets(db, bundle, 2)
    make_bundle(tmp_path / "live", {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)

    refused = promote_folder(db, root, source="file change")
    assert refused.outcome == "refused" and not refused.ok
    assert refused.refusal is not None
    assert "2 tickets not closed" in refused.refusal
    assert "(incident.waiting_customer: 2)" in refused.refusal
    assert [r.version for r in version_log(db) if r.active] == [bundle.version]
    with db.reading() as session:
        states = session.scalars(select(Ticket.state).order_by(Ticket.id)).all()
    assert states == ["waiting_customer", "waiting_customer", "new"]


def test_a_migrate_lets_the_change_through_and_moves_the_tickets_with_events(
    db: Database, tmp_path: Path
) -> None:
    root, bundle = active_folder(db, tmp_path)
    keys = waiting_tickets(db, bundle, 2)
    make_bundle(tmp_path / "live", {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)
    edit_bundle(root, MIGRATE_TO_IN_PROGRESS)

    applied = promote_folder(db, root, source="apply")
    assert applied.outcome == "activated" and applied.bundle is not None
    assert [r.version for r in version_log(db) if r.active] == [applied.version]
    with db.reading() as session:
        moved = session.scalars(select(Ticket).where(Ticket.key.in_(keys))).all()
        assert {(t.state, "migrated" in t.tags) for t in moved} == {("in_progress", True)}
        events = session.scalars(
            select(Event).where(Event.kind == "ticket.migrated").order_by(Event.id)
        ).all()
    assert len(events) == 2
    assert all(e.actor_id is None for e in events)  # the system moved them
    # A second promotion of the same folder moves nothing more.
    assert promote_folder(db, root, source="apply").outcome == "unchanged"


def test_apply_from_the_shell_refuses_with_the_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'apply.db'}"
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    root = make_bundle(tmp_path / "live", dict(NO_ROUTING), base=EXAMPLE)
    assert main(["apply", str(root)]) == 0
    db = Database(url)
    try:
        with db.reading() as session:
            assert session.scalars(select(Ticket)).first() is None
        bundle = promote_folder(db, root, source="apply").bundle
        assert bundle is not None
        waiting_tickets(db, bundle, 1)
    finally:
        db.dispose()
    capsys.readouterr()
    make_bundle(tmp_path / "live", {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)
    assert main(["apply", str(root)]) == 1
    out, err = capsys.readouterr()
    assert "(incident.waiting_customer: 1)" in out + err


def test_plan_compares_with_the_version_the_database_has_active(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'plan.db'}")
    live = make_bundle(tmp_path / "live", dict(NO_ROUTING), base=EXAMPLE)
    assert main(["apply", str(live)]) == 0
    capsys.readouterr()
    # The candidate lies in another folder (a pull request's checkout): the plan reads
    # what it replaces from the database, not from a folder.
    candidate = make_bundle(tmp_path / "pr", {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)
    assert main(["plan", str(candidate), "--config", str(tmp_path / "nowhere")]) == 2
    out = capsys.readouterr().out
    assert "incident.waiting_customer" in out
    assert main(["plan", str(live), "--config", str(tmp_path / "nowhere")]) == 0
