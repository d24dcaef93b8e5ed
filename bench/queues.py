"""Benchmark: agent queues at `--rows` (100,000) tickets on PostgreSQL.

The tickets are bulk-loaded with COPY by `bench/engine.py`'s loader (five ticket types
with realistic custom data, states spread by age, teams and assignees from
`config/teams/`), then open tickets get SLA deadlines spread from two hours overdue to
three days ahead (an UPDATE, as the SLA engine would have written them), then
`VACUUM (ANALYZE)`. Timed, `--runs` times after `--warmup` untimed calls each, for an
agent of the service desk (scoped to their teams) and for an admin:

- one page (50 tickets, records with their people) of every queue the actor may open:
  the four built-ins and the example views, each in its own sort;
- the live counts of all those queues (one COUNT each);
- a filtered page (my teams, priority high, category hardware);
- the HTML page `GET /desk/queues/{id}` of every queue through the real app
  (`create_app`, signed in as an agent of the service desk, in-process client): the
  server time is measured inside the ASGI app, from the request's arrival to the last
  byte of the response (session, account lookup, queue query, template), so the
  client's own overhead is not counted.

Printed: median and p95 in ms per measurement, next to the 30 ms target for a queue
page. Nothing asserts; the figures depend on the machine (the load average is printed).
The bench database is named `--database` (must start with `gongdan_bench`) and dropped
at the end unless `--keep`.

    .venv/bin/python bench/queues.py [--rows N] [--runs N] [--warmup N] [--keep]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench

from gongdan.engine.accounts.users import actor_for
from gongdan.engine.reads.queries import FieldFilter, TicketQuery
from gongdan.engine.reads.queues import QueueQuery, QueueService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from gongdan.ui.app import create_app

PAGE_TARGET_MS = 30.0
PAGE_PASSWORD = "bench password"  # noqa: S105 - a throwaway bench account
DEADLINES = """
UPDATE tickets SET
  resolution_due = now() + (((id * 7919) % 4440) - 120) * interval '1 minute',
  first_response_due = CASE WHEN id % 5 = 0
      THEN now() + (((id * 104729) % 600) - 60) * interval '1 minute' END
WHERE state_category IN ('new', 'open', 'pending')
"""


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


def report(what: str, median: float, p95: float, target: float | None = PAGE_TARGET_MS) -> None:
    verdict = "" if target is None else ("  ok" if p95 <= target else "  MISSED")
    print(f"  {what:<48} median {median:6.1f} ms   p95 {p95:6.1f} ms{verdict}")


class ServerTimer:
    """ASGI wrapper: how long the app spent on each request, arrival to last byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.samples.append((time.perf_counter() - started) * 1000)


def bench_pages(url: str, bundle: Any, queues: QueueService, runs: int, warmup: int) -> None:
    """Time the HTML queue pages through the app, signed in as a service desk agent.

    The agent is a member of `service_desk` in `config/teams/` (given a password here):
    the app syncs team memberships from the config when it starts, so a member added
    only in the database would be teamless, and its queues nearly empty."""
    db = Database(url)
    email = bundle.teams["service_desk"].members[0].user
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        user.password_hash = PasswordHasher().hash(PAGE_PASSWORD)
    app = create_app(engine_bench.CONFIG_DIR, database_url=url)
    timer = ServerTimer(app)
    client = TestClient(timer, follow_redirects=False)
    login = client.get("/login").text
    token = login.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
    signed_in = client.post(
        "/login", data={"email": email, "password": PAGE_PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 303, signed_in.text
    person = actor(db, email)
    print("HTML pages (server time inside the app), agent of the service desk:")
    for queue in queues.queues_for(person):
        path = f"/desk/queues/{queue.id}"
        for _ in range(warmup):
            assert client.get(path).status_code == 200
        timer.samples.clear()
        for _ in range(runs):
            client.get(path)
        samples = sorted(timer.samples)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        report(f"GET {path}", statistics.median(samples), p95)
    timer.samples.clear()
    for _ in range(runs):
        client.get("/desk/queues/counts", headers={"HX-Request": "true"})
    samples = sorted(timer.samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    report("GET /desk/queues/counts (fragment)", statistics.median(samples), p95, None)
    client.close()
    app.state.db.dispose()
    db.dispose()


def main(argv: list[str] | None = None) -> int:
    args, bundle, url = engine_bench.loaded_list_database(
        __doc__ or "",
        argv,
        rows=100_000,
        runs=50,
        warmup=10,
        database="gongdan_bench_queues",
    )
    try:
        with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
            updated = conn.execute(DEADLINES).rowcount
            conn.execute("VACUUM (ANALYZE) tickets")
        print(f"  SLA deadlines on {updated:,} open tickets")
        db = Database(url)
        queues = QueueService(db, bundle)
        desk_email = bundle.teams["service_desk"].members[0].user
        people = {"agent (service desk)": actor(db, desk_email)}
        people["admin"] = actor(db, "bench.admin@example.com")
        for who, person in people.items():
            print(f"{who}:")
            for queue in queues.queues_for(person):
                page = queues.list_queue(person, queue.id)
                median, p95 = timed(
                    lambda q=queue.id, p=person: queues.list_queue(p, q), args.runs, args.warmup
                )
                report(f"page of '{queue.id}' ({len(page.items)} rows)", median, p95)
            counts = queues.counts(person)
            median, p95 = timed(lambda p=person: queues.counts(p), args.runs, args.warmup)
            shown = ", ".join(f"{k}={v:,}" for k, v in counts.items())
            report(f"counts of {len(counts)} queues", median, p95, None)
            print(f"    {shown}")
            filtered = QueueQuery(
                filters=TicketQuery(
                    priorities=["high"], fields=(FieldFilter("category", "eq", "hardware"),)
                )
            )
            median, p95 = timed(
                lambda p=person, f=filtered: queues.list_queue(p, "my_teams", f),
                args.runs,
                args.warmup,
            )
            report("filtered page (high, hardware)", median, p95)
        db.dispose()
        bench_pages(url, bundle, queues, args.runs, args.warmup)
    finally:
        if not args.keep:
            engine_bench.drop_database(args.postgres_url, args.database)
    print(f"load average at the end: {engine_bench.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
