"""Benchmark: the ticket engine on real databases, writes and reads.

Two measurements, each printed next to its target (issue 3):

1. Creates. Tickets created per second through `TicketService.create_ticket` with the
   example bundle (`config/`), one process, one thread, on SQLite (a fresh file in a
   temporary directory) and on PostgreSQL (a fresh database created and dropped for
   each run). Each run migrates, adds users and syncs teams, makes `--warmup` creates
   that are not counted, then `--creates` timed ones: a mix of `it_incident` tickets
   (software, network and access ones, and hardware ones with a device serial), with
   every impact (so the priority rules fire), mostly by requesters for themselves and
   one in five by an agent on behalf of a requester. Printed per run and as the median
   of `--runs` runs: creates/s, p50/p95/max latency of one create, SQL statements and
   time inside the driver per create, and the client's CPU time per create.
   `--threads N…` adds runs from N threads of the one process. Target: >= 500
   creates/s on PostgreSQL. When it is missed (or with `--profile`) a diagnosis
   follows: the server's floor for a one-row write transaction, what-if runs (no WAL
   flush wait at commit; server-side prepared statements), the round trips of one
   create, and a cProfile of the creates with own time summed by part (SQLAlchemy,
   psycopg, …).

2. Lists. A filtered first page over `--rows` (1,000,000) tickets on PostgreSQL. The
   rows are bulk-loaded straight into `tickets` with COPY (not through the service):
   five ticket types with realistic custom `data` (category, impact, serials, order
   numbers, production lines, downtime…), states spread over each workflow by age
   (recent tickets open, old ones closed), priorities, tags, teams and assignees from
   `config/teams/`, requesters drawn (skewed) from a few thousand users loaded
   alongside, `created_at` spread over a year in insertion order. Secondary indexes
   are dropped during the load and rebuilt from their own definitions, then
   `VACUUM (ANALYZE)`. `TicketService.list_tickets` is timed for a main query (admin;
   state in_progress, category = hardware, newest first, 50 per page) and variants
   (an agent scoped to their teams, a requester's own tickets, priority sort, a
   custom-field range, text search broad and rare): `--list-runs` runs each after
   `--list-warmup`, p50/p95/max in ms. `EXPLAIN (ANALYZE, BUFFERS)` is printed for the
   main query and every variant over half the target, both the plan the service really
   runs in steady state (psycopg prepares statements server-side from their 5th
   execution, and PostgreSQL may then switch to a generic plan) and the custom plan
   for the values. When a variant
   misses (or with `--what-if`), the variants are timed again without server-side
   prepared statements, then with candidate indexes (created in the bench database,
   printed, dropped again). Target: p95 <= 50 ms. Last, `--scale-creates` creates go
   through the service on this loaded database (the create benchmark above starts
   from empty tables), with the statements that cost most, then again with a partial
   index on open tickets per assignee (what routing counts). If the service cannot run
   a query at all on PostgreSQL, the error is printed and that variant is skipped.

Nothing here asserts: it prints figures and exits 0. Figures depend on the machine and
on what else runs on it: the load average is printed at start and after each part.
PostgreSQL is reached through `--postgres-url` (default `GONGDAN_BENCH_POSTGRES_URL`,
else the test server's `postgresql+psycopg://postgres@127.0.0.1:5432/test`); the bench
creates its own databases, named after `--database` (which must start with
`gongdan_bench`), and drops them at the end unless `--keep` (it never touches others).

    .venv/bin/python bench/engine.py [--creates N] [--warmup N] [--runs N]
        [--threads N ...] [--rows N] [--list-runs N] [--list-warmup N]
        [--scale-creates N] [--skip-creates] [--skip-list] [--skip-sqlite] [--profile]
        [--what-if] [--keep] [--seed N] [--database NAME] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from psycopg import sql as psql
from sqlalchemy import event, make_url, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.users import actor_for, add_user, record_config_version, sync_teams
from gongdan.engine.reads.queries import FieldFilter, TicketQuery
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.counters import recount
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.engine.unit_of_work import begin_write
from gongdan.errors import Conflict
from gongdan.rules.workflow import Actor

CREATE_TARGET_PER_S = 500.0
LIST_TARGET_P95_MS = 50.0

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
DEFAULT_PG_URL = os.environ.get(
    "GONGDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
N_CREATE_REQUESTERS = 50
N_LIST_REQUESTERS = 3_000
RARE_CODE = 0x1A2B
RARE_TERM = f"0x{RARE_CODE:04X}"
COPY_CHUNK = 50_000

# --------------------------------------------------------------------------------------
# Small helpers


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (0-100) of `values`, linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database `name` (dropped first if a previous bench left it)."""
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class CursorTimer:
    """Times every `cursor.execute` on one engine; subclasses say what they keep."""

    _started: list[float] = field(default_factory=list)

    def attach(self, engine: sqlalchemy.Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def detach(self, engine: sqlalchemy.Engine) -> None:
        event.remove(engine, "before_cursor_execute", self._before)
        event.remove(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.record(statement, parameters, time.perf_counter() - self._started.pop())

    def record(self, statement: str, parameters: Any, elapsed: float) -> None:
        raise NotImplementedError


@dataclass
class SqlMeter(CursorTimer):
    """Counts statements and the time spent inside `cursor.execute` on one engine."""

    statements: int = 0
    seconds: float = 0.0

    def record(self, statement: str, parameters: Any, elapsed: float) -> None:
        self.seconds += elapsed
        self.statements += 1


def staff_by_team(bundle: Bundle) -> dict[str, list[str]]:
    """Member emails per team of the bundle."""
    return {team.id: [m.user for m in team.members] for team in bundle.teams.values()}


def setup_people(
    db: Database, bundle: Bundle, requesters: int, now: datetime
) -> tuple[Actor, list[Actor], list[Actor]]:
    """Admin, every team member of the bundle as an agent, `requesters` requesters;
    teams synced from the bundle. Returns (admin, agents, requesters) as actors."""
    emails = sorted({e for members in staff_by_team(bundle).values() for e in members})
    with begin_write(db, bundle, Actor.system(), now) as ctx:
        session = ctx.session
        admin = add_user(ctx, "bench.admin@example.com", role="admin")
        staff = [add_user(ctx, e, role="agent") for e in emails]
        people = [
            add_user(ctx, f"requester{i}@customer.example.com", role="requester")
            for i in range(requesters)
        ]
        sync_teams(ctx)
        record_config_version(ctx)
        session.flush()
        return (
            actor_for(session, admin),
            [actor_for(session, u) for u in staff],
            [actor_for(session, u) for u in people],
        )


# --------------------------------------------------------------------------------------
# 1. Creates

SOFTWARE_TITLES = (
    "Outlook keeps crashing",
    "ERP shows error when posting invoices",
    "Excel freezes on large workbooks",
    "Teams meeting audio drops",
    "Cannot install the VPN client",
    "Browser warns about the intranet certificate",
)
HARDWARE_TITLES = (
    "Laptop will not boot",
    "Printer on the third floor keeps jamming",
    "Docking station does not detect monitors",
    "Battery drains within an hour",
    "Monitor flickers",
)
NETWORK_TITLES = ("Wi-Fi drops in meeting room", "VPN disconnects every few minutes")
ACCESS_TITLES = ("Locked out of my account", "Cannot open the shared mailbox")


@dataclass(frozen=True)
class CreateCall:
    actor: Actor
    values: dict[str, Any]


def create_workload(
    n: int, rnd: random.Random, requesters: Sequence[Actor], agents: Sequence[Actor]
) -> list[CreateCall]:
    """`n` it_incident creates: ~40% software, 30% hardware (with serial), 15% network,
    15% access; impact me/team/company 75/20/5; one in five created by an agent for a
    requester."""
    calls = []
    for i in range(n):
        category = rnd.choices(("software", "hardware", "network", "access"), (40, 30, 15, 15))[0]
        titles = {
            "software": SOFTWARE_TITLES,
            "hardware": HARDWARE_TITLES,
            "network": NETWORK_TITLES,
            "access": ACCESS_TITLES,
        }[category]
        fields: dict[str, Any] = {
            "category": category,
            "impact": rnd.choices(("me", "team", "company"), (75, 20, 5))[0],
        }
        if category == "hardware":
            fields["device_serial"] = f"PC-{rnd.randint(2019, 2026)}-{rnd.randint(0, 9999):04d}"
        requester = requesters[i % len(requesters)]
        values: dict[str, Any] = {
            "title": rnd.choice(titles),
            "description": f"Reported at {8 + i % 10}:{i % 60:02d}. "
            + rnd.choice(DESCRIPTION_SENTENCES["it_incident"]),
            "fields": fields,
        }
        if rnd.random() < 0.2:
            values["requester"] = requester.email
            calls.append(CreateCall(rnd.choice(agents), values))
        else:
            calls.append(CreateCall(requester, values))
    return calls


@dataclass
class CreateRun:
    label: str
    creates: int
    seconds: float
    latencies_ms: list[float]
    statements: int
    sql_seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.creates / self.seconds

    def line(self) -> str:
        return (
            f"{self.label:<14} {self.per_second:8.0f} creates/s   "
            f"p50 {percentile(self.latencies_ms, 50):6.2f} ms   "
            f"p95 {percentile(self.latencies_ms, 95):6.2f} ms   "
            f"max {max(self.latencies_ms):7.2f} ms   "
            f"{self.statements / self.creates:4.1f} SQL/create   "
            f"{1000 * self.sql_seconds / self.creates:5.2f} ms in driver/create   "
            f"client CPU {1000 * self.cpu_seconds / self.creates:5.2f} ms/create"
        )


def run_creates(
    url: str,
    bundle: Bundle,
    label: str,
    creates: int,
    warmup: int,
    seed: int,
    *,
    profiler: cProfile.Profile | None = None,
    tweak: Callable[[Database], None] | None = None,
    trace: list[str] | None = None,
) -> CreateRun:
    """One run on a fresh database at `url`: migrate, add people, warm up, time.
    `tweak` changes the Database before use (diagnostics); `trace` receives what the
    first timed create sends to the database, in order."""
    db = Database(url)
    if tweak is not None:
        tweak(db)
    try:
        db.upgrade()
        now = datetime.now(UTC)
        _admin, agents, requesters = setup_people(db, bundle, N_CREATE_REQUESTERS, now)
        service = TicketService(db, bundle)
        rnd = random.Random(seed)
        for call in create_workload(warmup, rnd, requesters, agents):
            service.create_ticket(call.actor, "it_incident", **call.values)
        workload = create_workload(creates, rnd, requesters, agents)
        if trace is not None:
            with trace_sql(db.engine, trace):
                service.create_ticket(workload[0].actor, "it_incident", **workload[0].values)
            workload = workload[1:]
        meter = SqlMeter()
        meter.attach(db.engine)
        latencies = []
        clock = time.perf_counter
        if profiler is not None:
            profiler.enable()
        cpu = time.process_time()
        started = clock()
        for call in workload:
            t0 = clock()
            service.create_ticket(call.actor, "it_incident", **call.values)
            latencies.append((clock() - t0) * 1000)
        seconds = clock() - started
        cpu = time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        meter.detach(db.engine)
        return CreateRun(
            label, len(workload), seconds, latencies, meter.statements, meter.seconds, cpu
        )
    finally:
        db.dispose()


@contextmanager
def trace_sql(engine: sqlalchemy.Engine, out: list[str]) -> Iterator[None]:
    """Append to `out` every round trip SQLAlchemy makes on `engine` in the block."""
    pre_ping = getattr(engine.pool, "_pre_ping", False)

    def checkout(*_: Any) -> None:
        out.append(
            "pool checkout"
            + (": pre-ping (an empty statement ';' in autocommit)" if pre_ping else "")
        )

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        out.append(" ".join(sql.split())[:110])

    def begin(*_: Any) -> None:
        out.append("BEGIN (psycopg sends it before the first statement: its own round trip)")

    def commit(*_: Any) -> None:
        out.append("COMMIT")

    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (engine.pool, "checkout", checkout),
        (engine, "before_cursor_execute", statement),
        (engine, "begin", begin),
        (engine, "commit", commit),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def prepared_statements(db: Database) -> None:
    """The same engine settings as `Database`, but psycopg prepares every statement
    server-side from its 5th execution (its default; the project prepares only the
    statements marked `database.prepared`), with custom plans forced so that list
    queries keep being planned for their values (diagnostics)."""
    db.engine.dispose()
    db.engine = sqlalchemy.create_engine(
        db.url,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
        connect_args={"prepare_threshold": 5, "options": "-c plan_cache_mode=force_custom_plan"},
    )
    db.sessions = sessionmaker(db.engine, expire_on_commit=False)


def commit_floor(admin_url: str, name: str, n: int) -> list[str]:
    """The fastest single-threaded write transactions this server allows from Python:
    `n` times BEGIN; one-row INSERT; COMMIT with plain psycopg, durable and not."""
    url = create_database(admin_url, name)
    lines = []
    try:
        with psycopg.connect(conninfo(url)) as conn:
            conn.execute("CREATE TABLE floor (id bigserial PRIMARY KEY, body text)")
            conn.commit()
            for sync in ("on", "off"):
                conn.execute(f"SET synchronous_commit = {sync}")
                conn.commit()
                started = time.perf_counter()
                for i in range(n):
                    conn.execute("INSERT INTO floor (body) VALUES (%s)", (f"row {i}",))
                    conn.commit()
                seconds = time.perf_counter() - started
                lines.append(
                    f"BEGIN + 1-row INSERT + COMMIT, synchronous_commit={sync}: "
                    f"{n / seconds:6.0f} tx/s ({1000 * seconds / n:.2f} ms each)"
                )
    finally:
        drop_database(admin_url, name)
    return lines


def diagnose_creates(args: argparse.Namespace, bundle: Bundle) -> None:
    """Where the time of a PostgreSQL create goes: the server's floor for a write
    transaction, one traced create, what-if runs (WAL flush at commit, the pool's
    server-side prepared statements; interleaved, median of `--runs`), then cProfile."""
    name = f"{args.database}_diagnose"
    calls = min(args.creates, 1000)
    print(f"\n-- diagnosis: {calls} creates per what-if run, fresh database each")
    for line in commit_floor(args.postgres_url, name, calls):
        print(f"  floor: {line}")
    no_sync = [f'ALTER DATABASE "{name}" SET synchronous_commit = off']
    cases: list[tuple[str, list[str], Callable[[Database], None] | None]] = [
        ("as is", [], None),
        ("synchronous_commit=off (no WAL flush wait)", no_sync, None),
        ("prepared statements (custom plans)", [], prepared_statements),
        ("synchronous_commit=off + prepared", no_sync, prepared_statements),
    ]
    results: dict[str, list[CreateRun]] = {label: [] for label, _, _ in cases}
    trace: list[str] = []
    for run in range(args.runs):
        for label, statements, tweak in cases:
            url = create_database(args.postgres_url, name)
            try:
                with psycopg.connect(conninfo(args.postgres_url), autocommit=True) as conn:
                    for sql in statements:
                        conn.execute(sql)
                results[label].append(
                    run_creates(
                        url,
                        bundle,
                        label,
                        calls,
                        args.warmup,
                        args.seed + run,
                        tweak=tweak,
                        trace=trace if not trace else None,
                    )
                )
            finally:
                drop_database(args.postgres_url, name)
    for label, runs in results.items():
        middle = sorted(runs, key=lambda r: r.per_second)[len(runs) // 2]
        print(f"  {label:<44} {middle.line()[len(label) + 1 :].strip()}")
        print(f"  {'':<44} runs: {', '.join(f'{r.per_second:.0f}/s' for r in runs)}")
    print("\n  one create, round trip by round trip:")
    for line in trace:
        print(f"    {line}")
    profiler = cProfile.Profile()
    url = create_database(args.postgres_url, name)
    try:
        run_creates(url, bundle, "profile", calls, args.warmup, args.seed, profiler=profiler)
    finally:
        drop_database(args.postgres_url, name)
    print_profile(profiler, calls)


def run_creates_threaded(
    url: str, bundle: Bundle, creates: int, threads: int, warmup: int, seed: int
) -> tuple[float, list[float], int]:
    """Creates from `threads` threads of this process on one fresh database:
    (creates/s, latencies in ms, conflicts)."""
    db = Database(url)
    try:
        db.upgrade()
        _admin, agents, requesters = setup_people(db, bundle, N_CREATE_REQUESTERS, utc_now())
        service = TicketService(db, bundle)
        rnd = random.Random(seed)
        for call in create_workload(warmup, rnd, requesters, agents):
            service.create_ticket(call.actor, "it_incident", **call.values)
        workload = create_workload(creates, rnd, requesters, agents)
        shares = [workload[i::threads] for i in range(threads)]
        latencies: list[float] = []
        conflicts = 0
        lock = threading.Lock()
        barrier = threading.Barrier(threads + 1)

        def worker(calls: list[CreateCall]) -> None:
            nonlocal conflicts
            mine, failed = [], 0
            barrier.wait()
            for call in calls:
                t0 = time.perf_counter()
                try:
                    service.create_ticket(call.actor, "it_incident", **call.values)
                except Conflict:
                    failed += 1
                mine.append((time.perf_counter() - t0) * 1000)
            with lock:
                latencies.extend(mine)
                conflicts += failed

        pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
        for thread in pool:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in pool:
            thread.join()
        seconds = time.perf_counter() - started
        return (creates - conflicts) / seconds, latencies, conflicts
    finally:
        db.dispose()


def median_run(runs: Sequence[CreateRun]) -> str:
    rates = [r.per_second for r in runs]
    p50 = statistics.median(percentile(r.latencies_ms, 50) for r in runs)
    p95 = statistics.median(percentile(r.latencies_ms, 95) for r in runs)
    return (
        f"median of {len(runs)}: {statistics.median(rates):.0f} creates/s "
        f"(runs: {', '.join(f'{r:.0f}' for r in rates)}), "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )


def print_profile(profiler: cProfile.Profile, calls: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\ncProfile of {calls} PostgreSQL creates: {total:.2f} s profiled")
    by_part: dict[str, float] = {}
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        by_part[_part(filename, function)] = by_part.get(_part(filename, function), 0) + row[2]
    print("  own time by part (profiler overhead inflates Python parts):")
    for part, seconds in sorted(by_part.items(), key=lambda item: -item[1]):
        print(
            f"    {part:<42} {seconds:6.2f} s  {100 * seconds / total:5.1f}%  "
            f"{1000 * seconds / calls:6.2f} ms/create"
        )
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue())


def _part(filename: str, function: str) -> str:
    if "psycopg" in filename and function == "wait":
        return "psycopg wait (blocked on the server)"
    for package in ("psycopg", "sqlalchemy", "jsonschema", "re2", "alembic"):
        if f"/{package}/" in filename:
            return package
    if f"{os.sep}platform{os.sep}" in filename:
        return "gongdan (platform/)"
    if filename == "~":
        return "builtins (C functions)"
    return "stdlib / other Python"


def bench_creates(args: argparse.Namespace, bundle: Bundle) -> None:
    print(
        f"\n== 1. Creates through TicketService.create_ticket "
        f"({args.creates} timed after {args.warmup} warm-up, {args.runs} run(s), it_incident mix)"
    )
    if not args.skip_sqlite:
        sqlite_runs = []
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="gongdan-bench-") as tmp:
                result = run_creates(
                    f"sqlite:///{Path(tmp) / 'bench.db'}",
                    bundle,
                    f"SQLite #{run + 1}",
                    args.creates,
                    args.warmup,
                    args.seed + run,
                )
            print(result.line())
            sqlite_runs.append(result)
        print(f"SQLite      {median_run(sqlite_runs)}")
    pg_runs = []
    name = f"{args.database}_creates"
    for run in range(args.runs):
        url = create_database(args.postgres_url, name)
        try:
            result = run_creates(
                url,
                bundle,
                f"PostgreSQL #{run + 1}",
                args.creates,
                args.warmup,
                args.seed + run,
            )
        finally:
            if not (args.keep and run == args.runs - 1):
                drop_database(args.postgres_url, name)
        print(result.line())
        pg_runs.append(result)
    rate = statistics.median(r.per_second for r in pg_runs)
    print(f"PostgreSQL  {median_run(pg_runs)}")
    print(
        f"target: >= {CREATE_TARGET_PER_S:.0f} creates/s on PostgreSQL -> "
        f"{rate:.0f}/s {verdict(rate >= CREATE_TARGET_PER_S)}"
    )
    if args.keep:
        print(f"kept database {name} (the last PostgreSQL run)")
    for threads in args.threads:
        name_t = f"{args.database}_threads"
        url = create_database(args.postgres_url, name_t)
        try:
            per_s, latencies, conflicts = run_creates_threaded(
                url, bundle, args.creates, threads, args.warmup, args.seed
            )
        finally:
            drop_database(args.postgres_url, name_t)
        print(
            f"PostgreSQL, {threads} threads in one process: {per_s:.0f} creates/s   "
            f"p50 {percentile(latencies, 50):.2f} ms   p95 {percentile(latencies, 95):.2f} ms"
            f"   {conflicts} conflicts   (all one ticket type: numbering serialises them)"
        )
    if args.profile or rate < CREATE_TARGET_PER_S:
        diagnose_creates(args, bundle)


# --------------------------------------------------------------------------------------
# 2. Lists over a bulk-loaded table

TYPE_WEIGHTS = {
    "it_incident": 40,
    "complaint": 20,
    "after_sales": 15,
    "equipment_maintenance": 15,
    "access_request": 10,
}
# Share of each state category by age: recent tickets are still open, old ones closed.
RECENT_DAYS = 30
CATEGORY_WEIGHTS_RECENT = {"new": 15, "open": 35, "pending": 15, "resolved": 20, "closed": 15}
CATEGORY_WEIGHTS_OLD = {"new": 2, "open": 4, "pending": 4, "resolved": 10, "closed": 80}
PRIORITY_WEIGHTS = {"low": 15, "normal": 55, "high": 22, "urgent": 8}
TAGS = ("vip", "repeat", "outage", "onsite", "warranty", "escalated", "security")

DESCRIPTION_SENTENCES: dict[str, tuple[str, ...]] = {
    "it_incident": (
        "It started after this morning's update.",
        "I restarted twice and nothing changed.",
        "Colleagues next to me have the same problem.",
        "The error message says the service is unavailable.",
        "It worked fine yesterday afternoon.",
        "I need this for the month-end closing.",
        "The printer shows a paper jam although the tray is empty.",
        "The screen goes black for a few seconds every minute.",
        "I am working from home today over the VPN.",
        "Please call me on my mobile, the desk phone is broken.",
        "Screenshots attached; the log file is too large to upload.",
        "This blocks the whole shift from scanning orders.",
    ),
    "complaint": (
        "The customer called three times already.",
        "The parcel arrived two weeks late and damaged.",
        "The store staff refused to accept the return.",
        "The invoice shows the same order charged twice.",
        "The customer asks for compensation and an apology.",
        "The customer threatens to post on social media.",
        "The hotline queue was over forty minutes.",
        "The replacement unit has the same defect.",
    ),
    "after_sales": (
        "The device does not charge any more.",
        "The screen has dead pixels in the corner.",
        "The box was crushed on arrival.",
        "Wrong colour delivered.",
        "The battery is swelling and the case no longer closes.",
        "Bluetooth pairing fails after the latest firmware.",
        "The customer wants a refund rather than a repair.",
    ),
    "equipment_maintenance": (
        "The line stopped at the start of the night shift.",
        "Strange noise from the motor bearing.",
        "Feeder misfeeds every few hundred components.",
        "Air pressure drops below six bar intermittently.",
        "The conveyor belt is slipping under load.",
        "The control board shows a fault code after power cycling.",
        "Operators bypassed the sensor to keep running.",
        "Spare parts have been ordered from the supplier.",
    ),
    "access_request": (
        "I joined the finance team this month.",
        "Needed for the quarterly audit.",
        "Temporary access while my colleague is on leave.",
        "My manager approved this by email.",
        "Required for the new supplier onboarding project.",
    ),
}
TITLES: dict[str, tuple[str, ...]] = {
    "it_incident": (),  # by category, see below
    "complaint": (
        "Late delivery of order",
        "Rude staff at the store",
        "Charged twice for one order",
        "Product stopped working after a week",
        "No answer from the hotline",
        "Refund still not received",
    ),
    "after_sales": (
        "Return request",
        "Exchange request: wrong item",
        "Repair request: does not charge",
        "Refund request: changed my mind",
        "Swollen battery",
    ),
    "equipment_maintenance": (
        "Machine stopped with a fault code",
        "Conveyor belt slipping",
        "Feeder misfeeds",
        "Compressed air pressure low",
        "Reflow oven temperature alarm",
        "Packaging sealer jams",
    ),
    "access_request": (
        "Access to the ERP",
        "VPN access for remote work",
        "Shared mailbox access",
        "BI reports access",
        "Admin rights on the file share",
    ),
}
INCIDENT_TITLES = {
    "software": SOFTWARE_TITLES,
    "hardware": HARDWARE_TITLES,
    "network": (*NETWORK_TITLES, "Network printer offline", "No network on the second floor"),
    "access": (*ACCESS_TITLES, "MFA token lost", "Password reset for the ERP"),
}
TYPE_TEAMS = {
    "it_incident": "service_desk",
    "complaint": "customer_care",
    "after_sales": "after_sales",
    "equipment_maintenance": "maintenance_crew",
    "access_request": "access_admins",
}
TICKET_COLUMNS = (
    "key",
    "ticket_type",
    "number",
    "state",
    "state_category",
    "priority",
    "title",
    "description",
    "requester_id",
    "assignee_id",
    "team_id",
    "tags",
    "data",
    "config_version",
    "version",
    "merged_into_id",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
)


def pick(rnd: random.Random, weights: dict[str, int]) -> str:
    return rnd.choices(tuple(weights), tuple(weights.values()))[0]


def custom_data(
    rnd: random.Random, type_id: str, category: str, created: datetime, staff: dict[str, list[str]]
) -> tuple[dict[str, Any], str | None]:
    """Realistic custom field values of one ticket (valid for the example bundle), and
    a priority the type's rules would set (None: use the general spread)."""
    done = category in ("resolved", "closed")
    if type_id == "it_incident":
        kind = pick(rnd, {"software": 40, "hardware": 30, "network": 18, "access": 12})
        impact = pick(rnd, {"me": 75, "team": 20, "company": 5})
        data: dict[str, Any] = {"category": kind, "impact": impact}
        if kind == "hardware":
            data["device_serial"] = f"PC-{rnd.randint(2019, 2026)}-{rnd.randint(0, 99999):05d}"
        if done:
            data["resolution_code"] = pick(
                rnd,
                {
                    "fixed": 50,
                    "workaround": 15,
                    "replaced": 10,
                    "user_guidance": 15,
                    "no_fault_found": 7,
                    "duplicate": 3,
                },
            )
        priority = {"company": "urgent", "team": "high"}.get(impact)
        return data, priority
    if type_id == "complaint":
        channel = pick(rnd, {"phone": 40, "email": 20, "wechat": 20, "store": 10, "web": 10})
        data = {
            "channel": channel,
            "customer_name": rnd.choice(("Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "Garcia"))
            + " "
            + rnd.choice(("Wei", "Fang", "Min", "Yang", "Jing", "Anna", "Jose")),
            "complaint_category": pick(
                rnd,
                {
                    "product_quality": 30,
                    "delivery": 25,
                    "staff": 10,
                    "billing": 15,
                    "after_sales": 15,
                    "other": 5,
                },
            ),
            "severity": pick(rnd, {"minor": 70, "major": 25, "critical": 5}),
        }
        if channel in ("phone", "store"):
            data["customer_phone"] = (
                f"+86 138 {rnd.randint(0, 9999):04d} {rnd.randint(0, 9999):04d}"
            )
        if rnd.random() < 0.6:
            data["order_number"] = f"SO{rnd.randint(10**9, 10**10 - 1)}"
        if done:
            data["root_cause"] = rnd.choice(
                ("product_defect", "logistics", "staff_error", "policy", "misunderstanding")
            )
            if rnd.random() < 0.3:
                data["compensation_offered"] = f"{rnd.randint(10, 500)}.{rnd.choice((0, 50)):02d}"
        return data, {"critical": "urgent", "major": "high"}.get(data["severity"])
    if type_id == "after_sales":
        reason = pick(
            rnd,
            {
                "defective": 45,
                "damaged_in_transit": 10,
                "wrong_item": 8,
                "not_as_described": 10,
                "changed_mind": 20,
                "safety_hazard": 2,
                "other": 5,
            },
        )
        bought = (created - timedelta(days=rnd.randint(1, 700))).date()
        data = {
            "order_number": f"SO{rnd.randint(10**9, 10**10 - 1)}",
            "product": rnd.choice(
                ("smartphone", "tablet", "laptop", "earbuds", "smartwatch", "router", "accessory")
            ),
            "purchase_date": bought.isoformat(),
            "request_kind": pick(rnd, {"return": 40, "exchange": 25, "repair": 35}),
            "reason": reason,
            "under_warranty": (created.date() - bought) < timedelta(days=365),
        }
        if rnd.random() < 0.7:
            data["serial_number"] = f"SN{rnd.randint(10**9, 10**10 - 1)}"
        if reason in ("defective", "not_as_described", "safety_hazard", "other"):
            data["reason_details"] = rnd.choice(DESCRIPTION_SENTENCES["after_sales"])
        return data, "urgent" if reason == "safety_hazard" else None
    if type_id == "equipment_maintenance":
        line = pick(
            rnd,
            {
                "smt_1": 22,
                "smt_2": 22,
                "assembly_1": 18,
                "assembly_2": 18,
                "packaging": 12,
                "utilities": 8,
            },
        )
        stopped = rnd.random() < 0.3
        data = {
            "device_id": f"{line.split('_')[0].upper()[:5]}-{rnd.randint(1, 400):03d}",
            "production_line": line,
            "line_stopped": stopped,
            "safety_risk": rnd.random() < 0.05,
        }
        if rnd.random() < 0.6:
            data["fault_code"] = f"E{rnd.randint(0, 999):03d}"
        if category != "new" and rnd.random() < 0.4:
            data["spare_parts"] = sorted(
                rnd.sample(("bearing", "belt", "motor", "sensor", "nozzle", "feeder"), 2)
            )
        if done or rnd.random() < 0.3:
            # Minutes of downtime: mostly short, a long tail of multi-hour stops.
            data["downtime_minutes"] = int(min(rnd.lognormvariate(4.0, 1.1), 5000))
        return data, "urgent" if stopped or data["safety_risk"] else None
    system = rnd.choice(("erp", "crm", "vpn", "mail", "oa", "hr", "bi", "file_share"))
    level = pick(rnd, {"read": 55, "write": 35, "admin": 10})
    data = {
        "system": system,
        "access_level": level,
        "justification": rnd.choice(DESCRIPTION_SENTENCES["access_request"]),
        "approver": rnd.choice(staff["access_admins"]),
    }
    if level == "admin":
        data["end_date"] = (created.date() + timedelta(days=rnd.randint(7, 180))).isoformat()
    return data, None


@dataclass
class LoadPlan:
    """What the generated tickets refer to: users, teams, the bundle's workflows."""

    bundle: Bundle
    requester_ids: list[int]
    staff_ids: dict[str, list[int]]  # team -> member user ids
    staff_emails: dict[str, list[str]]
    now: datetime


def generate_tickets(plan: LoadPlan, rows: int, rnd: random.Random) -> Iterator[tuple[Any, ...]]:
    """`rows` ticket rows in `TICKET_COLUMNS` order, oldest first."""
    bundle = plan.bundle
    types = tuple(TYPE_WEIGHTS)
    states_by_category: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for type_id in types:
        workflow = bundle.workflows[bundle.ticket_types[type_id].workflow]
        by_cat: dict[str, list[tuple[str, str]]] = {}
        for state in workflow.states.values():
            by_cat.setdefault(state.category, []).append((state.id, state.category))
        states_by_category[type_id] = by_cat
    numbers = dict.fromkeys(types, 0)
    year = 365 * 86400
    offsets = sorted((rnd.random() * year for _ in range(rows)), reverse=True)
    n_requesters = len(plan.requester_ids)
    version = bundle.version
    for index, offset in enumerate(offsets):
        created = plan.now - timedelta(seconds=offset)
        type_id = rnd.choices(types, tuple(TYPE_WEIGHTS.values()))[0]
        by_cat = states_by_category[type_id]
        weights = CATEGORY_WEIGHTS_RECENT if offset < RECENT_DAYS * 86400 else CATEGORY_WEIGHTS_OLD
        categories = [c for c in weights if c in by_cat]
        category = rnd.choices(categories, [weights[c] for c in categories])[0]
        state_id, category = rnd.choice(by_cat[category])
        data, rule_priority = custom_data(rnd, type_id, category, created, plan.staff_emails)
        priority = rule_priority or pick(rnd, PRIORITY_WEIGHTS)
        numbers[type_id] += 1
        number = numbers[type_id]
        prefix = bundle.ticket_types[type_id].key_prefix
        team: str | None = TYPE_TEAMS[type_id]
        if type_id == "it_incident" and data["category"] == "hardware" and rnd.random() < 0.7:
            team = "field_service"
        if priority == "urgent" and rnd.random() < 0.3:
            team = "escalation"
        assignee = None
        if category == "new":
            team = team if rnd.random() < 0.4 else None
        elif team is not None:
            assignee = rnd.choice(plan.staff_ids[team])
        if type_id == "it_incident":
            title = rnd.choice(INCIDENT_TITLES[data["category"]])
        else:
            title = rnd.choice(TITLES[type_id])
        sentences = DESCRIPTION_SENTENCES[type_id]
        description = " ".join(rnd.sample(sentences, rnd.randint(1, 3)))
        if type_id == "it_incident" and rnd.random() < 0.2:
            # Rare tokens: each error code is in ~1 ticket of a million...
            code = rnd.randrange(65536)
            description += f" Error code 0x{code if code != RARE_CODE else code + 1:04X}."
        if index % 100_000 == 50_000:
            # ...except RARE_TERM, in exactly one ticket per 100,000, spread over the year.
            description += f" Error code {RARE_TERM}."
        age = min(offset, 20 * 86400)
        updated = created + timedelta(seconds=rnd.random() * age)
        resolved = updated if category in ("resolved", "closed") else None
        closed = updated if category == "closed" else None
        tags = rnd.sample(TAGS, rnd.choice((0, 0, 0, 0, 1, 1, 2)))
        # Skewed requesters: a few file many tickets, most file a handful.
        requester = plan.requester_ids[int(n_requesters * rnd.random() ** 2)]
        yield (
            f"{prefix}-{number}",
            type_id,
            number,
            state_id,
            category,
            priority,
            title,
            description,
            requester,
            assignee,
            team,
            json.dumps(tags),
            json.dumps(data, separators=(",", ":")),
            version,
            1 + rnd.randint(0, 6) * (category != "new"),
            None,
            created,
            updated,
            resolved,
            closed,
        )


def secondary_indexes(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `table` that no constraint owns."""
    rows = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = %s
          AND i.indexname NOT IN (SELECT conname FROM pg_constraint
                                  WHERE conrelid = %s::regclass)
        ORDER BY i.indexname
        """,
        (table, table),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def load_list_database(args: argparse.Namespace, bundle: Bundle) -> str:
    """Create, migrate and fill the list database; returns its URL."""
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()

    def lap(what: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings.append((what, now - started))
        started = now

    url = create_database(args.postgres_url, args.database)
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    setup_people(db, bundle, 0, now)
    db.dispose()
    lap("create + migrate + staff")
    rnd = random.Random(args.seed)
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        with conn.cursor() as cur:
            columns = "email, name, role, language, attributes, away, active, created_at"
            with cur.copy(f"COPY users ({columns}) FROM STDIN") as copy:
                for i in range(N_LIST_REQUESTERS):
                    tier = rnd.choice(("standard", "standard", "standard", "gold", "vip"))
                    copy.write_row(
                        (
                            f"customer{i}@customer.example.com",
                            f"Customer {i}",
                            "requester",
                            rnd.choice(("en", "zh-CN")),
                            json.dumps({"tier": tier}),
                            False,
                            True,
                            now - timedelta(days=400),
                        )
                    )
        users = conn.execute("SELECT id, email, role FROM users").fetchall()
        requester_ids = sorted(u[0] for u in users if u[2] == "requester")
        ids_by_email = {u[1]: u[0] for u in users}
        emails = staff_by_team(bundle)
        plan = LoadPlan(
            bundle,
            requester_ids,
            {team: [ids_by_email[e] for e in members] for team, members in emails.items()},
            emails,
            now,
        )
        conn.commit()
        lap(f"{N_LIST_REQUESTERS} requesters (COPY)")
        indexes = secondary_indexes(conn, "tickets")
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        try:  # skip per-row foreign key triggers while loading consistent rows
            conn.execute("SET session_replication_role = replica")
        except psycopg.Error:
            conn.rollback()
        with conn.cursor() as cur:
            copy_sql = f"COPY tickets ({', '.join(TICKET_COLUMNS)}) FROM STDIN"
            with cur.copy(copy_sql) as copy:
                for row in generate_tickets(plan, args.rows, rnd):
                    copy.write_row(row)
        conn.execute(
            """
            INSERT INTO ticket_counters (ticket_type, last_number)
            SELECT ticket_type, max(number) FROM tickets GROUP BY ticket_type
            """
        )
        conn.commit()
        lap(f"{args.rows:,} tickets (generate + COPY, no secondary indexes)")
        for name, definition in indexes:
            t0 = time.perf_counter()
            conn.execute(definition)
            conn.commit()
            print(f"  rebuilt {name}: {time.perf_counter() - t0:.1f} s")
        lap(f"rebuild {len(indexes)} secondary indexes")
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) users")
        conn.execute("VACUUM (ANALYZE) tickets")
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('tickets')), "
            "pg_size_pretty(pg_relation_size('tickets'))"
        ).fetchone()
    lap("VACUUM (ANALYZE)")
    db = Database(url)
    with db.transaction() as session:  # the COPY ran with triggers off
        recount(session)  # each agent's open tickets, as the triggers keep them
    db.dispose()
    for what, seconds in timings:
        print(f"  {what}: {seconds:.1f} s")
    if size is not None:
        print(f"  tickets: {size[1]} heap, {size[0]} with indexes and TOAST")
    return url


@dataclass(frozen=True)
class Variant:
    name: str
    actor: Actor
    query: TicketQuery


@contextmanager
def capture_sql(engine: sqlalchemy.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) of every SELECT on tickets run inside the block."""
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM tickets" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(db: Database, service: TicketService, variant: Variant) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the ticket query `list_tickets` runs for `variant`:
    the plan the service runs in steady state (psycopg prepares a statement on its 5th
    execution; PostgreSQL may then switch to a generic plan: shown as EXPLAIN EXECUTE
    after 10 executions of the prepared statement), and, when it differs, the custom
    plan for these parameter values (what the first executions get)."""
    with capture_sql(db.engine) as seen:
        service.list_tickets(variant.actor, variant.query)
    statement, parameters = seen[-1]
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", positional, statement).replace("%%", "%")
    with psycopg.connect(conninfo(db.url)) as conn:
        values = ", ".join(psql.Literal(parameters[n]).as_string(conn) for n in names)
        conn.execute(f"PREPARE bench_list AS {prepared}")
        for _ in range(10):
            conn.execute(f"EXECUTE bench_list({values})").fetchall()
        steady = [
            r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_list({values})")
        ]
        conn.rollback()
    with db.engine.connect() as sa_conn:
        custom = [
            r[0]
            for r in sa_conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        ]
    out = [f"SQL: {' '.join(statement.split())}", f"parameters: {parameters}", ""]
    generic = any("$" in line for line in steady)
    out.append(
        "plan the service runs (prepared statement, after 10 executions)"
        + (": GENERIC plan" if generic else ": custom plan")
    )
    out += ["  " + line for line in steady]
    if _shape(steady) != _shape(custom):
        out += ["", "custom plan for these values (the first 5 executions get this one)"]
        out += ["  " + line for line in custom]
    else:
        out += ["", "(the custom plan for these values has the same shape)"]
    return "\n".join(out)


def _shape(plan: Sequence[str]) -> list[str]:
    """The node lines of a plan without costs, timings and parameter symbols."""
    nodes = [line.split("(cost=")[0].strip() for line in plan if "(cost=" in line]
    return [re.sub(r"\$\d+", "?", node) for node in nodes]


def time_variant(
    service: TicketService, variant: Variant, runs: int, warmup: int
) -> tuple[list[float], int]:
    """Latencies (ms) of `runs` calls after `warmup` ones, and the page size."""
    page = None
    for _ in range(warmup):
        page = service.list_tickets(variant.actor, variant.query)
    latencies = []
    clock = time.perf_counter
    for _ in range(runs):
        t0 = clock()
        page = service.list_tickets(variant.actor, variant.query)
        latencies.append((clock() - t0) * 1000)
    return latencies, len(page.items) if page is not None else 0


def list_variants(db: Database) -> list[Variant]:
    with db.reading() as session:
        admin = session.scalar(select(User).where(User.email == "bench.admin@example.com"))
        agent = session.scalar(select(User).where(User.email == "li.wei@example.com"))
        # The busiest requester (requesters are drawn skewed towards the first ones).
        busiest = session.scalar(select(User).where(User.email == "customer0@customer.example.com"))
        # A typical one: ~1/(2·sqrt(2500·3000)) of the rows, ~180 tickets at 1M.
        typical = session.scalar(
            select(User).where(User.email == "customer2500@customer.example.com")
        )
        assert admin is not None and agent is not None
        assert busiest is not None and typical is not None
        admin_actor, agent_actor = actor_for(session, admin), actor_for(session, agent)
        busiest_actor, typical_actor = actor_for(session, busiest), actor_for(session, typical)
    hardware = (FieldFilter("category", "eq", "hardware"),)
    return [
        Variant(
            "main: admin, state=in_progress, category=hardware, newest first",
            admin_actor,
            TicketQuery(states=["in_progress"], fields=hardware, sort="created_at", limit=50),
        ),
        Variant(
            f"agent ({', '.join(sorted(agent_actor.team_ids))}), same filter",
            agent_actor,
            TicketQuery(states=["in_progress"], fields=hardware, sort="created_at", limit=50),
        ),
        Variant(
            "requester (busiest, ~2% of rows): own tickets, newest first",
            busiest_actor,
            TicketQuery(sort="created_at", limit=50),
        ),
        Variant(
            "requester (typical, ~180 tickets): own tickets, newest first",
            typical_actor,
            TicketQuery(sort="created_at", limit=50),
        ),
        Variant(
            "admin, same filter, priority sort",
            admin_actor,
            TicketQuery(states=["in_progress"], fields=hardware, sort="priority", limit=50),
        ),
        Variant(
            "admin, equipment_maintenance, downtime_minutes >= 240, newest first",
            admin_actor,
            TicketQuery(
                types=["equipment_maintenance"],
                fields=(FieldFilter("downtime_minutes", "gte", 240),),
                sort="created_at",
                limit=50,
            ),
        ),
        Variant(
            "admin, text 'printer' (broad), newest first",
            admin_actor,
            TicketQuery(text="printer", sort="created_at", limit=50),
        ),
        Variant(
            "admin, text 'printer' + state_category=open, newest first",
            admin_actor,
            TicketQuery(text="printer", state_categories=["open"], sort="created_at", limit=50),
        ),
        Variant(
            f"admin, text '{RARE_TERM}' (rare error code), newest first",
            admin_actor,
            TicketQuery(text=RARE_TERM, sort="created_at", limit=50),
        ),
    ]


def print_selectivity(url: str) -> None:
    """How many rows each filter of the variants matches (context for the plans)."""
    printer = "(title ILIKE '%printer%' OR description ILIKE '%printer%')"
    checks = {
        "state = in_progress": "state = 'in_progress'",
        "  and category = hardware": "state = 'in_progress' "
        'AND data @> \'{"category":"hardware"}\'',
        "category = hardware": 'data @> \'{"category":"hardware"}\'',
        "equipment_maintenance": "ticket_type = 'equipment_maintenance'",
        "  and downtime_minutes >= 240": "ticket_type = 'equipment_maintenance' "
        "AND (data->>'downtime_minutes')::float >= 240",
        "requester = customer0 (busiest)": "requester_id = "
        "(SELECT id FROM users WHERE email = 'customer0@customer.example.com')",
        "requester = customer2500 (typical)": "requester_id = "
        "(SELECT id FROM users WHERE email = 'customer2500@customer.example.com')",
        "title/description ILIKE '%printer%'": printer,
        "  and state_category = open": f"{printer} AND state_category = 'open'",
        f"description ILIKE '%{RARE_TERM}%'": f"description ILIKE '%{RARE_TERM}%'",
    }
    with psycopg.connect(conninfo(url)) as conn:
        total = conn.execute("SELECT count(*) FROM tickets").fetchone()
        print(f"  rows: {total[0] if total else '?':,}")
        for label, condition in checks.items():
            sql = f"SELECT count(*) FROM tickets WHERE {condition}"  # noqa: S608 - constants
            found = conn.execute(sql).fetchone()
            print(f"  {label}: {found[0] if found else '?':,}")


def probe(service: TicketService, variants: Sequence[Variant]) -> dict[str, str]:
    """Run each variant once; the error of each that fails, by name."""
    failures = {}
    for variant in variants:
        try:
            service.list_tickets(variant.actor, variant.query)
        except SQLAlchemyError as exc:
            failures[variant.name] = str(getattr(exc, "orig", exc)).strip()
    return failures


def time_all(
    service: TicketService, variants: Sequence[Variant], args: argparse.Namespace, note: str = ""
) -> list[tuple[Variant, float]]:
    """Time every variant, print a line each; returns (variant, p95 ms)."""
    out = []
    for variant in variants:
        latencies, size = time_variant(service, variant, args.list_runs, args.list_warmup)
        p95 = percentile(latencies, 95)
        print(
            f"  {variant.name + note:<72} p50 {percentile(latencies, 50):7.2f} ms  "
            f"p95 {p95:7.2f} ms  max {max(latencies):7.2f} ms  "
            f"{size:>2} rows  {verdict(p95 <= LIST_TARGET_P95_MS)}"
        )
        out.append((variant, p95))
    return out


def with_custom_plans(url: str) -> Database:
    """A Database like the project's, but psycopg never prepares statements server-side,
    so PostgreSQL plans every execution for its values (no generic plans)."""
    db = Database(url)
    db.engine.dispose()
    db.engine = sqlalchemy.create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"prepare_threshold": None},
    )
    db.sessions = sessionmaker(db.engine, expire_on_commit=False)
    return db


CANDIDATE_INDEXES = (
    # Newest-first pages with no selective indexed filter walk this index and stop
    # after 50 matches instead of collecting and sorting every match.
    "CREATE INDEX bench_ix_tickets_created ON tickets (created_at, id)",
    # The same within one ticket type (a type filter is the commonest list filter).
    "CREATE INDEX bench_ix_tickets_type_created ON tickets (ticket_type, created_at, id)",
    # Priority sort within a state: the exact ORDER BY expression paging.py builds.
    "CREATE INDEX bench_ix_tickets_state_priority ON tickets (state, (CASE priority "
    "WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 WHEN 'urgent' THEN 3 "
    "ELSE -1 END), id)",
)


@dataclass
class StatementTimer(CursorTimer):
    """Time per distinct SQL statement (by its first words) on one engine."""

    totals: dict[str, list[float]] = field(default_factory=dict)
    examples: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def record(self, statement: str, parameters: Any, elapsed: float) -> None:
        key = " ".join(statement.split())[:90]
        self.totals.setdefault(key, []).append(elapsed)
        self.examples[key] = (statement, parameters)


OPEN_ASSIGNEE_INDEX = (
    "CREATE INDEX bench_ix_tickets_open_assignee ON tickets (assignee_id) "
    "WHERE state_category IN ('new', 'open', 'pending')"
)


def creates_at_scale(args: argparse.Namespace, bundle: Bundle, url: str) -> None:
    """Creates through the service on the loaded database (the create benchmark runs on
    an empty one): what a create costs once the tables are big; then again with a
    partial index on open tickets per assignee (what routing counts)."""
    print(
        f"\n-- creates on the {args.rows:,}-ticket database "
        f"({args.scale_creates} timed after 10 warm-up)"
    )
    scale_creates_run(args, bundle, url, explain_slowest=True)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(OPEN_ASSIGNEE_INDEX)
        conn.execute("ANALYZE tickets")
    try:
        print(f"\n  what-if: {OPEN_ASSIGNEE_INDEX}")
        scale_creates_run(args, bundle, url, explain_slowest=False)
    finally:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("DROP INDEX IF EXISTS bench_ix_tickets_open_assignee")


def scale_creates_run(
    args: argparse.Namespace, bundle: Bundle, url: str, *, explain_slowest: bool
) -> None:
    n = args.scale_creates
    db = Database(url)
    try:
        with db.reading() as session:
            requesters = [
                actor_for(session, u)
                for u in session.scalars(
                    select(User).where(User.role == "requester").order_by(User.id).limit(50)
                )
            ]
            agents = [
                actor_for(session, u)
                for u in session.scalars(select(User).where(User.role == "agent").order_by(User.id))
            ]
        service = TicketService(db, bundle)
        rnd = random.Random(args.seed)
        for call in create_workload(10, rnd, requesters, agents):
            service.create_ticket(call.actor, "it_incident", **call.values)
        timer = StatementTimer()
        timer.attach(db.engine)
        latencies = []
        started = time.perf_counter()
        for call in create_workload(n, rnd, requesters, agents):
            t0 = time.perf_counter()
            service.create_ticket(call.actor, "it_incident", **call.values)
            latencies.append((time.perf_counter() - t0) * 1000)
        seconds = time.perf_counter() - started
        timer.detach(db.engine)
        print(
            f"  {n / seconds:.0f} creates/s   p50 {percentile(latencies, 50):.2f} ms   "
            f"p95 {percentile(latencies, 95):.2f} ms   max {max(latencies):.2f} ms"
        )
        ranked = sorted(timer.totals.items(), key=lambda item: -sum(item[1]))
        print("  statements by total time (calls, ms per call, share of the timed loop):")
        for key, times in ranked[:5]:
            print(
                f"    {len(times):5d} x {1000 * statistics.mean(times):8.2f} ms  "
                f"{100 * sum(times) / seconds:5.1f}%  {key}"
            )
        slowest, _ = ranked[0]
        statement, parameters = timer.examples[slowest]
        if explain_slowest and statement.lstrip().upper().startswith("SELECT"):
            with db.engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).fetchall()
            print(f"\n  EXPLAIN (ANALYZE, BUFFERS) of the costliest statement:\n  SQL: {statement}")
            print(f"  parameters: {parameters}")
            print("\n".join("    " + row[0] for row in plan))
    finally:
        db.dispose()


