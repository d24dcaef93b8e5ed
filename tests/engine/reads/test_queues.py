"""Agent queues: who sees which queue and which tickets, YAML views filtered in SQL
exactly as the condition language would filter them in Python, sorts and cursor pages,
counts, bulk actions with per-ticket outcomes, and a bounded number of statements.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.reads.queries import FieldFilter, TicketQuery
from gongdan.engine.reads.queues import QueueQuery, QueueService
from gongdan.engine.records import TicketRecord
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import EXAMPLE
from tests.factories import NOW, StepClock, incident, maintenance, make_user
from tests.sql import StatementRecorder

# A page: its tickets and their people, however many rows.
SELECTS_PER_PAGE = 2


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def tickets(db: Database, example_bundle: Bundle, clock: StepClock) -> TicketService:
    return TicketService(db, example_bundle, clock=clock)


@pytest.fixture
def queues(db: Database, example_bundle: Bundle, clock: StepClock) -> QueueService:
    return QueueService(db, example_bundle, clock=lambda: clock.now)


@pytest.fixture
def fixer(db: Database) -> Actor:
    return make_user(db, "zhao.lei@example.com", teams=("field_service",))


def keys(queues: QueueService, who: Actor, queue: str, **query: Any) -> list[str]:
    return [t.key for t in queues.list_queue(who, queue, QueueQuery(**query)).items]


# Which queues, for whom ----------------------------------------------------------------


def test_staff_see_the_builtin_queues_and_the_views_meant_for_them(
    db: Database, queues: QueueService, agent: Actor, requester: Actor
) -> None:
    crew = make_user(db, "sun.li@example.com", teams=("maintenance_crew",))
    admin = make_user(db, "root@example.com", "admin")
    builtin = ["mine", "my_teams", "unassigned", "breaching"]
    assert [q.id for q in queues.queues_for(agent)] == [
        *builtin,
        "urgent_incidents",
        "waiting_on_customer",
    ]
    assert "line_stoppages" in [q.id for q in queues.queues_for(crew)]
    assert "line_stoppages" in [q.id for q in queues.queues_for(admin)]
    with pytest.raises(NotFound):
        queues.list_queue(agent, "line_stoppages")  # a view for another team
    with pytest.raises(PermissionDenied):
        queues.queues_for(requester)
    with pytest.raises(PermissionDenied):
        queues.list_queue(requester, "mine")
    with pytest.raises(PermissionDenied):
        queues.counts(requester)


def test_builtin_queues_hold_open_tickets_of_me_and_my_teams(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, fixer: Actor,
    requester: Actor,
) -> None:  # fmt: skip
    mine = incident(tickets, requester).ticket.key
    tickets.assign(agent, mine, team="service_desk", assignee=agent.email)
    team_free = incident(tickets, requester).ticket.key
    tickets.assign(agent, team_free, team="service_desk")
    no_team = incident(tickets, requester).ticket.key
    elsewhere = incident(tickets, requester).ticket.key
    tickets.assign(fixer, elsewhere, team="field_service")
    done = incident(tickets, requester).ticket.key
    tickets.assign(agent, done, team="service_desk", assignee=agent.email)
    tickets.take_transition(
        agent, done, "resolve", fields={"resolution_code": "fixed"}, comment="Fixed."
    )

    assert keys(queues, agent, "mine") == [mine]
    assert keys(queues, agent, "my_teams") == [team_free, mine]
    # Oldest first; a ticket no team has yet is everybody's to triage.
    assert keys(queues, agent, "unassigned") == [team_free, no_team]
    assert keys(queues, fixer, "my_teams") == [elsewhere]
    assert keys(queues, fixer, "unassigned") == [no_team, elsewhere]
    assert queues.counts(agent) == {
        "mine": 1,
        "my_teams": 2,
        "unassigned": 2,
        "breaching": len(keys(queues, agent, "breaching")),
        "urgent_incidents": 0,
        "waiting_on_customer": 0,
    }


def test_breaching_soon_holds_open_tickets_due_within_hours_soonest_first(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, requester: Actor
) -> None:
    # 2026-11-02 09:00 UTC is 17:00 in Shanghai: an urgent incident's 30 minutes of
    # first response fall due today; a high one's hour and a low one's working day run
    # into tomorrow, beyond the 4 hours of "soon".
    low = incident(tickets, agent, requester=requester.email, priority="low").ticket
    urgent = incident(tickets, agent, requester=requester.email, priority="urgent").ticket
    high = incident(tickets, agent, requester=requester.email, priority="high").ticket
    assert urgent.first_response_due is not None and high.first_response_due is not None
    assert low.first_response_due is not None
    assert high.first_response_due - NOW > timedelta(hours=4)
    assert keys(queues, agent, "breaching") == [urgent.key]
    later = QueueService(queues.db, queues.bundle, clock=lambda: NOW + timedelta(days=1))
    # A day later everything is due soon or overdue, still soonest first.
    assert keys(later, agent, "breaching") == [urgent.key, high.key, low.key]
    assert keys(later, agent, "breaching", sort="sla", descending=True) == [
        low.key,
        high.key,
        urgent.key,
    ]


def test_yaml_views_filter_and_sort_as_declared(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, requester: Actor
) -> None:
    normal = incident(tickets, requester).ticket.key
    urgent = incident(tickets, agent, requester=requester.email, priority="urgent").ticket.key
    high = incident(tickets, agent, requester=requester.email, priority="high").ticket.key
    waiting = incident(tickets, agent, requester=requester.email, priority="urgent").ticket.key
    tickets.take_transition(agent, waiting, "ask_requester", comment="Which laptop?")
    assert normal not in keys(queues, agent, "urgent_incidents")
    # Sorted by the next SLA deadline: urgent before high.
    assert keys(queues, agent, "urgent_incidents") == [urgent, high]
    assert keys(queues, agent, "waiting_on_customer") == [waiting]
    # A sort chosen by the agent overrides the view's.
    assert keys(queues, agent, "urgent_incidents", sort="created_at", descending=True) == [
        high,
        urgent,
    ]


def test_filters_sorts_and_cursor_pages_return_every_ticket_once(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, requester: Actor
) -> None:
    made = []
    for index in range(7):
        priority = ("low", "normal", "high", "urgent")[index % 4]
        category = "network" if index % 2 else "software"
        result = incident(
            tickets,
            agent,
            requester=requester.email,
            priority=priority,
            fields={"category": category, "impact": "me"},
        )
        made.append(result.ticket.key)
    filters = TicketQuery(fields=(FieldFilter("category", "eq", "network"),))
    assert sorted(keys(queues, agent, "unassigned", filters=filters)) == sorted(made[1::2])
    assert keys(queues, agent, "unassigned", filters=TicketQuery(priorities=["urgent"])) == [
        made[3]
    ]
    for sort in ("created_at", "updated_at", "priority", "key", "sla", "resolution_due"):
        for descending in (False, True):
            seen: list[str] = []
            cursor = None
            while True:
                page = queues.list_queue(
                    agent,
                    "unassigned",
                    QueueQuery(sort=sort, descending=descending, cursor=cursor, limit=2),
                )
                seen += [t.key for t in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert sorted(seen) == sorted(made), (sort, descending)
            assert len(seen) == len(made)
    by_priority = keys(queues, agent, "unassigned", sort="priority", descending=True)
    # Urgent first, then the two high ones (ties: newest first).
    assert by_priority[:3] == [made[3], made[6], made[2]]


def test_bad_sorts_and_cursors_are_refused_clearly(queues: QueueService, agent: Actor) -> None:
    with pytest.raises(ValidationFailed) as error:
        queues.list_queue(agent, "mine", QueueQuery(sort="title"))
    assert "sort" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        queues.list_queue(agent, "mine", QueueQuery(cursor="not-a-cursor"))
    assert error.value.fields == {"cursor": "is not a cursor from this queue"}
    with pytest.raises(NotFound):
        queues.list_queue(agent, "nope")


# Views in SQL mean what they mean in Python ---------------------------------------------

VIEWS = {
    "text_in": {"production_line": ["smt_1", "smt_2"]},
    "text_not_in": {"production_line": {"not_in": ["smt_1"]}},
    "text_ne_missing": {"fault_code": {"ne": "E042"}},
    "text_empty": {"fault_code": {"empty": True}},
    "text_contains": {"title": {"contains": "jam"}},
    "text_case": {"title": {"contains": "Jam"}},
    "text_starts_case": {"title": {"starts_with": "conveyor"}},
    "text_wildcards": {"title": {"contains": "100%_"}},
    "text_starts": {"device_id": {"starts_with": "SMT-"}},
    "null_equals": {"team": None},
    "list_member": {"spare_parts": "belt"},
    "list_any": {"spare_parts": ["motor", "sensor"]},
    "list_not": {"not": {"spare_parts": {"contains": "belt"}}},
    "list_empty": {"spare_parts": {"empty": True}},
    "tags": {"tags": {"contains": "vip"}},
    "tags_empty": {"tags": {"empty": False}},
    "boolean_true": {"line_stopped": True},
    "boolean_not_true": {"not": {"line_stopped": True}},
    "boolean_missing": {"line_stopped": {"empty": True}},
    "number_range": {"downtime_minutes": {"gte": 30, "lt": 120}},
    "number_equals": {"downtime_minutes": [45, 200]},
    "number_not": {"not": {"downtime_minutes": {"gt": 60}}},
    "any_all": {"any": [{"priority": "urgent"}, {"all": [{"line_stopped": False}]}]},
    "stamp_after": {"created_at": {"gt": "2026-11-02T09:00:03+00:00"}},
    "stamp_day": {"created_at": {"lte": "2026-11-02"}},
    "stamp_age": {"created_at": {"older_than": "5s"}},
    "stamp_new": {"updated_at": {"newer_than": "1h"}},
    "state_category": {"state_category": {"in": ["new", "open"]}},
    "not_closed": {"state_category": {"not_in": ["resolved", "closed"]}},
    "priority_ne": {"priority": {"ne": "urgent"}},
    "not_priority": {"not": {"priority": ["low", "urgent"]}},
    "assignee_empty": {"assignee": {"empty": True}},
    "type_and_team": {"type": "equipment_maintenance", "team": {"ne": "maintenance_crew"}},
}


@pytest.fixture(scope="module")
def views_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    import yaml

    root = tmp_path_factory.mktemp("views") / "config"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("routing"))
    documents = [
        {"kind": "View", "id": name, "name": name, "when": when, "columns": ["key"]}
        for name, when in VIEWS.items()
    ]
    (root / "views" / "tests.yaml").write_text(yaml.safe_dump_all(documents), "utf-8")
    return load_bundle(Path(root))


def _values(record: TicketRecord) -> dict[str, Any]:
    return {
        **record.data,
        "key": record.key,
        "type": record.type,
        "title": record.title,
        "description": record.description,
        "priority": record.priority,
        "state": record.state,
        "state_category": record.state_category,
        "team": record.team,
        "tags": list(record.tags),
        "assignee": {"email": record.assignee} if record.assignee else None,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def test_every_view_selects_in_sql_what_its_condition_holds_for(
    db: Database, views_bundle: Bundle, agent: Actor, requester: Actor
) -> None:
    clock = StepClock()
    service = TicketService(db, views_bundle, clock=clock)
    crew = make_user(db, "sun.li@example.com", teams=("maintenance_crew",))
    variants: list[dict[str, Any]] = [
        {"fields": {"production_line": "smt_1", "line_stopped": True}, "tags": ["vip"]},
        {"fields": {"production_line": "smt_2", "fault_code": "E042", "line_stopped": False}},
        {"fields": {"production_line": "assembly_1", "spare_parts": ["belt", "motor"]}},
        {"fields": {"spare_parts": ["sensor"]}, "priority": "urgent", "title": "Conveyor jam"},
        {"title": "Jam at 100%_ speed on conveyor belt"},
        {"fields": {"spare_parts": [], "fault_code": "E007"}, "tags": ["night", "vip"]},
        {"fields": {"production_line": "smt_2", "downtime_minutes": 45}},
        {"fields": {"downtime_minutes": 120, "line_stopped": True, "device_id": "AOI-007"}},
        {"fields": {"downtime_minutes": 200}, "priority": "low"},
    ]
    made = [maintenance(service, crew, requester=requester.email, **v).ticket.key for v in variants]
    service.assign(crew, made[1], team="maintenance_crew", assignee=crew.email)
    service.take_transition(crew, made[1], "dispatch")
    service.assign(agent, made[2], team="service_desk")
    admin = make_user(db, "root@example.com", "admin")
    queues = QueueService(db, views_bundle, clock=lambda: clock.now)
    records = [service.get_ticket(admin, key) for key in made]
    for name, view in views_bundle.views.items():
        if name not in VIEWS:
            continue
        assert view.when is not None
        expected = sorted(r.key for r in records if view.when(_values(r), None, clock.now))
        got = sorted(t.key for t in queues.list_queue(admin, name).items)
        assert got == expected, name
    # Every variant is told apart by some view (the table means something).
    assert (
        len({tuple(sorted(t.key for t in queues.list_queue(admin, n).items)) for n in VIEWS}) > 10
    )


def test_a_view_can_name_the_viewer_as_assignee(
    tmp_path: Path, db: Database, agent: Actor, requester: Actor
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("routing"))
    (root / "views" / "mine_urgent.yaml").write_text(
        "kind: View\nname: {en: My urgent, zh-CN: 我的紧急工单}\n"
        "when: {assignee: me, priority: urgent}\ncolumns: [key]\n",
        "utf-8",
    )
    bundle = load_bundle(root)
    service = TicketService(db, bundle, clock=StepClock())
    other = make_user(db, "wang.fang@example.com", teams=("service_desk",))
    a = incident(service, agent, requester=requester.email, priority="urgent").ticket.key
    b = incident(service, agent, requester=requester.email, priority="urgent").ticket.key
    service.assign(agent, a, team="service_desk", assignee=agent.email)
    service.assign(agent, b, team="service_desk", assignee=other.email)
    queues = QueueService(db, bundle)
    assert [t.key for t in queues.list_queue(agent, "mine_urgent").items] == [a]
    assert [t.key for t in queues.list_queue(other, "mine_urgent").items] == [b]


# Bulk actions ------------------------------------------------------------------------------


def test_bulk_assign_reports_each_ticket_and_one_failure_stops_nothing(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, fixer: Actor,
    requester: Actor,
) -> None:  # fmt: skip
    a = incident(tickets, requester).ticket.key
    b = incident(tickets, requester).ticket.key
    hidden = incident(tickets, requester).ticket.key
    tickets.assign(fixer, hidden, team="field_service")
    outcomes = queues.bulk_assign(
        agent, [a, hidden, "INC-999", b], team="service_desk", assignee=agent.email
    )
    assert [(o.key, o.ok) for o in outcomes] == [
        (a, True),
        (hidden, False),
        ("INC-999", False),
        (b, True),
    ]
    assert "no ticket" in outcomes[2].message
    assert sorted(keys(queues, agent, "mine")) == sorted([a, b])


def test_bulk_transition_takes_each_ticket_in_its_own_transaction(
    db: Database, tickets: TicketService, queues: QueueService, agent: Actor, requester: Actor
) -> None:
    a = incident(tickets, requester).ticket.key
    b = incident(tickets, requester).ticket.key
    tickets.take_transition(agent, b, "start")
    outcomes = queues.bulk_transition(agent, [a, b], "start")
    assert [(o.key, o.ok) for o in outcomes] == [(a, True), (b, False)]
    assert outcomes[1].message
    assert tickets.get_ticket(agent, a).state == "in_progress"
    # A transition asking for a field: each ticket refused with the field named.
    tickets.assign(agent, a, team="service_desk", assignee=agent.email)
    refused = queues.bulk_transition(agent, [a], "resolve", comment="Done.")
    assert not refused[0].ok and "resolution_code" in refused[0].fields
    done = queues.bulk_transition(
        agent, [a], "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    assert done[0].ok and tickets.get_ticket(agent, a).state == "resolved"
    with pytest.raises(PermissionDenied):
        queues.bulk_transition(requester, [a], "reopen")


# Statements per page ----------------------------------------------------------------------


def test_a_page_and_the_counts_take_a_fixed_number_of_statements(
    db: Database,
    tickets: TicketService,
    queues: QueueService,
    agent: Actor,
    requester: Actor,
    statements: StatementRecorder,
) -> None:
    for index in range(12):
        key = incident(tickets, requester).ticket.key
        if index % 3 == 0:
            tickets.assign(agent, key, team="service_desk", assignee=agent.email)
    # A queue's own page: on PostgreSQL first the two settings that keep it on its
    # index's range (`ordered_reads`); a filtered page leaves the plan to the planner.
    settings = {"other": 2} if db.dialect == "postgresql" else {}
    with statements.recording(db) as seen:
        page = queues.list_queue(agent, "my_teams", QueueQuery(limit=10))
    assert len(page.items) == 4
    assert seen.kinds() == {"select": SELECTS_PER_PAGE} | settings, seen
    with statements.recording(db) as seen:
        page = queues.list_queue(agent, "unassigned", QueueQuery(limit=10))
    assert len(page.items) == 8
    assert seen.kinds() == {"select": SELECTS_PER_PAGE} | settings, seen
    with statements.recording(db) as seen:
        filtered = QueueQuery(filters=TicketQuery(priorities=["normal"]), limit=10)
        queues.list_queue(agent, "unassigned", filtered)
    assert seen.kinds() == {"select": SELECTS_PER_PAGE}, seen
    with statements.recording(db) as seen:
        counts = queues.counts(agent)
    # One capped count per queue ("mine" reads its counter); on PostgreSQL first the
    # two settings that keep the counts on their index ranges (`ordered_reads`).
    expected = {"select": len(counts)} | ({"other": 2} if db.dialect == "postgresql" else {})
    assert seen.kinds() == expected and len(counts) == 6, seen
