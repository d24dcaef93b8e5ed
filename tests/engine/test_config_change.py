"""Tickets keep working when the config bundle changes under them: a ticket whose state
(or whole type) was removed is reported through `problems`, offers no transitions, and
never breaks a read, a list or the history; the rest of the desk carries on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.reads.queries import TicketQuery
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.errors import GongdanError, TransitionNotAllowed
from gongdan.rules.workflow import Actor
from tests.bundles import EXAMPLE, MINIMAL, make_bundle
from tests.factories import incident

# The incident workflow without its waiting_customer state.
NO_WAITING = """\
kind: Workflow
id: incident
initial: new
states:
  new: {category: new}
  in_progress: {category: open}
  resolved: {category: resolved}
  closed: {category: closed}
transitions:
  - id: start
    from: [new]
    to: in_progress
    roles: [agent]
  - id: resolve
    from: [new, in_progress]
    to: resolved
    roles: [agent]
    when: {assignee: {empty: false}}
    fields: [resolution_code]
    comment: required
  - id: reopen
    from: [resolved]
    to: in_progress
    roles: [requester, agent]
  - id: close
    from: [resolved]
    to: closed
    roles: [requester, agent]
    after: 72h
on_enter:
  resolved: [{notify: requester, template: resolved}]
"""


def changed(db: Database, tmp_path: Path, files: dict[str, str | None]) -> TicketService:
    """A service over the same database with a modified copy of the example bundle."""
    return TicketService(
        db,
        load_bundle(
            make_bundle(
                tmp_path,
                # (No macros: a workflow edited here may drop the transitions they take.)
                {
                    **files,
                    "routing/default.yaml": None,
                    "routing/automations.yaml": None,
                    "macros/ask_for_serial.yaml": None,
                    "macros/resolved_with_guidance.yaml": None,
                },
                base=EXAMPLE,
            )
        ),
    )


def test_ticket_in_a_removed_state_is_reported_not_broken(
    db: Database,
    service: TicketService,
    example_bundle: Bundle,
    tmp_path: Path,
    requester: Actor,
    agent: Actor,
) -> None:
    stuck = incident(service, requester, title="Waiting on me").ticket.key
    service.take_transition(agent, stuck, "ask_requester", comment="Which version?")
    fine = incident(service, requester, title="Still fine").ticket.key

    new = changed(db, tmp_path, {"workflows/incident.yaml": NO_WAITING})
    assert new.bundle.version != example_bundle.version
    for who in (agent, requester):
        ticket = new.get_ticket(who, stuck)
        assert ticket.state == "waiting_customer"
        assert ticket.problems == (
            "state 'waiting_customer' no longer exists in workflow 'incident'",
        )
        assert ticket.config_version == example_bundle.version
        assert new.transitions_for(who, stuck) == []
        assert new.list_events(who, stuck)[-1].after["state"] == "waiting_customer"
        assert [c.body for c in new.list_comments(who, stuck)] == ["Which version?"]
    for transition in ("requester_replied", "start", "reopen"):
        with pytest.raises(TransitionNotAllowed):
            new.take_transition(agent, stuck, transition, comment="Try")
    # Lists still work, with the problem on the one ticket.
    listed = {t.key: t.problems for t in new.list_tickets(agent).items}
    assert listed == {stuck: new.get_ticket(agent, stuck).problems, fine: ()}
    waiting = new.list_tickets(agent, TicketQuery(states=["waiting_customer"]))
    assert [t.key for t in waiting.items] == [stuck]
    # The ticket can still be edited and discussed, and the rest of the desk goes on.
    new.update_ticket(agent, stuck, {"impact": "team"})
    new.add_comment(requester, stuck, "Outlook 2021.")
    assert new.take_transition(agent, fine, "start").ticket.state == "in_progress"
    made = incident(new, requester).ticket
    assert made.config_version == new.bundle.version and made.problems == ()


PRINTER = """\
kind: TicketType
id: printer
name: Printer problem
key_prefix: PRN
workflow: basic
fields:
  - id: floor
    type: select
    options: ["1", "2", "3"]
    required: true
  - id: amount
    type: number
  - id: approver
    type: user
forms:
  create: [title, floor]
  agent: [priority, floor]
"""


def test_ticket_of_a_removed_type_is_reported_not_broken(
    db: Database, tmp_path: Path, requester: Actor, agent: Actor
) -> None:
    old = TicketService(
        db,
        load_bundle(
            make_bundle(
                tmp_path, {"ticket_types/printer.yaml": PRINTER, "routing/default.yaml": None}
            )
        ),
    )
    orphan = old.create_ticket(requester, "printer", title="卡纸", fields={"floor": "3"}).ticket.key
    kept = old.create_ticket(
        requester, "incident", title="Disk full", fields={"category": "software"}
    ).ticket.key
    new = TicketService(db, load_bundle(MINIMAL))
    assert "printer" not in new.bundle.ticket_types
    for who in (agent, requester):
        ticket = new.get_ticket(who, orphan)
        assert ticket.problems == ("ticket type 'printer' no longer exists",)
        assert (ticket.state, ticket.data["floor"]) == ("new", "3")
        assert new.transitions_for(who, orphan) == []
        assert len(new.list_events(who, orphan)) == 1
        assert {t.key for t in new.list_tickets(who).items} == {orphan, kept}
    with pytest.raises(GongdanError):  # a typed error, never a crash
        new.take_transition(agent, orphan, "start")
    assert new.take_transition(agent, kept, "start").ticket.state == "open"