def bench_lists(args: argparse.Namespace, bundle: Bundle) -> None:
    print(f"\n== 2. Filtered first page over {args.rows:,} tickets on PostgreSQL")
    print(f"loading database {args.database}:")
    url = load_list_database(args, bundle)
    db = Database(url)
    try:
        print("matching rows:")
        print_selectivity(url)
        service = TicketService(db, bundle)
        variants = list_variants(db)
        failures = probe(service, variants)
        if failures:
            print("\nlist_tickets FAILS on PostgreSQL as the project stands (skipped):")
            for name, error in failures.items():
                print(f"  {name}:\n    {error.splitlines()[0]}")
            variants = [v for v in variants if v.name not in failures]
        if variants:
            print(
                f"\nTicketService.list_tickets as the project stands, {args.list_runs} runs "
                f"each after {args.list_warmup} warm-up "
                f"(target p95 <= {LIST_TARGET_P95_MS:.0f} ms):"
            )
            timed = time_all(service, variants, args)
            missed = [v for v, p95 in timed if p95 > LIST_TARGET_P95_MS]
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of '{variants[0].name}':")
            print(explain(db, service, variants[0]))
            for variant, p95 in timed:
                if variant is not variants[0] and p95 > LIST_TARGET_P95_MS / 2:
                    why = "missed the target" if variant in missed else "over half the target"
                    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of '{variant.name}' ({why}):")
                    print(explain(db, service, variant))
            if missed or args.what_if:
                list_what_ifs(args, bundle, url, db, service, variants, missed)
        if args.scale_creates and not args.skip_creates:
            creates_at_scale(args, bundle, url)
    finally:
        db.dispose()
        if args.keep:
            print(f"\nkept database {args.database} ({url})")
        else:
            drop_database(args.postgres_url, args.database)


