"""Benchmark: the reports dashboard (`config/reports/`) at `--rows` tickets on PostgreSQL.

The tickets are bulk-loaded with COPY by `bench/engine.py`'s loader (five ticket types,
states spread by age, teams and assignees from `config/teams/`). Then, as the SLA
engine and the survey delivery would have written them: every ticket gets SLA clocks
(`tickets.sla`: first response met after a spread of business seconds, some breached;
resolution met for resolved and closed tickets), and a third of the closed tickets an
answered survey; the columns reports read of the clocks are filled from them exactly as
migration 0017 fills them (what the SLA engine keeps in every write). Then
`VACUUM (ANALYZE)`. `--reuse` measures a database a previous `--keep` run left, without
loading it again (loading 1,000,000 tickets takes minutes).

Timed, `--runs` times after `--warmup` untimed calls each, for an agent of the service
desk (scoped to their teams) and for an admin, over the last 30 days and over all time:
each report alone (`ReportService.run_report`), and the whole dashboard in one read
(`run_dashboard`). Printed: median and p95 in ms, next to the issue's targets (one
report p95 ≤ 200 ms, the dashboard ≤ 1 s). Nothing asserts; the figures depend on the
machine (the load average is printed). The bench database is named `--database` (must
start with `gongdan_bench`) and dropped at the end unless `--keep`.

`--explain` (with `--reuse`) times nothing: it runs each report's statement once under
`EXPLAIN (ANALYZE, BUFFERS)` for the same people and periods and prints the database's
own execution time and the buffers it touched, worst first (figures that depend far
less on the machine's load than wall-clock times); `--plans` also prints each plan.
`--no-all-time` leaves out the all-time views (the dashboard's default is 30 days).

    .venv/bin/python bench/reports.py [--rows N] [--runs N] [--warmup N] [--keep] [--reuse]
                                      [--explain [--plans]] [--no-all-time]
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench

from gongdan.engine.accounts.users import actor_for
from gongdan.engine.reads.reports import ReportFilters, ReportService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor

REPORT_TARGET_MS = 200.0
DASHBOARD_TARGET_MS = 1000.0
ALL_TIME = True  # whether the all-time views are measured too (`--no-all-time`)
# Clocks as `rules.sla_clock.TicketSLA.to_json` writes them; budgets of a normal ticket.
CLOCKS = """
UPDATE tickets SET sla = jsonb_build_object(
  'policy', CASE ticket_type WHEN 'equipment_maintenance' THEN 'maintenance_24x7'
                             WHEN 'after_sales' THEN 'after_sales_standard'
                             WHEN 'complaint' THEN 'complaint_standard'
                             ELSE 'it_standard' END,
  'calendar', 'cn_business',
  'fired', '[]'::jsonb,
  'clocks', jsonb_build_object(
    'first_response', jsonb_build_object(
      'budget', 14400, 'consumed', (id * 7919) % 21600, 'active', true,
      'met_at', to_jsonb(created_at + ((id * 7919) % 21600) * interval '1 second'),
      'breached_at', CASE WHEN (id * 7919) % 21600 > 14400
        THEN to_jsonb(created_at + interval '4 hours') ELSE 'null'::jsonb END),
    'resolution', jsonb_build_object(
      'budget', 81000, 'active', true,
      'consumed', CASE WHEN resolved_at IS NOT NULL THEN (id * 104729) % 108000 ELSE 0 END,
      'met_at', CASE WHEN resolved_at IS NOT NULL THEN to_jsonb(resolved_at) ELSE 'null'::jsonb END,
      'breached_at', CASE WHEN resolved_at IS NOT NULL AND (id * 104729) % 108000 > 81000
        THEN to_jsonb(resolved_at) ELSE 'null'::jsonb END)))
