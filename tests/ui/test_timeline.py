"""The timeline says in the reader's language what happened to a ticket, including a
move made by the system when a new bundle removed the ticket's state (`migrate`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine import migrate_tickets
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.unit_of_work import begin_write
from gongdan.rules.workflow import Actor
from gongdan.ui.timeline import build_timeline
from tests.bundles import (
    EXAMPLE,
    MIGRATE_TO_IN_PROGRESS,
    NO_ROUTING,
    NO_WAITING,
    edit_bundle,
    make_bundle,
)
from tests.factories import NOW, StepClock, incident, make_user


def test_a_migrated_ticket_says_why_it_moved_in_english_and_chinese(
    tmp_path: Path, example_bundle: Bundle
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    db.upgrade()
    service = TicketService(db, example_bundle, clock=StepClock())
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
    key = incident(service, requester).ticket.key
    service.take_transition(agent, key, "ask_requester", comment="Which version?")
    root = make_bundle(tmp_path, {**NO_ROUTING, **NO_WAITING}, base=EXAMPLE)
    new = load_bundle(edit_bundle(root, MIGRATE_TO_IN_PROGRESS))
    with begin_write(db, new, Actor.system(), NOW + timedelta(hours=1)) as uow:
        migrate_tickets(uow, example_bundle, new)
    events = TicketService(db, new).list_events(agent, key)
    ticket_type = new.ticket_types["it_incident"]
    for language, said in (
        ("en", "moved the ticket out of a state the new configuration removed"),
        ("zh-CN", "因新配置删除了原状态，迁移了工单"),
    ):
        items = build_timeline(new, ticket_type, events, [], language)
        moved = next(item for item in items if item.what == said)
        assert moved.actor == ("System" if language == "en" else "系统")
        assert len(moved.changes) == 1
        assert moved.changes[0].before == "waiting_customer"  # (gone: shown by its id)
    db.dispose()