def list_what_ifs(
    args: argparse.Namespace,
    bundle: Bundle,
    url: str,
    db: Database,
    service: TicketService,
    variants: Sequence[Variant],
    missed: Sequence[Variant],
) -> None:
    """The variants again without server-side prepared statements, then with the
    candidate indexes (with and without), EXPLAIN of those still slow or fixed."""
    print(
        "\n-- what-if 1: the same code, but psycopg never prepares server-side "
        "(create_engine(..., connect_args={'prepare_threshold': None})):"
    )
    custom_db = with_custom_plans(url)
    try:
        custom_service = TicketService(custom_db, bundle)
        time_all(custom_service, variants, args)
        print("\n-- what-if 2: candidate indexes added to the bench database:")
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for ddl in CANDIDATE_INDEXES:
                t0 = time.perf_counter()
                conn.execute(ddl)
                print(f"  {ddl}  ({time.perf_counter() - t0:.1f} s)")
            conn.execute("ANALYZE tickets")
        try:
            print("  as the project's engine runs them (prepared statements):")
            after = time_all(service, variants, args)
            print("  and without server-side prepared statements:")
            time_all(custom_service, variants, args)
            for variant, p95 in after:
                if variant in missed or p95 > LIST_TARGET_P95_MS:
                    print(f"\nwith the candidate indexes, EXPLAIN of '{variant.name}':")
                    print(explain(db, service, variant))
        finally:
            with psycopg.connect(conninfo(url), autocommit=True) as conn:
                for ddl in CANDIDATE_INDEXES:
                    conn.execute(f"DROP INDEX IF EXISTS {ddl.split()[2]}")
            print("  (candidate indexes dropped again)")
    finally:
        custom_db.dispose()