"""
SURVEYS = """
INSERT INTO surveys (ticket_id, requester_id, kind, rating, requested_at, answered_at)
SELECT id, requester_id, 'csat', 1 + (id * 31) % 5, closed_at, closed_at + interval '1 hour'
FROM tickets WHERE closed_at IS NOT NULL AND id % 3 = 0
"""


def fill_report_columns(conn: psycopg.Connection[Any]) -> None:
    """The report columns from the clocks, with migration 0017's own statement."""
    versions = Path(__file__).resolve().parent.parent / "platform/engine/store/migrations"
    path = next((versions / "versions").glob("*_report_columns.py"))
    spec = importlib.util.spec_from_file_location("report_columns_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    statements: list[str] = []
    migration.op = type("Op", (), {"execute": staticmethod(statements.append)})
    migration._fill_postgresql()
    for statement in statements:
        conn.execute(statement.encode())


def timed(call: Callable[[], Any], runs: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def actor(db: Database, email: str) -> Actor:
    with db.reading() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return actor_for(session, user)


def report(what: str, median: float, p95: float, target: float) -> None:
    verdict = "  ok" if p95 <= target else "  MISSED"
    print(f"  {what:<44} median {median:7.1f} ms   p95 {p95:7.1f} ms{verdict}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    reuse = "--reuse" in argv
    explain, plans = "--explain" in argv, "--plans" in argv
    global ALL_TIME
    ALL_TIME = "--no-all-time" not in argv
    argv = [a for a in argv if a not in ("--explain", "--plans", "--no-all-time")]
    if reuse:
        argv = [a for a in argv if a != "--reuse"] + ["--keep"]
        args = engine_bench.list_options(__doc__ or "", argv, rows=100_000, runs=10, warmup=2,
                                         database="gongdan_bench_reports")  # fmt: skip
        bundle = engine_bench.load_bundle(engine_bench.CONFIG_DIR)
        url = engine_bench.database_url(args.postgres_url, args.database)
        print(f"{engine_bench.os.cpu_count()} CPUs, load average at start: {engine_bench.load()}")
        print(f"reusing {args.database}")
    else:
        args, bundle, url = engine_bench.loaded_list_database(
            __doc__ or "",
            argv,
            rows=100_000,
            runs=10,
            warmup=2,
            database="gongdan_bench_reports",
        )
    try:
        if not reuse:
            with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
                clocks = conn.execute(CLOCKS).rowcount
                surveys = conn.execute(SURVEYS).rowcount
                fill_report_columns(conn)
                conn.execute("VACUUM (ANALYZE) tickets")
                conn.execute("VACUUM (ANALYZE) surveys")
            print(f"  SLA clocks on {clocks:,} tickets, {surveys:,} answered surveys")
        if explain:
            explain_reports(bundle, url, plans)
        else:
            measure(args, bundle, url)
    finally:
        if not args.keep:
            engine_bench.drop_database(args.postgres_url, args.database)
    return 0


def _people_and_periods(
    db: Database, bundle: Any
) -> tuple[dict[str, Actor], dict[str, ReportFilters]]:
    desk_email = bundle.teams["service_desk"].members[0].user
    people = {"agent (service desk)": actor(db, desk_email)}
    people["admin"] = actor(db, "bench.admin@example.com")
    now = datetime.now(UTC)
    periods = {"last 30 days": ReportFilters(start=now - timedelta(days=30), end=now)}
    if ALL_TIME:
        periods["all time"] = ReportFilters()
    return people, periods


def explain_reports(bundle: Any, url: str, plans: bool) -> None:
    """Each report's statement under EXPLAIN (ANALYZE, BUFFERS), worst first (see the
    module doc): the statement is explained as the report runs it, with its
    parameters, by a cursor hook that explains before executing."""
    db = Database(url)
    reports = ReportService(db, bundle)
    seen: list[dict[str, Any]] = []

    def explain_first(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if (
            statement.lstrip().upper().startswith(("SELECT", "WITH"))
            and "FROM tickets" in statement
        ):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            seen.append(cursor.fetchone()[0][0])

    event.listen(db.engine, "before_cursor_execute", explain_first)
    people, periods = _people_and_periods(db, bundle)
    for who, person in people.items():
        for period, filters in periods.items():
            found: list[tuple[float, str, int, dict[str, Any]]] = []
            for report_id in bundle.reports:
                seen.clear()
                reports.run_report(person, report_id, filters)
                plan = seen[-1]
                top = plan["Plan"]
                buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                found.append((plan["Execution Time"], report_id, buffers, plan))
            found.sort(reverse=True)
            total = sum(ms for ms, *_ in found)
            print(f"{who}, {period}: execution {total:.0f} ms in all (load {engine_bench.load()})")
            for ms, report_id, buffers, plan in found:
                print(f"  {report_id:<30} {ms:9.1f} ms  {buffers:8,} buffers")
                if plans:
                    print(json.dumps(plan["Plan"], indent=1)[:4000])
    event.remove(db.engine, "before_cursor_execute", explain_first)
    db.dispose()


def measure(args: Any, bundle: Any, url: str) -> None:
    """Time each report and the whole dashboard (see the module doc)."""
    db = Database(url)
    reports = ReportService(db, bundle)
    people, periods = _people_and_periods(db, bundle)
    for who, person in people.items():
        for period, filters in periods.items():
            print(f"{who}, {period}:")
            for report_id in bundle.reports:
                rows = len(reports.run_report(person, report_id, filters).rows)
                median, p95 = timed(
                    lambda r=report_id, p=person, f=filters: reports.run_report(p, r, f),
                    args.runs,
                    args.warmup,
                )
                report(f"{report_id} ({rows} rows)", median, p95, REPORT_TARGET_MS)
            median, p95 = timed(
                lambda p=person, f=filters: reports.run_dashboard(p, f), args.runs, args.warmup
            )
            report(
                f"whole dashboard ({len(bundle.reports)} reports)",
                median,
                p95,
                DASHBOARD_TARGET_MS,
            )
            print(f"  load average: {engine_bench.load()}")
    db.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
