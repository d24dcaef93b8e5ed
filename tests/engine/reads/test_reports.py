"""Reports on real databases (SQLite and PostgreSQL): a known set of tickets made
through TicketService at fixed instants, and every figure checked against what the
test computes by hand: counts, medians and p90s in business hours of the SLA calendar,
SLA attainment, CSAT, time buckets, multiselect groups; scoping as queues; bad filters.

The example's `it_standard` policy runs on `cn_business` (Mon-Fri 09:00-12:00 and
13:30-18:00, Asia/Shanghai); a normal incident's first response is due within 4h.
2026-11-02 is a Monday.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.channels import channels_for
from gongdan.engine.outbox.delivery import Notification
from gongdan.engine.outbox.relay import deliver, relay_once
from gongdan.engine.reads.queries import FieldFilter
from gongdan.engine.reads.reports import ReportFilters, ReportService, ReportTable
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.errors import NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import maintenance, make_user

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


class _Quiet:
    def send(self, notification: Notification) -> None:
        pass


class World:
    """Four incidents, three in service_desk and one in field_service:

    | ticket | created  | first reply | FR (h) | resolved   | resolution (h) | CSAT |
    | A      | Mon 9:00 | Mon 10:00   | 1      | Mon 12:00  | 3              | 5    |
    | B      | Mon 9:00 | Mon 9:30    | 0.5    | Mon 16:00  | 3 + 2.5 = 5.5  | 2    |
    | C      | Mon 9:00 | Mon 15:00   | 4.5 ✗  | —          | —              | —    |
    | D (fs) | Tue 9:00 | Tue 11:00   | 2      | —          | —              | —    |
    """

    def __init__(self, db: Database, bundle: Bundle) -> None:
        self.clock = Clock(sh(2, 9))
        self.tickets = TicketService(db, bundle, clock=self.clock)
        self.reports = ReportService(db, bundle, clock=self.clock)
        self.agent = make_user(db, "li.wei@example.com", teams=("service_desk",))
        self.fixer = make_user(db, "zhao.lei@example.com", teams=("field_service",))
        self.admin = make_user(db, "admin@example.com", "admin")
        self.requester = make_user(db, "zhang.san@example.com", "requester")
        a, b, c = (self._incident(n, "service_desk", "software") for n in "ABC")
        self.at(2, 9, 30)
        self.tickets.add_comment(self.agent, b, "Looking at it.")
        self.at(2, 10)
        self.tickets.add_comment(self.agent, a, "Looking at it.")
        self.at(2, 12)
        self._resolve(a)
        self.at(2, 15)
        self.tickets.add_comment(self.agent, c, "Sorry for the wait.")
        self.at(2, 16)
        self._resolve(b)
        self.at(3, 9)
        d = self._incident("D", "field_service", "hardware", device_serial="PC-12345")
        self.at(3, 11)
        self.tickets.add_comment(self.fixer, d, "On my way.")
        self.at(3, 12)
        for key in (a, b):
            self.tickets.take_transition(self.requester, key, "close")
        self._deliver_surveys(db)
        for key, rating in ((a, 5), (b, 2)):
            self.tickets.answer_survey(self.requester, key, rating)
        self.keys = {"A": a, "B": b, "C": c, "D": d}

    @staticmethod
    def _deliver_surveys(db: Database) -> None:
        """The outbox's survey rows become surveys when delivered (`survey: csat`)."""
        later = sh(4, 12)
        channels = channels_for(_Quiet())
        relay_once(db, lambda i: deliver(db, i, later, channels=channels), later)

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.clock.now = sh(day, hour, minute)

    def _incident(self, title: str, team: str, category: str, **more: str) -> str:
        fields = {"category": category, "impact": "me", **more}
        result = self.tickets.create_ticket(
            self.admin,
            "it_incident",
            title=title,
            fields=fields,
            team=team,
            requester="zhang.san@example.com",
        )
        return result.ticket.key

    def _resolve(self, key: str) -> None:
        self.tickets.assign(self.admin, key, assignee="li.wei@example.com")
        self.tickets.take_transition(
            self.agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
        )

    def run(self, who: Actor, report: str, **filters: object) -> ReportTable:
        return self.reports.run_report(who, report, ReportFilters(**filters))  # type: ignore[arg-type]


