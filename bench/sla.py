"""Benchmark: SLA deadline arithmetic, and the scheduler's due-scan over 1M open tickets.

Prints its figures (a benchmark, not a test):

1. `business_deadline` computations per second on the example's `cn_business`
   calendar (2026 holidays and make-up workdays) and on a New York calendar, from
   random starts across 2026, for a 4h and a 3d target. Target: >= 100,000/s.
2. The due-scan on PostgreSQL over 1,000,000 open tickets whose SLA wake-ups are spread
   over a year: the exact query `gongdan.engine.automation.sla.scan_due` runs (index range scan,
   `FOR UPDATE SKIP LOCKED`, a batch), p50/p95 over 50 runs. Target: <= 20 ms.

Usage: python bench/sla.py [--rows N] [--skip-scan] [--keep]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import timeit
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from gongdan.bundle.loader import load_bundle
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket
from gongdan.rules.business_time import business_deadline
from gongdan.rules.calendar import compile_calendar
from gongdan.rules.durations import parse_duration

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "gongdan_bench_sla"


def bench_deadlines() -> None:
    bundle = load_bundle("config")
    new_york, _ = compile_calendar(
        "ny",
        {
            "timezone": "America/New_York",
            "hours": {"mon-fri": ["09:00-17:00"]},
            "public_holidays": {"country": "US"},
        },
    )
    assert new_york is not None
    rnd = random.Random(7)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [year + timedelta(seconds=rnd.randrange(365 * 86400)) for _ in range(100_000)]
    print("deadline computations (100,000 random starts in 2026, best of 5)")
    print(f"  {'calendar':<14}{'target':>8}{'per second':>14}   target >= 100,000/s")
    for calendar in (bundle.calendars["cn_business"], new_york):
        for text in ("4h", "3d"):
            duration = parse_duration(text)
            business_deadline(calendar, starts[0], duration)  # build the timeline once

            def run(calendar=calendar, duration=duration) -> None:  # type: ignore[no-untyped-def]
                for start in starts:
                    business_deadline(calendar, start, duration)

            best = min(timeit.repeat(run, number=1, repeat=5))
            rate = len(starts) / best
            verdict = "ok" if rate >= 100_000 else "MISSED"
            print(f"  {calendar.id:<14}{text:>8}{rate:>14,.0f}   {verdict}")


def _fill(db: Database, rows: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (email, name, role, language, attributes, away, active, "
                "created_at) VALUES ('r@example.com', 'r', 'requester', 'en', '{}', false, true, "
                "now())"
            )
        )
        started = time.perf_counter()
        connection.execute(
            sa.text("""
            INSERT INTO tickets (key, ticket_type, number, state, state_category, priority,
                title, description, requester_id, tags, data, config_version, version,
                created_at, updated_at, state_since, sla_wakeup_at, resolution_due)
            SELECT 'INC-' || g, 'it_incident', g, 'in_progress', 'open', 'normal',
                'Ticket ' || g, '', 1, '[]', '{}', 'bench', 1,
                now() - g * interval '30 seconds', now(), now(),
                -- wake-ups spread over a year; about 1 in 10 paused (no wake-up)
                CASE WHEN g % 10 = 0 THEN NULL
                     ELSE now() + ((g * 7919) % 525600 - 600) * interval '1 minute' END,
                now() + ((g * 7919) % 525600) * interval '1 minute'
            FROM generate_series(1::bigint, :rows) AS g
        """),
            {"rows": rows},
        )
        print(f"  loaded {rows:,} open tickets in {time.perf_counter() - started:.1f} s")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE tickets"))


def bench_scan(rows: int, keep: bool) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {BENCH_DB}"))
    url = sa.make_url(ADMIN_URL).set(database=BENCH_DB).render_as_string(hide_password=False)
    db = Database(url)
    try:
        db.upgrade()
        print(f"due-scan over {rows:,} open tickets on PostgreSQL")
        _fill(db, rows)
        now = datetime.now(UTC)
        statement = (
            sa.select(Ticket)
            .where(Ticket.sla_wakeup_at.is_not(None), Ticket.sla_wakeup_at <= now)
            .order_by(Ticket.sla_wakeup_at)
            .with_for_update(skip_locked=True)
        )
        with db.engine.connect() as connection:
            due = connection.execute(
                sa.text("SELECT count(*) FROM tickets WHERE sla_wakeup_at <= :now"), {"now": now}
            ).scalar_one()
            print(f"  tickets due now: {due:,}")
            plan = (
                connection.execute(
                    sa.text(
                        "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM tickets WHERE sla_wakeup_at IS NOT "
                        "NULL AND sla_wakeup_at <= :now ORDER BY sla_wakeup_at LIMIT 100 "
                        "FOR UPDATE SKIP LOCKED"
                    ),
                    {"now": now},
                )
                .scalars()
                .all()
            )
        print("  plan:")
        for line in plan:
            print(f"    {line}")
        for batch in (100, 500):
            timings = []
            for run in range(60):
                with db.sessions() as session, session.begin():
                    started = time.perf_counter()
                    found = list(session.scalars(statement.limit(batch)))
                    elapsed = (time.perf_counter() - started) * 1000
                    session.rollback()
                if run >= 10:
                    timings.append(elapsed)
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            verdict = "ok" if p95 <= 20 else "MISSED"
            print(
                f"  batch of {batch:>3} (ORM rows locked, {len(found)} found): "
                f"p50 {statistics.median(timings):6.2f} ms  p95 {p95:6.2f} ms  "
                f"target <= 20 ms  {verdict}"
            )
    finally:
        db.dispose()
        if not keep:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    bench_deadlines()
    if not args.skip_scan:
        bench_scan(args.rows, args.keep)


if __name__ == "__main__":
    main()
