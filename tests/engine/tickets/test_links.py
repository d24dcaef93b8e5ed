"""Relations between tickets: link, merge (both histories kept, the source closed and
pointing at the target) and split (a new ticket linked to the one it came from)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.loader import load_bundle
from gongdan.engine.records import EventRecord
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket, TicketLink
from gongdan.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import MINIMAL, make_bundle
from tests.factories import incident, make_user, outbox


def links(db: Database) -> set[tuple[str, str, str]]:
    """Every link as (source key, kind, target key)."""
    with db.reading() as session:
        key = {t.id: t.key for t in session.scalars(select(Ticket))}
        return {
            (key[link.source_id], link.kind, key[link.target_id])
            for link in session.scalars(select(TicketLink))
        }


def test_link_relates_two_tickets_once(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    first = incident(service, requester).ticket.key
    second = incident(service, requester).ticket.key
    result = service.link(agent, first, second, "blocks")
    assert [(e.ticket_key, e.kind, dict(e.after)) for e in result.events] == [
        (first, "ticket.linked", {"target": second, "kind": "blocks"}),
        (second, "ticket.linked", {"source": first, "kind": "blocks"}),
    ]
    assert service.link(agent, first, second, "blocks").events == ()  # already linked
    assert links(db) == {(first, "blocks", second)}
    assert service.list_events(agent, second)[-1].kind == "ticket.linked"


def test_link_refuses_itself_unknown_kinds_and_unseen_tickets(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    fixer = make_user(db, "yang.lei@example.com", teams=("field_service",))
    first = incident(service, requester).ticket.key
    hidden = incident(service, requester).ticket.key
    service.assign(fixer, hidden, team="field_service")
    with pytest.raises(ValidationFailed):
        service.link(agent, first, first)
    with pytest.raises(ValidationFailed) as caught:
        service.link(agent, first, hidden, "causes")
    assert "kind" in caught.value.fields
    with pytest.raises(NotFound):
        service.link(agent, first, hidden)
    assert links(db) == set()


def test_merge_keeps_both_histories(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    target = incident(service, requester, title="Outlook crashes").ticket.key
    source = incident(service, requester, title="Mail app crashes too").ticket.key
    service.take_transition(agent, source, "start")
    service.add_comment(agent, source, "Same crash signature as the other one.", public=False)
    source_history = service.list_events(agent, source)
    merged = service.merge(agent, source, target)
    assert merged.ticket.key == target

    closed = service.get_ticket(agent, source)
    assert closed.merged_into == target
    assert (closed.state, closed.state_category) == ("closed", "closed")
    assert service.transitions_for(agent, source) == []

    # The source keeps its own history, with the merge at its end.
    own = service.list_events(agent, source)
    assert own[: len(source_history)] == source_history
    assert (own[-1].kind, dict(own[-1].after)) == (
        "ticket.merged",
        {"state": "closed", "merged_into": target},
    )
    # The target's history holds both tickets' events, in the order they happened.
    combined = service.list_events(agent, target)
    assert [e.ticket_key for e in combined].count(source) == len(own)
    assert [e.id for e in combined] == sorted(e.id for e in combined)
    assert {e.id for e in source_history} <= {e.id for e in combined}
    assert combined[-1].kind == "ticket.merged_in" and combined[-1].after["source"] == source
    assert (source, "merged_into", target) in links(db)


def test_merge_refuses_itself_twice_and_chains(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    a, b, c = (incident(service, requester).ticket.key for _ in range(3))
    with pytest.raises(ValidationFailed):
        service.merge(agent, a, a)
    service.merge(agent, a, b)
    with pytest.raises(Conflict):
        service.merge(agent, a, c)  # already merged
    with pytest.raises(Conflict):
        service.merge(agent, c, a)  # into a ticket that is itself merged
    assert service.get_ticket(agent, c).merged_into is None


def test_merge_with_a_stale_version_is_a_conflict(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    source = incident(service, requester).ticket
    target = incident(service, requester).ticket.key
    service.take_transition(agent, source.key, "start")
    with pytest.raises(Conflict):
        service.merge(agent, source.key, target, expected_version=source.version)
    assert service.get_ticket(agent, source.key).merged_into is None


def test_split_creates_a_linked_ticket(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    source = incident(service, requester, fields={"category": "software", "impact": "team"})
    key = source.ticket.key
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    split = service.split(agent, key, title="Calendar sync also broken", description="Since 9:00")
    new = split.ticket
    assert new.key == "INC-2" and new.key != key
    assert (new.type, new.requester, new.state) == ("it_incident", requester.email, "new")
    assert (new.team, new.assignee) == ("service_desk", agent.email)
    assert dict(new.data) == dict(source.ticket.data)
    assert (new.key, "split_from", key) in links(db)
    assert service.list_events(agent, key)[-1].after == {"into": new.key}
    assert service.list_events(agent, new.key)[-1].after == {"source": key}
    # The requester sees the new ticket as their own.
    assert service.get_ticket(requester, new.key).title == "Calendar sync also broken"


def test_split_checks_the_fields_of_the_new_ticket(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    with pytest.raises(ValidationFailed) as caught:
        service.split(agent, key, title="Broken dock", fields={"category": "hardware"})
    assert "device_serial" in caught.value.fields
    assert links(db) == set()
    assert len(service.list_tickets(agent).items) == 1


def replay(events: list[EventRecord]) -> dict[str, object]:
    """A ticket's team, assignee, state and priority as its audit trail tells them:
    the created snapshot, then every change event's `after` on top."""
    ticket: dict[str, object] = {}
    for event in events:
        if event.kind == "ticket.created":
            ticket = {k: event.after.get(k) for k in ("team", "assignee", "state", "priority")}
        elif event.kind in (
            "ticket.assigned",
            "ticket.routed",
            "ticket.updated",
            "ticket.transitioned",
        ):
            ticket.update({k: v for k, v in event.after.items() if k in ticket})
    return ticket


