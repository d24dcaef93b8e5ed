"""The report columns and indexes (migration 0017): the SLA engine keeps the columns
exact in every write (the figures of tests/engine/reads/test_reports.py are read from
them), the migration fills them from stored clocks exactly as the engine does, and on
PostgreSQL each report index is the one its reports' statements use (EXPLAIN)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql

import gongdan.engine.reads.reports as reports_module
from gongdan.bundle.compiled import Bundle
from gongdan.engine.reads.reports import ReportFilters
from gongdan.engine.store.database import MIGRATIONS, Database
from tests.engine.reads.test_reports import World, sh

REPORT_COLUMNS = (
    "sla_policy",
    "first_response_seconds",
    "resolution_seconds",
    "first_response_in_time",
    "resolution_in_time",
)


def _columns(db: Database) -> list[tuple[Any, ...]]:
    names = ", ".join(("key", *REPORT_COLUMNS))
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT {names} FROM tickets ORDER BY id"))  # noqa: S608
        return [tuple(bool(v) if isinstance(v, int) and i > 3 else v for i, v in enumerate(r))
                for r in rows]  # fmt: skip


def test_the_sla_engine_keeps_the_report_columns(db: Database, example_bundle: Bundle) -> None:
    world = World(db, example_bundle)
    keys = world.keys
    # A: 1h to respond, 3h to resolve; B: 0.5h and 5.5h; C: breached, open; D: 2h, open.
    assert _columns(db) == [
        (keys["A"], "it_standard", 3600, 10800, True, True),
        (keys["B"], "it_standard", 1800, 19800, True, True),
        (keys["C"], "it_standard", 16200, None, False, None),
        (keys["D"], "it_standard", 7200, None, True, None),
    ]


def test_the_migration_fills_the_columns_as_the_engine_does(
    db: Database, example_bundle: Bundle
) -> None:
    World(db, example_bundle)
    kept = _columns(db)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
    db.upgrade()
    assert _columns(db) == kept


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The statements `ReportService` runs, as it builds them."""
    seen: list[Any] = []
    build = reports_module.report_statement

    def spy(*args: Any, **kwargs: Any) -> Any:
        statement = build(*args, **kwargs)
        seen.append(statement)
        return statement

    monkeypatch.setattr(reports_module, "report_statement", spy)
    yield seen


# Report → how its statement must read (a pattern of its plan), over a period of 30
# days: an index alone (counts, durations, attainment, satisfaction), or along an index
# until the limit (lists).
# The backlog (open tickets) may also be read along an index of open tickets (migration
# 0018's, made for queues; the one by creation carries the report columns since 0021):
# either way an index, not the table.
BACKLOG = (
    r"Index Only Scan using ix_tickets_(report|open)_created"
    r"|Index (Only )?Scan using ix_tickets_open_by_\w+"
)
# Satisfaction over a period: the surveys by ticket, or those requested since its start.
SURVEYS = r"Index Only Scan using ix_surveys_report_(ticket|requested)"
SERVED = {
    "created_per_week": "Index Only Scan using ix_tickets_report_created",
    "backlog_by_team": BACKLOG,
    "backlog_by_priority": BACKLOG,
    "first_response_median": "Index Only Scan using ix_tickets_report_created",
    "resolution_p90": "Index Only Scan using ix_tickets_report_created",
    "sla_first_response": "Index Only Scan using ix_tickets_report_created",
    "sla_resolution": "Index Only Scan using ix_tickets_report_created",
    "workload_resolved": "Index Only Scan using ix_tickets_report_created",
    "resolved_per_week": "Index Only Scan using ix_tickets_report_resolved",
    "csat_by_team": SURVEYS,
    "csat_distribution": SURVEYS,
    # Lists: along an index in the list's order, no sort, stopping at the limit.
    "sla_breached_resolution": r"Limit.*\n\s+->  Index Scan Backward using ix_tickets_(report_)?created",
    "csat_lowest_rated": r"Limit.*\n(.*\n)*\s+->  Index Scan using ix_surveys_report_lowest",
}


LISTS = ("sla_breached_resolution", "csat_lowest_rated")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("report_id", "reads"), SERVED.items())
def test_each_report_index_serves_its_reports(
    db: Database,
    example_bundle: Bundle,
    statements: list[Any],
    report_id: str,
    reads: str,
) -> None:
    world = World(db, example_bundle)
    end = sh(4, 0).astimezone(UTC)
    filters = ReportFilters(start=end - timedelta(days=30), end=end)
    world.reports.run_report(world.agent, report_id, filters)
    (statement,) = statements
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Statistics and a visibility map, as a live database has them: without them the
        # planner's guesses for a few rows pick among indexes at random.
        connection.execute(sa.text("VACUUM ANALYZE tickets"))
        connection.execute(sa.text("VACUUM ANALYZE surveys"))
    with db.engine.begin() as connection:
        # Four tickets: the planner would read the table whole; forbid what an index beats.
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        connection.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        connection.execute(sa.text("SET LOCAL enable_hashjoin = off"))
        connection.execute(sa.text("SET LOCAL enable_mergejoin = off"))
        if report_id in LISTS:  # a list is read in its order: no sort at all
            connection.execute(sa.text("SET LOCAL enable_sort = off"))
        plan = "\n".join(connection.execute(sa.text(f"EXPLAIN {sql}")).scalars())
    assert re.search(reads, plan), plan
    if report_id in LISTS:
        assert "Sort" not in plan, plan
