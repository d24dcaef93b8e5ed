"""Benchmark: does anything cost more because old tickets exist? (issue 24)

For each size of `--sizes` (100,000 then 1,000,000 tickets) a PostgreSQL database
`--database`_<size> is loaded by `bench/engine.py`'s loader (`load_list_database`:
five ticket types with realistic custom data over a year, states by age, teams and
assignees from `config/teams/`, 3,000 requesters), then, in SQL: a third of the
tickets get Chinese titles and descriptions, open tickets SLA deadlines (two hours
overdue to three days ahead) and a time in state under 20 hours (so that no `after:`
transition is due), every ticket a `ticket.created` event and non-new ones a
`ticket.transitioned` one, three in five tickets a comment (English or Chinese), and
`VACUUM (ANALYZE)` (the loader rebuilt the agents' open-ticket counters: its COPY
runs with triggers off). `--keep` keeps the databases; a later run with `--keep` reuses a
loaded one (and migrates it to the current head).

Then the full app as users run it: `gongdan serve --workers 2` on each database
without a broker, so each worker runs the embedded runner (outbox relay and the
scheduler's jobs, which take a lease so one process runs each). Through HTTP, each
measure `--runs` times after `--warmup` (one client, sequential):

- every API list variant (`GET /api/v1/tickets`): each sort both ways as an admin,
  the agent's scope, a requester's own, state and priority filters, a custom field,
  and the second page of each sort (its cursor);
- each desk queue page (`GET /desk/queues/{id}`, built-ins and the example views)
  and the counts fragment (`/desk/queues/counts`), signed in as a service desk agent;
- a ticket page (`/desk/tickets/{key}`, a ticket with events and a comment);
- search (`?q=` an English word, a Chinese word, a rare error code; `--search-runs`
  times: search is the slow one);
- creates/s from 16 clients (`bench/api.py`'s client: `it_incident` tickets by
  requesters, one in five by an agent) while the app's background work runs, in
  `--create-rounds` blocks of `--creates`;
- the database's own time for each list sort (and its second page) and each queue page
  and the counts, as the services run them in this process: their SELECTs run again
  under EXPLAIN ANALYZE (planning + execution), a figure the machine's load hardly
  moves;
- the scheduler's jobs when nothing is due: each run in this process on the same
  database, the server's planning and execution time of its statements (EXPLAIN
  ANALYZE of each again) and the time inside the driver.

The sizes take turns, request by request (and block by block for the creates, run by
run for the jobs), against one server each, so the machine's load (it may be shared)
weighs on both alike. The figures go to `--results` (JSON; `--parts` measures some
parts again and keeps the others' stored figures; `--summary-only` prints a stored
one again); at the end every measure is printed with both sizes' median and p95
and the ratio of the p95s, next to the targets: ratio <= 1.5 for every measure, list and queue pages p95 <= 50 ms at the
largest size, creates/s at the largest >= 90% of the smallest, each job <= 50 ms of
SQL. Nothing asserts. The load average is printed: the machine may be shared.

    .venv/bin/python bench/scale.py [--sizes N ...] [--runs N] [--warmup N] [--search-runs N]
        [--job-runs N] [--creates N] [--create-rounds N] [--parts jobs sql http creates]
        [--keep] [--summary-only]
        [--database PREFIX] [--results FILE] [--port P] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from argon2 import PasswordHasher
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api as api_bench
import engine as engine_bench

from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.tokens import create_token
from gongdan.engine.accounts.users import actor_for, add_user
from gongdan.engine.outbox.runner import SCHEDULED_JOBS
from gongdan.engine.reads.queries import TicketQuery
from gongdan.engine.reads.queues import QueueService
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.engine.unit_of_work import begin_write
from gongdan.rules.workflow import Actor

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password"  # noqa: S105 - a throwaway bench account
PAGE_TARGET_MS = 50.0
RATIO_TARGET = 1.5
JOB_TARGET_MS = 50.0
CREATES_SHARE = 0.9
PARTS = ("jobs", "sql", "http", "creates")
N_BENCH_REQUESTERS = 50

ZH_TITLES = (
    "电脑无法开机",
    "打印机卡纸，无法打印",
    "无法连接公司无线网络",
    "邮箱收不到外部邮件",
    "产品质量问题，要求退货",
    "快递延误，客户投诉",
    "贴片机报警停机",
    "申请开通财务系统权限",
)
ZH_TEXT = (
    "用户反映今天上午开始出现这个问题，重启之后仍然无法解决。",
    "客户来电表示非常不满意，希望尽快给出处理方案。",
    "已经检查过网线和电源，问题依旧存在，请现场支持。",
    "生产线因此停机，影响当班产量，请优先处理。",
    "申请人已获得部门经理批准，请按流程开通。",
)
EN_COMMENTS = (
    "Called the user, waiting for them to try again.",
    "Replaced the cable, monitoring.",
    "Customer confirmed the order number.",
    "Escalated to the vendor.",
)


def _array(texts: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + t.replace("'", "''") + "'" for t in texts) + "]"


ENRICH = f"""
UPDATE tickets SET
  title = CASE WHEN id % 3 = 0 THEN ({_array(ZH_TITLES)})[1 + id % {len(ZH_TITLES)}]
               ELSE title END,
  description = CASE WHEN id % 3 = 0 THEN ({_array(ZH_TEXT)})[1 + id % {len(ZH_TEXT)}]
                     ELSE description END,
  state_since = CASE WHEN state_category = 'closed' THEN updated_at
                     ELSE now() - (id % 20) * interval '1 hour' END,
  resolution_due = CASE WHEN state_category IN ('new', 'open', 'pending')
      THEN now() + (((id * 7919) % 4440) - 120) * interval '1 minute' END,
  first_response_due = CASE WHEN state_category IN ('new', 'open', 'pending') AND id % 5 = 0
      THEN now() + (((id * 104729) % 600) - 60) * interval '1 minute' END