def test_split_audit_trail_names_the_team_and_assignee_it_has(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    new = service.split(agent, key, title="Calendar sync also broken").ticket
    assert (new.team, new.assignee) == ("service_desk", agent.email)
    history = replay(service.list_events(agent, new.key))
    assert history == {
        "team": new.team,
        "assignee": new.assignee,
        "state": new.state,
        "priority": new.priority,
    }


def test_merge_runs_the_closed_state_on_enter_actions(db: Database, tmp_path: Path) -> None:
    """Merging moves the source into its workflow's closed state; entering that state runs
    its `on_enter` actions, as a transition into it would."""
    workflow = (MINIMAL / "workflows" / "basic.yaml").read_text(encoding="utf-8")
    workflow += "  closed: [{notify: requester, template: closed}, {add_tags: [closed]}]\n"
    bundle = load_bundle(make_bundle(tmp_path, {"workflows/basic.yaml": workflow}))
    service = TicketService(db, bundle)
    requester = make_user(db, "zhang.san@example.com", "requester")
    agent = make_user(db, "li.wei@example.com", "admin")
    source, target = (
        service.create_ticket(requester, "incident", title=t, fields={"category": "software"})
        for t in ("a", "b")
    )
    service.merge(agent, source.ticket.key, target.ticket.key)
    closed = service.get_ticket(agent, source.ticket.key)
    assert closed.state == "closed"
    assert "closed" in closed.tags
    notified = [p for t, p in outbox(db) if t == "notify" and p.get("source") == "on_enter:closed"]
    assert [(p["ticket"], p["target"], p["template"]) for p in notified] == [
        (source.ticket.key, "requester", "closed")
    ]


def test_reverse_readings_are_stored_the_other_way_round(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    """ "A is blocked by B" is "B blocks A"; a parent reads its child and back."""
    a, b, c = (incident(service, requester).ticket.key for _ in range(3))
    service.link(agent, a, b, "blocked_by")
    service.link(agent, a, c, "parent_of")
    assert links(db) == {(b, "blocks", a), (a, "parent_of", c)}
    seen_from_a = {(link.kind, link.key) for link in service.list_links(agent, a)}
    assert seen_from_a == {("blocked_by", b), ("parent_of", c)}
    assert [(link.kind, link.key) for link in service.list_links(agent, c)] == [("child_of", a)]
    with pytest.raises(PermissionDenied):
        service.list_links(requester, a)


def test_split_moves_the_chosen_comments(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    stays = service.add_comment(requester, key, "Outlook crashes on start").comment
    moves = service.add_comment(requester, key, "Also: the calendar does not sync").comment
    assert stays is not None and moves is not None
    other = incident(service, requester).ticket.key
    elsewhere = service.add_comment(agent, other, "A comment of another ticket").comment
    assert elsewhere is not None
    with pytest.raises(ValidationFailed) as caught:
        service.split(agent, key, title="Calendar", comments=[moves.id, elsewhere.id])
    assert str(elsewhere.id) in caught.value.fields["comments"]
    assert len(service.list_tickets(agent).items) == 2  # nothing created

    new = service.split(agent, key, title="Calendar sync", comments=[moves.id]).ticket
    assert [c.body for c in service.list_comments(agent, key)] == ["Outlook crashes on start"]
    assert [c.body for c in service.list_comments(agent, new.key)] == [
        "Also: the calendar does not sync"
    ]
    assert service.list_events(agent, key)[-1].after == {"into": new.key, "comments": [moves.id]}
    assert service.list_events(agent, new.key)[-1].after == {
        "source": key,
        "comments": [moves.id],
    }