# --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=2000, help="timed creates per run")
    parser.add_argument("--warmup", type=int, default=100, help="untimed creates per run")
    parser.add_argument("--runs", type=int, default=3, help="create runs per database")
    parser.add_argument("--rows", type=int, default=1_000_000, help="tickets for the lists")
    parser.add_argument("--list-runs", type=int, default=50, help="timed calls per list query")
    parser.add_argument(
        "--scale-creates",
        type=int,
        default=100,
        help="timed creates on the loaded list database (0: skip)",
    )
    parser.add_argument("--list-warmup", type=int, default=10, help="untimed calls per query")
    parser.add_argument("--skip-creates", action="store_true", help="only the list benchmark")
    parser.add_argument("--skip-list", action="store_true", help="only the create benchmark")
    parser.add_argument("--skip-sqlite", action="store_true", help="creates on PostgreSQL only")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also time creates from N threads of one process (e.g. --threads 4 8)",
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="run the list what-ifs (custom plans, candidate indexes) even if all pass",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database(s)")
    parser.add_argument("--profile", action="store_true", help="cProfile the creates anyway")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", default="gongdan_bench", help="bench database name")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help="admin database URL")
    args = parser.parse_args(argv)
    if not args.database.startswith("gongdan_bench") or not args.database.isidentifier():
        parser.error("--database must be an identifier starting with 'gongdan_bench'")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bundle = load_bundle(CONFIG_DIR)
    with psycopg.connect(conninfo(args.postgres_url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        server = row[0] if row else "?"
        settings = {
            name: (conn.execute(f"SHOW {name}").fetchone() or ("?",))[0]
            for name in ("shared_buffers", "work_mem", "synchronous_commit")
        }
    print(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; SQLAlchemy {sqlalchemy.__version__}, psycopg "
        f"{psycopg.__version__} ({psycopg.pq.__impl__}); SQLite {sqlite_version()}; "
        f"PostgreSQL {server} ({', '.join(f'{k}={v}' for k, v in settings.items())})"
    )
    print(f"bundle {bundle.version}: {len(bundle.ticket_types)} ticket types, started {today()}")
    print(f"code: {code_version()}")
    print(f"load average at start: {load()}")
    if not args.skip_creates:
        bench_creates(args, bundle)
        print(f"load average after the creates: {load()}")
    if not args.skip_list:
        bench_lists(args, bundle)
        print(f"load average after the lists: {load()}")
    return 0


def list_options(
    doc: str, argv: list[str] | None, *, rows: int, runs: int, warmup: int, database: str
) -> argparse.Namespace:
    """The options of the benches over a loaded list database (queues, reports,
    search): `--rows --runs --warmup --seed --keep --database --postgres-url`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", default=database)
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    if not args.database.startswith("gongdan_bench") or not args.database.isidentifier():
        parser.error("--database must be an identifier starting with 'gongdan_bench'")
    return args


def loaded_list_database(
    doc: str, argv: list[str] | None, *, rows: int, runs: int, warmup: int, database: str
) -> tuple[argparse.Namespace, Bundle, str]:
    """The common start of the benches over a loaded list database (queues, reports,
    search): their options (`list_options`), the example bundle, and the database
    loaded as `load_list_database` does; returns the options, the bundle and the URL."""
    args = list_options(doc, argv, rows=rows, runs=runs, warmup=warmup, database=database)
    bundle = load_bundle(CONFIG_DIR)
    print(f"{os.cpu_count()} CPUs, load average at start: {load()}")
    print(f"loading {args.rows:,} tickets …")
    return args, bundle, load_list_database(args, bundle)


def load() -> str:
    """The 1/5/15-minute load averages (this machine may be shared: read figures with
    them in mind)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def code_version() -> str:
    """The commit the project is at, and whether platform/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "platform"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"{head}" + (
        f" + uncommitted changes in {len(changed)} platform/ file(s)" if changed else ""
    )


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