"""  # noqa: S608 - our own constants
EVENTS = """
INSERT INTO events (ticket_id, actor_id, kind, at, before, after, detail, internal)
SELECT id, requester_id, 'ticket.created', created_at, '{}', jsonb_build_object('state', 'new'),
       '{}', false FROM tickets;
INSERT INTO events (ticket_id, actor_id, kind, at, before, after, detail, internal)
SELECT id, assignee_id, 'ticket.transitioned', updated_at, jsonb_build_object('state', 'new'),
       jsonb_build_object('state', state), '{}', false
FROM tickets WHERE state_category <> 'new';
"""
COMMENTS = f"""
INSERT INTO comments (ticket_id, author_id, body, public, created_at)
SELECT id, coalesce(assignee_id, requester_id),
       CASE WHEN id % 2 = 0 THEN ({_array(EN_COMMENTS)})[1 + id % {len(EN_COMMENTS)}]
            ELSE ({_array(ZH_TEXT)})[1 + id % {len(ZH_TEXT)}] END,
       id % 4 <> 0, updated_at
FROM tickets WHERE id % 5 < 3
"""  # noqa: S608 - our own constants


def load_size(args: argparse.Namespace, rows: int) -> str:
    """The loaded database of `rows` tickets (reused with `--keep` when there)."""
    name = f"{args.database}_{rows}"
    url = engine_bench.database_url(args.postgres_url, name)
    if args.keep and _loaded(args.postgres_url, name):
        print(f"reusing {name} (migrating to head)")
        db = Database(url)
        db.upgrade()
        db.dispose()
        return url
    print(f"loading {rows:,} tickets into {name} …")
    started = time.perf_counter()
    loader_args = argparse.Namespace(
        rows=rows, seed=args.seed, database=name, postgres_url=args.postgres_url
    )
    engine_bench.load_list_database(loader_args, load_bundle(engine_bench.CONFIG_DIR))
    with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
        for what, statement in (
            ("Chinese text, deadlines, time in state", ENRICH),
            ("events", EVENTS),
            ("comments", COMMENTS),
        ):
            t0 = time.perf_counter()
            conn.execute(statement)
            print(f"  {what}: {time.perf_counter() - t0:.1f} s")
        conn.execute("VACUUM (ANALYZE) tickets")
        conn.execute("VACUUM (ANALYZE) events")
        conn.execute("VACUUM (ANALYZE) comments")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM comments)"
        ).fetchone()
    print(f"  {counts[0]:,} events, {counts[1]:,} comments" if counts else "")
    print(f"  loaded in {time.perf_counter() - started:.0f} s")
    return url


def _loaded(admin_url: str, name: str) -> bool:
    try:
        url = engine_bench.database_url(admin_url, name)
        with psycopg.connect(engine_bench.conninfo(url)) as conn:
            row = conn.execute("SELECT count(*) FROM comments").fetchone()
            return bool(row and row[0])
    except psycopg.Error:
        return False


def people(url: str) -> dict[str, Any]:
    """Tokens (admin, a service desk agent, the bench requesters and every agent), the
    agent's password, a requester of many tickets: made once per database."""
    bundle = load_bundle(engine_bench.CONFIG_DIR)
    db = Database(url)
    agent_email = bundle.teams["service_desk"].members[0].user
    now = utc_now()
    with begin_write(db, bundle, Actor.system(), now) as ctx:
        session = ctx.session
        users = {u.email: u for u in session.scalars(select(User).where(User.role != "requester"))}
        admin = next(u for u in users.values() if u.role == "admin")
        agent = users[agent_email]
        agent.password_hash = PasswordHasher().hash(PASSWORD)
        requesters = [
            session.scalar(select(User).where(User.email == f"bench{i}@customer.example.com"))
            or add_user(ctx, f"bench{i}@customer.example.com", role="requester")
            for i in range(N_BENCH_REQUESTERS)
        ]
        busy = session.scalar(select(User).where(User.email == "customer0@customer.example.com"))
        out = {
            "admin": create_token(ctx, admin, "scale")[1],
            "agent": create_token(ctx, agent, "scale")[1],
            "agent_email": agent_email,
            "agents": [create_token(ctx, u, "scale")[1] for u in users.values()],
            "requesters": [create_token(ctx, u, "scale")[1] for u in requesters],
            "requester_emails": [u.email for u in requesters],
            "busy": create_token(ctx, busy, "scale")[1] if busy else None,
        }
    db.dispose()
    return out


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "GONGDAN_BROKER_URL"}
    env |= {"GONGDAN_DATABASE_URL": url, "GONGDAN_CONFIG_DIR": str(ROOT / "config")}
    command = [
        str(Path(sys.executable).with_name("gongdan")), "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - our own command
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            err = server.stderr.read().decode() if server.stderr else ""
            raise SystemExit(f"gongdan serve exited with {server.returncode}: {err[-2000:]}")
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("gongdan serve did not answer within 120 s")


Call = Callable[[], Any]


def stats(times: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(times),
        "p95": engine_bench.percentile(times, 95),
        "max": max(times),
    }


def measures(base: str, who: dict[str, Any]) -> dict[str, Call]:
    """Every HTTP measure against the app at `base`, by name: a call each (the desk
    ones on a client signed in as a service desk agent)."""
    bearer = {
        k: {"Authorization": f"Bearer {who[k]}"} for k in ("admin", "agent", "busy") if who[k]
    }
    api = httpx.Client(base_url=base, timeout=60)
    desk = httpx.Client(base_url=base, timeout=60)

    def get(client: httpx.Client, path: str, headers: dict[str, str] | None, **params: str) -> Any:
        answer = client.get(path, headers=headers, params=params or None)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {answer.status_code} {answer.text[:300]}")
        return answer

    out: dict[str, Call] = {}
    lists = "/api/v1/tickets"
    admin = bearer["admin"]
    for sort in ("created_at", "updated_at", "priority", "key"):
        for sign in ("-", ""):
            key = f"{sign}{sort}"
            cursor = get(api, lists, admin, sort=key).json()["next_cursor"]
            out[f"api list sort={key}"] = partial(get, api, lists, admin, sort=key)
            out[f"api list sort={key} page 2"] = partial(
                get, api, lists, admin, sort=key, cursor=cursor
            )
    variants: dict[str, tuple[str, dict[str, str]]] = {
        "agent scope -created_at": ("agent", {}),
        "agent scope -priority": ("agent", {"sort": "-priority"}),
        "requester own -created_at": ("busy", {}),
        "state=in_progress -priority": ("admin", {"state": "in_progress", "sort": "-priority"}),
        "state_category=open priority=high": (
            "admin",
            {"state_category": "open", "priority": "high"},
        ),
        "fields.category=hardware": (
            "admin",
            {"type": "it_incident", "fields.category": "hardware"},
        ),
        "assignee=none state_category=new": (
            "admin",
            {"assignee": "none", "state_category": "new"},
        ),
    }
    for name, (role, params) in variants.items():
        if role in bearer:
            out[f"api list {name}"] = partial(get, api, lists, bearer[role], **params)
    for term in ("printer", "打印机", engine_bench.RARE_TERM):
        out[f"api search q={term}"] = partial(get, api, lists, admin, q=term)
    key = get(api, lists, admin, state_category="open").json()["items"][0]["key"]
    out["api ticket"] = lambda: get(api, f"{lists}/{key}", admin)
    login = desk.get("/login").text
    csrf = login.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
    signed = desk.post(
        "/login",
        data={"email": who["agent_email"], "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    if signed.status_code != 303:
        raise SystemExit(f"desk sign-in: {signed.status_code} {signed.text[:300]}")
    for queue in (
        "mine", "my_teams", "unassigned", "breaching", "urgent_incidents", "waiting_on_customer",
    ):  # fmt: skip
        out[f"desk queue {queue}"] = partial(get, desk, f"/desk/queues/{queue}", None)
    hx = {"HX-Request": "true"}
    out["desk queue counts fragment"] = lambda: get(desk, "/desk/queues/counts", hx)
    # A ticket the agent may see (theirs or their team's), with events and a comment.
    seen = get(api, lists, bearer["agent"], state_category="open").json()["items"][0]["key"]
    out["desk ticket page"] = lambda: get(desk, f"/desk/tickets/{seen}", None)
    out["healthz"] = lambda: get(api, "/healthz", None)
    return out


def measure_http(
    args: argparse.Namespace, bases: dict[int, str], who: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Each measure at every size, the sizes taking turns request by request (their
    order swapped each round), so the machine's load weighs on both alike."""
    calls = {rows: measures(base, who[rows]) for rows, base in bases.items()}
    sizes = list(bases)
    out: dict[int, dict[str, Any]] = {rows: {} for rows in sizes}
    for name in calls[sizes[0]]:
        times: dict[int, list[float]] = {rows: [] for rows in sizes}
        try:
            for rows in sizes:
                for _ in range(
                    min(args.warmup, 2) if name.startswith("api search") else args.warmup
                ):
                    calls[rows][name]()
            runs = args.search_runs if name.startswith("api search") else args.runs
            for i in range(runs):
                for rows in sizes if i % 2 == 0 else reversed(sizes):
                    started = time.perf_counter()
                    calls[rows][name]()
                    times[rows].append((time.perf_counter() - started) * 1000)
        except RuntimeError as error:
            print(f"  {name}: {error}")
            continue
        line = f"  {name:<44}"
        for rows in sizes:
            out[rows][name] = stats(times[rows])
            line += f" {rows:>9,}: {out[rows][name]['median']:6.1f} / {out[rows][name]['p95']:6.1f}"
        print(line + "  (median / p95 ms)")
    return out


def measure_creates(
    args: argparse.Namespace, bases: dict[int, str], who: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Creates/s from 16 clients, `--create-rounds` blocks of `--creates` per size, the
    sizes taking turns block by block; the median block per size."""
    sizes = list(bases)
    blocks: dict[int, list[tuple[float, list[float], int]]] = {rows: [] for rows in sizes}
    for i in range(args.create_rounds):
        for rows in sizes if i % 2 == 0 else reversed(sizes):
            people_of = who[rows]
            seconds, latencies, errors = asyncio.run(
                api_bench.run_clients(
                    bases[rows],
                    args.creates,
                    16,
                    people_of["agents"],
                    people_of["requesters"],
                    people_of["requester_emails"],
                    args.seed + i,
                )
            )
            blocks[rows].append((len(latencies) / seconds, latencies, errors))
            print(
                f"  creates {rows:>9,} block {i + 1}: {len(latencies) / seconds:5.0f}/s, {errors} errors"
            )
    out: dict[int, dict[str, Any]] = {}
    for rows in sizes:
        rates = sorted(b[0] for b in blocks[rows])
        times = [x * 1000 for b in blocks[rows] for x in b[1]]
        out[rows] = {
            "per_s": statistics.median(rates),
            "rates": rates,
            "median": statistics.median(times),
            "p95": engine_bench.percentile(times, 95),
            "errors": sum(b[2] for b in blocks[rows]),
        }
        print(
            f"  creates {rows:>9,}: median block {out[rows]['per_s']:.0f}/s "
            f"(blocks {', '.join(f'{r:.0f}' for r in rates)}), latency p50 "
            f"{out[rows]['median']:.1f} ms, p95 {out[rows]['p95']:.1f} ms"
        )
    return out


class JobStatements(engine_bench.CursorTimer):
    """Each statement a job runs (text, parameters) and the time inside the driver."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Any]] = []
        self.seconds = 0.0

    def record(self, statement: str, parameters: Any, elapsed: float) -> None:
        self.seen.append((statement, parameters))
        self.seconds += elapsed


def server_ms(db: Database, seen: list[tuple[str, Any]]) -> float:
    """The server's own time (planning + execution, `EXPLAIN ANALYZE`) for the SELECTs
    of `seen`, run again (after its `SET LOCAL`s) in a transaction rolled back: what the job costs the database,
    without the client's waits for a CPU on a loaded machine."""
    total = 0.0
    with db.engine.connect() as connection:
        for statement, parameters in seen:
            if statement.lstrip().upper().startswith("SET LOCAL"):  # as the read had it
                connection.exec_driver_sql(statement, parameters)
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar_one()
            top = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            total += top["Planning Time"] + top["Execution Time"]
        connection.rollback()
    return total


def measure_jobs(urls: dict[int, str], runs: int) -> dict[int, dict[str, Any]]:
    """Each scheduler job run here (the job itself, no lease) once per size to settle,
    then `runs` times per size, the sizes taking turns, when nothing is due: the
    server's planning + execution time of its reads (`server_ms`) and the time inside
    the driver (the client's view, waits for a CPU on a loaded machine included)."""
    bundle = load_bundle(engine_bench.CONFIG_DIR)
    dbs = {rows: Database(url) for rows, url in urls.items()}
    out: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    for job in SCHEDULED_JOBS:
        spent: dict[int, list[float]] = {rows: [] for rows in urls}
        server: dict[int, list[float]] = {rows: [] for rows in urls}
        statements = dict.fromkeys(urls, 0)
        for db in dbs.values():
            job.run(db, bundle, utc_now())  # whatever was due since the load
        for i in range(runs):
            for rows in list(urls) if i % 2 == 0 else reversed(list(urls)):
                meter = JobStatements()
                meter.attach(dbs[rows].engine)
                job.run(dbs[rows], bundle, utc_now())
                meter.detach(dbs[rows].engine)
                spent[rows].append(meter.seconds * 1000)
                server[rows].append(server_ms(dbs[rows], meter.seen))
                statements[rows] = len(meter.seen)
        for rows in urls:
            out[rows][job.name] = {
                **stats(server[rows]),
                "client_median": statistics.median(spent[rows]),
                "client_p95": engine_bench.percentile(spent[rows], 95),
                "statements": statements[rows],
            }
            got = out[rows][job.name]
            print(
                f"  job {job.name:<22} {rows:>9,}: server SQL median {got['median']:6.2f} ms, "
                f"p95 {got['p95']:6.2f} ms; in the driver median {got['client_median']:6.1f} ms, "
                f"p95 {got['client_p95']:6.1f} ms ({statements[rows]} statements)"
            )
    for db in dbs.values():
        db.dispose()
    return out


def measure_sql(urls: dict[int, str], runs: int) -> dict[int, dict[str, Any]]:
    """What the database itself spends on each list and queue read, whatever the load
    on the machine: each read run in this process through the services (as the app
    runs it), its SELECTs captured and run again under `EXPLAIN ANALYZE` (`server_ms`:
    planning + execution, summed), `runs` times per size, the sizes taking turns."""
    bundle = load_bundle(engine_bench.CONFIG_DIR)
    reads: dict[int, dict[str, Call]] = {}
    dbs = {rows: Database(url) for rows, url in urls.items()}
    for rows, db in dbs.items():
        tickets, queues = TicketService(db, bundle), QueueService(db, bundle)
        with db.reading() as session:
            admin_user = session.scalar(select(User).where(User.role == "admin").limit(1))
            agent_email = bundle.teams["service_desk"].members[0].user
            agent_user = session.scalar(select(User).where(User.email == agent_email))
            assert admin_user is not None and agent_user is not None
            admin, agent = actor_for(session, admin_user), actor_for(session, agent_user)
        calls: dict[str, Call] = {}
        for sort in ("created_at", "updated_at", "priority", "key"):
            for descending in (True, False):
                query = TicketQuery(sort=sort, descending=descending)
                name = f"sql list sort={'-' if descending else ''}{sort}"
                calls[name] = partial(tickets.list_tickets, admin, query)
                cursor = tickets.list_tickets(admin, query).next_cursor
                calls[name + " page 2"] = partial(
                    tickets.list_tickets,
                    admin,
                    TicketQuery(sort=sort, descending=descending, cursor=cursor),
                )
        calls["sql list agent scope"] = partial(tickets.list_tickets, agent, TicketQuery())
        for queue in queues.queues_for(agent):
            calls[f"sql queue {queue.id}"] = partial(queues.list_queue, agent, queue.id)
        calls["sql queue counts"] = partial(queues.counts, agent)
        reads[rows] = calls
    out: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    for name in reads[next(iter(urls))]:
        times: dict[int, list[float]] = {rows: [] for rows in urls}
        for i in range(runs):
            for rows in list(urls) if i % 2 == 0 else reversed(list(urls)):
                meter = JobStatements()
                meter.attach(dbs[rows].engine)
                reads[rows][name]()
                meter.detach(dbs[rows].engine)
                times[rows].append(server_ms(dbs[rows], meter.seen))
        line = f"  {name:<44}"
        for rows in urls:
            out[rows][name] = stats(times[rows])
            line += f" {rows:>9,}: {out[rows][name]['median']:6.2f} / {out[rows][name]['p95']:6.2f}"
        print(line + "  (median / p95 ms)")
    for db in dbs.values():
        db.dispose()
    return out


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    urls = {rows: load_size(args, rows) for rows in args.sizes}
    who = {rows: people(url) for rows, url in urls.items()}
    result: dict[str, Any] = {"load_before": engine_bench.load(), "sizes": args.sizes}
    print(f"load average before the measures: {result['load_before']}")
    parts = set(args.parts)
    jobs: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    sql: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    http: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    creates: dict[int, dict[str, Any]] = {rows: {} for rows in urls}
    if "jobs" in parts:
        print("\nthe scheduler's jobs, nothing due:")
        jobs = measure_jobs(urls, args.job_runs)
    if "sql" in parts:
        print("\nthe database's own time per list and queue read (server, EXPLAIN ANALYZE):")
        sql = measure_sql(urls, args.job_runs)
    if parts & {"http", "creates"}:
        servers = {
            rows: start_server(url, args.port + i) for i, (rows, url) in enumerate(urls.items())
        }
        try:
            bases = {rows: f"http://127.0.0.1:{args.port + i}" for i, rows in enumerate(urls)}
            time.sleep(2)  # the workers' first scheduler ticks
            if "http" in parts:
                print(
                    "\nHTTP, the full app (gongdan serve --workers 2 per size), sizes taking turns:"
                )
                http = measure_http(args, bases, who)
            if "creates" in parts:
                print("\ncreates, 16 clients, sizes taking turns:")
                creates = measure_creates(args, bases, who)
        finally:
            for server in servers.values():
                server.terminate()
            for server in servers.values():
                server.wait(30)
    result["load_after"] = engine_bench.load()
    print(f"load average after: {result['load_after']}")
    for rows in args.sizes:
        result[str(rows)] = {
            "jobs": jobs[rows],
            "sql": sql[rows],
            "http": http[rows],
            "creates": creates[rows],
        }
    if not args.keep:
        for rows in args.sizes:
            engine_bench.drop_database(args.postgres_url, f"{args.database}_{rows}")
    return result


def summary(result: dict[str, Any]) -> None:
    """Every measure at the smallest and largest size, the ratio of the p95s, and the
    verdict against the targets."""
    sizes = sorted(int(x) for x in result["sizes"])
    small, large = str(sizes[0]), str(sizes[-1])
    if small == large:
        return
    a, b = result[small], result[large]
    print(f"\n{'measure':<46}{int(small):>17,}{int(large):>19,}   p95 ratio")
    print(f"{'':<46}{'median / p95 ms':>17}{'median / p95 ms':>19}")
    for name, low in a.get("http", {}).items():
        high = b.get("http", {}).get(name)
        if high is None:
            continue
        ratio = high["p95"] / low["p95"] if low["p95"] else float("nan")
        page = name.startswith(("api list", "desk queue")) and "counts" not in name
        ok = ratio <= RATIO_TARGET and (not page or high["p95"] <= PAGE_TARGET_MS)
        print(
            f"{name:<46}{low['median']:8.1f} /{low['p95']:7.1f}{high['median']:10.1f} /"
            f"{high['p95']:7.1f}   {ratio:5.2f} {engine_bench.verdict(ok)}"
        )
    for name, low in a.get("sql", {}).items():
        high = b["sql"][name]
        ratio = high["p95"] / low["p95"] if low["p95"] else float("nan")
        ok = ratio <= RATIO_TARGET or high["p95"] < 1.0  # sub-millisecond: noise
        print(
            f"{name + ' (server)':<46}{low['median']:8.2f} /{low['p95']:7.2f}"
            f"{high['median']:10.2f} /{high['p95']:7.2f}   {ratio:5.2f} {engine_bench.verdict(ok)}"
        )
    for name, low in a.get("jobs", {}).items():
        high = b["jobs"][name]
        ratio = high["p95"] / low["p95"] if low["p95"] else float("nan")
        ok = high["p95"] <= JOB_TARGET_MS
        print(
            f"{'job ' + name + ' (server SQL)':<46}{low['median']:8.2f} /{low['p95']:7.2f}"
            f"{high['median']:10.2f} /{high['p95']:7.2f}   {ratio:5.2f} {engine_bench.verdict(ok)}"
        )
    if not a.get("creates") or not b.get("creates"):
        return
    share = b["creates"]["per_s"] / a["creates"]["per_s"]
    print(
        f"{'creates/s, 16 clients (median block)':<46}{a['creates']['per_s']:17.0f}"
        f"{b['creates']['per_s']:19.0f}   {share:5.2f} "
        f"{engine_bench.verdict(share >= CREATES_SHARE)} (target >= {CREATES_SHARE})"
    )
    print(f"load average: {result['load_before']} before, {result['load_after']} after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--search-runs", type=int, default=10)
    parser.add_argument("--job-runs", type=int, default=10)
    parser.add_argument("--creates", type=int, default=600)
    parser.add_argument("--create-rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--parts", nargs="+", default=list(PARTS), choices=PARTS, help="what to measure"
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--database", default="gongdan_bench_scale")
    default_results = Path(tempfile.gettempdir()) / "gongdan_bench_scale.json"
    parser.add_argument("--results", default=str(default_results))
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--postgres-url", default=engine_bench.DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    if not args.database.startswith("gongdan_bench") or not args.database.isidentifier():
        parser.error("--database must be an identifier starting with 'gongdan_bench'")
    results_file = Path(args.results)
    print(f"{os.cpu_count()} CPUs, load average at start: {engine_bench.load()}")
    print(f"code: {engine_bench.code_version()}, {engine_bench.today()}")
    stored = json.loads(results_file.read_text()) if results_file.exists() else {}
    if args.summary_only:
        result = stored
    else:
        result = run_bench(args)
        for rows in args.sizes:  # parts not measured now keep their stored figures
            for part, figures in stored.get(str(rows), {}).items():
                if not result[str(rows)].get(part):
                    result[str(rows)][part] = figures
        results_file.write_text(json.dumps(result, indent=1))
    summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
