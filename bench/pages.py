"""Benchmark: server time of the desk's ticket page at `--rows` (100,000) tickets on PostgreSQL.

The tickets are bulk-loaded with COPY by `bench/engine.py`'s loader (five ticket types,
realistic custom data, states by age, teams and assignees from `config/teams/`). Then a
few tickets are made the way agents make them, through `TicketService` — created by a
requester, routed, started, with public replies and internal notes — so their pages
carry a real timeline, SLA clocks and an agent form. The app (`create_app`, the example
config) answers `GET /desk/tickets/{key}` for a signed-in service-desk agent in this
process (Starlette's TestClient: no network, so the time is the server's: routing,
session, the reads, the templates). Timed `--runs` times after `--warmup` untimed
requests, per ticket kind; printed: median and p95 wall time in ms next to the 30 ms
target, the median CPU time of this process per page (Python: app, templates, driver; it
moves much less than wall time when other work shares the machine), the SQL statements
one page runs, and the reads alone (without routing, session and templates).

Nothing asserts; the figures depend on the machine (the load average is printed). The
bench database is named `--database` (must start with `gongdan_bench`) and dropped at
the end unless `--keep`.

    .venv/bin/python bench/pages.py [--rows N] [--runs N] [--warmup N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench

from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.users import actor_for, add_user
from gongdan.engine.service import TicketService
from gongdan.engine.store.models import User
from gongdan.engine.unit_of_work import begin_write
from gongdan.rules.workflow import Actor

PAGE_TARGET_MS = 30.0
PASSWORD = "bench-password"  # noqa: S105 - a throwaway account in a throwaway database


def timed(call: Callable[[], Any], runs: int, warmup: int) -> tuple[float, float, float]:
    """Median and p95 wall time in ms, and the median CPU time of this process in ms
    (less sensitive than wall time to other work on a shared machine)."""
    for _ in range(warmup):
        call()
    samples, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95, statistics.median(cpu)


def report(
    what: str, figures: tuple[float, float, float], target: float | None = PAGE_TARGET_MS
) -> None:
    median, p95, cpu = figures
    verdict = "" if target is None else ("  ok" if p95 <= target else "  MISSED")
    print(f"  {what:<52} median {median:6.1f} ms   p95 {p95:6.1f} ms   cpu {cpu:5.1f} ms{verdict}")


def worked_tickets(service: TicketService, agent: Actor, requester: Actor) -> dict[str, str]:
    """Tickets with a history, made through the service: key by kind."""
    fresh = service.create_ticket(
        requester, "it_incident", title="Outlook keeps crashing",
        description="Since this morning's update **every** time I open a PDF.",
        fields={"category": "software", "impact": "team"},
    ).ticket  # fmt: skip
    worked = service.create_ticket(
        requester, "it_incident", title="ERP shows an error when posting invoices",
        description="Error 0x80040154 on the posting screen.",
        fields={"category": "software", "impact": "me"},
    ).ticket  # fmt: skip
    service.assign(Actor.system(), worked.key, team="service_desk", assignee=agent.email)
    service.take_transition(agent, worked.key, "start")
    for n in range(6):
        service.add_comment(agent, worked.key, f"Looking at the logs, step {n}.", public=n % 2 == 0)
        service.add_comment(requester, worked.key, f"Thanks, here is more detail #{n}.")
    service.update_ticket(agent, worked.key, {"priority": "high", "tags": ["erp", "finance"]})
    return {"new ticket, 1 event": fresh.key, "worked ticket, ~20 timeline items": worked.key}


def agent_account(db: Any, bundle: Any, now: datetime) -> tuple[Actor, Actor]:
    """A service-desk agent who can sign in, and a requester."""
    email = bundle.teams["service_desk"].members[0].user
    with begin_write(db, bundle, Actor.system(), now) as ctx:
        session = ctx.session
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        user.password_hash = PasswordHasher().hash(PASSWORD)
        requester = add_user(ctx, "bench.requester@example.com", role="requester")
        session.flush()
        return actor_for(session, user), actor_for(session, requester)


def count_statements(engine: Any, call: Callable[[], Any]) -> int:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", default="gongdan_bench_pages")
    parser.add_argument("--postgres-url", default=engine_bench.DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    if not args.database.startswith("gongdan_bench") or not args.database.isidentifier():
        parser.error("--database must be an identifier starting with 'gongdan_bench'")
    os.environ.setdefault("GONGDAN_DATA_DIR", tempfile.mkdtemp(prefix="gongdan-bench-"))
    os.environ.setdefault("GONGDAN_BROKER_URL", "memory://")  # no in-process runner
    from fastapi.testclient import TestClient

    from gongdan.ui.app import create_app

    bundle = load_bundle(engine_bench.CONFIG_DIR)
    print(f"{os.cpu_count()} CPUs, load average at start: {engine_bench.load()}")
    print(f"loading {args.rows:,} tickets …")
    url = engine_bench.load_list_database(args, bundle)
    try:
        app = create_app(engine_bench.CONFIG_DIR, database_url=url)
        db, service = app.state.db, app.state.service
        agent, requester = agent_account(db, bundle, datetime.now(UTC))
        keys = worked_tickets(service, agent, requester)
        client = TestClient(app)
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/login").text)
        assert token is not None
        signed_in = client.post(
            "/login",
            data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        print(f"ticket page of a service-desk agent ({agent.email}):")
        for kind, key in keys.items():
            path = f"/desk/tickets/{key}"
            assert client.get(path).status_code == 200
            statements = count_statements(db.engine, lambda p=path: client.get(p))
            figures = timed(lambda p=path: client.get(p), args.runs, args.warmup)
            report(f"{kind} ({statements} SQL statements)", figures)
        from starlette.requests import Request

        from gongdan.engine.accounts.users import get_account
        from gongdan.ui.routes.desk.tickets import page_context

        with db.reading() as session:
            account = get_account(session, agent.user_id)
        scope = {"type": "http", "headers": [], "session": {}, "app": app, "path": "/"}
        request = Request(scope)
        request.state.account = account
        key = keys["worked ticket, ~20 timeline items"]
        figures = timed(
            lambda: page_context(request, service, account, key), args.runs, args.warmup
        )
        report("  of which the reads (page_context)", figures, None)
        db.dispose()
    finally:
        if not args.keep:
            engine_bench.drop_database(args.postgres_url, args.database)
    print(f"load average at the end: {engine_bench.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