@pytest.fixture
def world(db: Database, example_bundle: Bundle) -> World:
    return World(db, example_bundle)


def rows(table: ReportTable) -> list[tuple[object, ...]]:
    return [tuple(r) for r in table.rows]


def test_counts_by_team_state_category_and_week(world: World) -> None:
    assert rows(world.run(world.admin, "backlog_by_team")) == [
        ("field_service", 1),
        ("service_desk", 1),
    ]
    by_category = world.run(world.admin, "backlog_by_state_category")
    assert rows(by_category) == [("new", 2)]  # C and D: nobody took `start`
    created = world.run(world.admin, "created_per_week")
    assert rows(created) == [("2026-11-02", "it_incident", 4)]
    assert [c.id for c in created.columns] == ["created_at_week", "type", "count"]
    resolved = world.run(world.admin, "resolved_per_week")
    assert rows(resolved) == [("2026-11-02", "it_incident", 2)]
    # Open now (Tue 12:00): C created 27 hours ago, D 3 hours ago.
    assert rows(world.run(world.admin, "backlog_by_age")) == [("0-1d", 1), ("1-3d", 1)]


def test_first_response_and_resolution_median_and_p90_in_business_hours(world: World) -> None:
    # First responses: A 1h, B 0.5h, C 4.5h (9-12 and 13:30-15:00), D 2h.
    # Median of [0.5, 1, 2, 4.5] = (1 + 2) / 2; p90: h = 0.9 * 3 = 2.7 -> 2 + 0.7 * 2.5.
    assert rows(world.run(world.admin, "first_response_median")) == [("it_incident", 1.5)]
    assert rows(world.run(world.admin, "first_response_p90")) == [("it_incident", 3.75)]
    # Resolutions: A 3h, B 5.5h (9-12 and 13:30-16:00); both normal priority.
    assert rows(world.run(world.admin, "resolution_median")) == [("normal", 4.25)]
    # p90 of [3, 5.5]: h = 0.9 -> 3 + 0.9 * 2.5 = 5.25; grouped by team (service_desk).
    assert rows(world.run(world.admin, "resolution_p90")) == [("service_desk", 5.25)]


def test_sla_attainment_and_csat(world: World) -> None:
    # First response: A, B, D within 4h, C breached -> 3 of 4.
    assert rows(world.run(world.admin, "sla_first_response")) == [("it_standard", 75.0)]
    # Resolution: A and B met in time; C and D still running (no outcome yet).
    assert rows(world.run(world.admin, "sla_resolution")) == [("it_standard", 100.0)]
    assert rows(world.run(world.admin, "csat_by_team")) == [("service_desk", 3.5)]


def test_agent_workload_and_a_select_field_breakdown(world: World) -> None:
    assert rows(world.run(world.admin, "workload_resolved")) == [("li.wei@example.com", 2)]
    assert rows(world.run(world.admin, "workload_open")) == [(None, 2)]
    assert rows(world.run(world.admin, "incidents_by_category")) == [
        ("hardware", 1),
        ("software", 3),
    ]


def test_an_agent_counts_only_their_teams_tickets_and_a_requester_none(world: World) -> None:
    assert rows(world.run(world.agent, "created_per_week")) == [("2026-11-02", "it_incident", 3)]
    assert rows(world.run(world.fixer, "incidents_by_category")) == [("hardware", 1)]
    with pytest.raises(PermissionDenied):
        world.run(world.requester, "created_per_week")
    with pytest.raises(PermissionDenied):
        world.reports.reports_for(world.requester)


def test_filters_narrow_every_report(world: World) -> None:
    monday = {"start": sh(2, 0).astimezone(UTC), "end": sh(3, 0).astimezone(UTC)}
    assert rows(world.run(world.admin, "incidents_by_category", **monday)) == [("software", 3)]
    assert rows(world.run(world.admin, "backlog_by_team", teams=("field_service",))) == [
        ("field_service", 1)
    ]
    hardware = (FieldFilter("category", "eq", "hardware"),)
    assert rows(world.run(world.admin, "first_response_median", fields=hardware)) == [
        ("it_incident", 2.0)
    ]
    assert rows(world.run(world.admin, "backlog_by_type", priorities=("urgent",))) == []


def test_bad_filters_name_what_is_wrong(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.run(world.admin, "backlog_by_team", types=("it_incidnet",))
    assert "type" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        world.run(world.admin, "backlog_by_team", fields=(FieldFilter("nope", "eq", "x"),))
    assert "fields.nope" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        world.run(world.admin, "backlog_by_team", start=sh(3, 0), end=sh(2, 0))
    assert "to" in caught.value.fields
    with pytest.raises(NotFound):
        world.run(world.admin, "no_such_report")


def test_the_whole_dashboard_runs_one_statement_per_report(
    world: World, example_bundle: Bundle
) -> None:
    tables = world.reports.run_dashboard(world.admin)
    assert [t.id for t in tables] == list(example_bundle.reports)
    spare = next(t for t in tables if t.id == "spare_parts_used")
    assert rows(spare) == []  # no maintenance tickets


def test_multiselect_groups_and_the_average_of_a_number_field(
    db: Database, example_bundle: Bundle
) -> None:
    clock = Clock(sh(2, 9))
    tickets = TicketService(db, example_bundle, clock=clock)
    admin = make_user(db, "admin@example.com", "admin")
    made = [
        ("smt_1", ["bearing", "belt"], 30),
        ("smt_1", ["bearing"], 90),
        ("packaging", [], None),
    ]
    for line, parts, downtime in made:
        fields: dict[str, object] = {"production_line": line, "spare_parts": parts}
        if downtime is not None:
            fields["downtime_minutes"] = downtime
        maintenance(tickets, admin, fields=fields)
    reports = ReportService(db, example_bundle, clock=clock)
    # A ticket counts in the group of each of its parts; one without parts in none.
    spare = reports.run_report(admin, "spare_parts_used")
    assert rows(spare) == [("bearing", 2), ("belt", 1), (None, 1)]
    downtime = reports.run_report(admin, "downtime_by_line")
    assert rows(downtime) == [("smt_1", 60.0)]  # (30 + 90) / 2; packaging has none
    by_line = reports.run_report(admin, "breakdowns_by_line")
    assert rows(by_line) == [("packaging", 1), ("smt_1", 2)]


def test_survey_response_rate_and_handling_time_per_agent(world: World) -> None:
    # A and B were resolved by li.wei in 3h and 5.5h: median 4.25h.
    assert rows(world.run(world.admin, "handling_time_by_agent")) == [("li.wei@example.com", 4.25)]
    # A third survey, sent and never answered: 2 of 3 answered.
    world.at(4, 9)
    extra = world._incident("E", "service_desk", "software")
    world._resolve(extra)
    world.tickets.take_transition(world.requester, extra, "close")
    world._deliver_surveys(world.tickets.db)
    assert rows(world.run(world.admin, "csat_response_by_team")) == [("service_desk", 66.7)]
    assert rows(world.run(world.admin, "csat_by_team")) == [("service_desk", 3.5)]


def test_the_breached_tickets_are_listed_newest_tickets_first(world: World) -> None:
    # C's first response was due at 14:30 (4 business hours after Mon 9:00); the breach
    # was recorded when the SLA engine next looked at C: its reply at 15:00.
    table = world.run(world.admin, "sla_breached_first_response")
    assert [c.id for c in table.columns] == ["key", "title", "breached_first_response"]
    assert rows(table) == [(world.keys["C"], "C", sh(2, 15).astimezone(UTC))]
    assert rows(world.run(world.admin, "sla_breached_resolution")) == []
    # Scoped: field service's agent sees none of service desk's breaches.
    assert rows(world.run(world.fixer, "sla_breached_first_response")) == []


def test_csat_distribution_and_the_lowest_rated_tickets(world: World) -> None:
    assert rows(world.run(world.admin, "csat_distribution")) == [(2, 1), (5, 1)]
    lowest = world.run(world.admin, "csat_lowest_rated")
    assert [c.id for c in lowest.columns] == ["key", "title", "lowest_rated"]
    assert rows(lowest) == [(world.keys["B"], "B", 2), (world.keys["A"], "A", 5)]
    assert rows(world.run(world.fixer, "csat_lowest_rated")) == []


def test_days_are_counted_in_the_default_calendars_zone(
    db: Database, example_bundle: Bundle
) -> None:
    """Mon 2 Nov 07:30 in Shanghai is Sun 1 Nov 23:30 UTC, and Mon 9 Nov 06:00 is
    Sun 8 Nov 22:00 UTC: each counts in the Shanghai week it was created in (UTC weeks
    would give 26 Oct and 2 Nov)."""
    clock = Clock(sh(2, 7, 30))
    tickets = TicketService(db, example_bundle, clock=clock)
    admin = make_user(db, "admin@example.com", "admin")
    maintenance(tickets, admin)
    clock.now = sh(9, 6)
    maintenance(tickets, admin)
    reports = ReportService(db, example_bundle, clock=clock)
    weekly = reports.run_report(admin, "created_per_week")
    assert rows(weekly) == [
        ("2026-11-02", "equipment_maintenance", 1),
        ("2026-11-09", "equipment_maintenance", 1),
    ]
    # The period's days are Shanghai days too: 2 Nov 00:00 to 3 Nov 00:00 (UTC+8).
    monday = ReportFilters(start=sh(2, 0).astimezone(UTC), end=sh(3, 0).astimezone(UTC))
    assert rows(reports.run_report(admin, "created_per_week", monday)) == [
        ("2026-11-02", "equipment_maintenance", 1)
    ]


def test_satisfaction_over_a_period_counts_the_surveys_of_its_tickets(world: World) -> None:
    """Over a period of creation, the surveys counted are those of the tickets created
    in it, whenever they were requested: A and B (created Monday) were surveyed when
    closed on Tuesday, so from Tuesday on they are not counted; E, created on Wednesday
    and rated 4, is (the statements join only the surveys requested since the start)."""
    world.at(4, 9)
    extra = world._incident("E", "service_desk", "software")
    world._resolve(extra)
    world.tickets.take_transition(world.requester, extra, "close")
    world._deliver_surveys(world.tickets.db)
    world.tickets.answer_survey(world.requester, extra, 4)
    monday, tuesday, wednesday = (sh(day, 0).astimezone(UTC) for day in (2, 3, 4))
    assert rows(world.run(world.admin, "csat_by_team", start=monday)) == [("service_desk", 3.67)]
    assert rows(world.run(world.admin, "csat_distribution", start=monday)) == [
        (2, 1),
        (4, 1),
        (5, 1),
    ]
    for start in (tuesday, wednesday):
        assert rows(world.run(world.admin, "csat_by_team", start=start)) == [("service_desk", 4.0)]
        assert rows(world.run(world.admin, "csat_distribution", start=start)) == [(4, 1)]
        assert rows(world.run(world.admin, "csat_response_by_team", start=start)) == [
            ("service_desk", 100.0)
        ]
        assert rows(world.run(world.admin, "csat_lowest_rated", start=start)) == [(extra, "E", 4)]
    # Before Wednesday, only A and B: their surveys were requested after the period.
    assert rows(world.run(world.admin, "csat_by_team", start=monday, end=tuesday)) == [
        ("service_desk", 3.5)
    ]
