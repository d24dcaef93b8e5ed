"""Benchmark: tickets created per second through the REST API over HTTP, and their
notifications delivered (issues 7 and 23).

A fresh PostgreSQL database (`--database`, dropped at the end) gets the example bundle's
teams, an admin, the team members as agents and `--requesters` requesters, each with
an API token. The app is served by uvicorn in a child process: `--workers` (2) worker
processes, the httptools parser, uvloop. By default it is the full app as `gongdan serve
--workers 2` runs it (`gongdan.ui.app.create_app`), with its background work as users
run it: `--background in-process` (no broker: each web worker's runner delivers the
outbox in its threads), `--background process` (no broker: one `gongdan background`
process beside the web workers delivers, as `gongdan serve --workers N` runs it) or
`--background celery` (a `gongdan worker` on `--broker`, Redis). `--smtp`
mails the notifications to a local SMTP server (an aiosmtpd sink) instead of only
logging them. `--api-only` is the old mode: the API router alone, nothing delivered.

The client is this process: `--clients` (16) concurrent keep-alive connections (asyncio
streams speaking HTTP/1.1 directly: cheap, as it shares the cores with the server),
each POSTing `it_incident` tickets as one requester in turn (one in five as an agent on
behalf of a requester), the same mix as `bench/engine.py`; when the server closes a
connection after its last allowed request (`Connection: close`: the workers'
keep-alive limit, `ui.serving.KeepAliveLimit`; `--keepalive-requests`), the client
opens a new one, as any HTTP client does. After `--warmup` untimed
creates, `--creates` timed ones: creates/s, latency p50/p95/max as the client sees it.

Where the time goes: each worker times its own requests (a middleware around the
whole ASGI app) and, inside them, `TicketService.create_ticket` (the engine) and the
bearer-token lookup (auth). `GET /bench/stats` returns a worker's sums; the split is
printed as engine / auth / rest of the HTTP layer per create. The rest is FastAPI,
pydantic and JSON, and also the wait for a thread of the pool that runs sync routes
(`--threads` per worker; 0: `ui.serving.WORKER_THREADS`, as `gongdan serve`). Client
latency minus the worker's time is queueing, the socket and uvicorn. The workers tune
their garbage collector as `gongdan serve` does (`ui.serving`).
What the database sessions wait on during the timed run is sampled every 50 ms
(`pg_stat_activity`): a lock wait there means creates queue behind each other.

Before the server starts, `--in-process` creates of the same mix go straight through
`TicketService` in this process (one thread, no HTTP) as a baseline on the same
database under the same machine load.

After each timed round (`--rounds`, medians over them at the end), the outbox rows not
yet delivered are counted (the backlog, also in seconds of creates) and the time until
none is left (the drain); creates/s counting the drain counts only creates whose rows
were delivered. Delivery CPU per row: the runner's threads in the web workers, or the
Celery worker's whole process tree.

Targets (issue 23): >= 400 creates/s with every notification delivered (backlog <= 1 s
of creates, drained within 2 s), p95 <= 60 ms, delivery CPU <= 1 ms per logged
notification and <= 2 ms per mail. Nothing here asserts; it prints and exits 0.

    .venv/bin/python bench/api.py [--creates N] [--warmup N] [--clients N] [--workers N]
        [--rounds N] [--background in-process|process|celery] [--smtp] [--api-only]
        [--requesters N] [--in-process N] [--port P] [--database NAME] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = os.environ.get(
    "GONGDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TITLES = (
    "Outlook keeps crashing",
    "ERP shows error when posting invoices",
    "Wi-Fi drops in meeting room",
    "Laptop will not boot",
    "Cannot install the VPN client",
)

# --------------------------------------------------------------------------------------
# The server side: an app factory uvicorn imports in each worker (`api:bench_app`).

_STATS: dict[str, float] = {"requests": 0, "request_s": 0.0, "creates": 0, "engine_s": 0.0}
_STATS.update({"auth_s": 0.0, "auths": 0, "engine_cpu_s": 0.0, "auth_cpu_s": 0.0})
_STATS.update({"delivery_cpu_s": 0.0, "delivered": 0})


def bench_app() -> Any:
    """The app under test, built from $GONGDAN_DATABASE_URL, with timers."""
    from fastapi import FastAPI

    from gongdan.bundle.loader import load_bundle
    from gongdan.engine.accounts import tokens
    from gongdan.engine.service import TicketService
    from gongdan.engine.store.database import Database
    from gongdan.ui.api import api_router

    if os.environ.get("GONGDAN_BENCH_SWITCH"):
        import sys as _sys

        _sys.setswitchinterval(float(os.environ["GONGDAN_BENCH_SWITCH"]))
    config = os.environ.get("GONGDAN_CONFIG_DIR", str(ROOT / "config"))
    if os.environ.get("GONGDAN_BENCH_FULL_APP") == "1":
        from gongdan.ui.app import create_app

        _time_deliveries()
        app = create_app(config, database_url=os.environ["GONGDAN_DATABASE_URL"], prepare=False)
    else:
        app = FastAPI()
        bundle = load_bundle(config)
        app.state.bundle = bundle
        app.state.db = Database(os.environ["GONGDAN_DATABASE_URL"])
        app.state.service = TicketService(app.state.db, bundle)
        app.include_router(api_router)

    service = app.state.service
    create = service.create_ticket

    def timed_create(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return create(*args, **kwargs)
        finally:
            _STATS["engine_s"] += time.perf_counter() - started
            _STATS["engine_cpu_s"] += time.thread_time() - cpu
            _STATS["creates"] += 1

    service.create_ticket = timed_create
    authenticate = tokens.authenticate

    def timed_authenticate(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return authenticate(*args, **kwargs)
        finally:
            _STATS["auth_s"] += time.perf_counter() - started
            _STATS["auth_cpu_s"] += time.thread_time() - cpu
            _STATS["auths"] += 1

    # `deps` looked the function up at import; patch the name it calls.
    from gongdan.ui.api import deps

    deps.authenticate = timed_authenticate  # type: ignore[attr-defined]

    # As `gongdan serve` runs its workers (`ui.serving`): the collector tuned after
    # start-up, sync routes on WORKER_THREADS threads unless --threads says otherwise,
    # a connection closed after MAX_REQUESTS_PER_CONNECTION requests (the client
    # reconnects) unless --keepalive-requests says otherwise.
    from gongdan.ui.serving import WORKER_THREADS, KeepAliveLimit, tune_collector

    if os.environ.get("GONGDAN_BENCH_FULL_APP") != "1":
        limit = int(os.environ.get("GONGDAN_BENCH_KEEPALIVE", "0"))
        app.add_middleware(KeepAliveLimit, **({"max_requests": limit} if limit else {}))

    threads = int(os.environ.get("GONGDAN_BENCH_THREADS", "0")) or WORKER_THREADS

    @app.on_event("startup")
    async def limit_threads() -> None:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    @app.get("/bench/stats")
    def stats() -> dict[str, float]:
        return {**_STATS, "pid": os.getpid()}

    @app.get("/bench/reset")  # GET: the full app's CSRF check guards POSTs outside /api/
    def reset() -> dict[str, float]:
        for name in _STATS:
            _STATS[name] = 0
        return {"pid": os.getpid()}

    inner = app.build_middleware_stack

    def with_timer() -> Any:
        stack = inner()

        async def timed(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope["path"].startswith("/bench/"):
                await stack(scope, receive, send)
                return
            started = time.perf_counter()
            try:
                await stack(scope, receive, send)
            finally:
                _STATS["request_s"] += time.perf_counter() - started
                _STATS["requests"] += 1

        return timed

    app.build_middleware_stack = with_timer  # type: ignore[method-assign]
    tune_collector()
    return app


def _time_deliveries() -> None:
    """Count the CPU time of the in-process runner's deliveries (its threads'), and the
    rows they settled, in `_STATS` (`delivery_cpu_s`, `delivered`): whichever of the
    runner's entry points this version has (`deliver_due` per batch; `deliver` per
    row and `relay_once` before issue 23)."""
    from gongdan.engine.outbox import runner

    for name in ("deliver_due", "deliver", "relay_once"):
        original = getattr(runner, name, None)
        if original is None:
            continue

        def timed(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            cpu = time.thread_time()
            try:
                result = __original(*args, **kwargs)
            finally:
                _STATS["delivery_cpu_s"] += time.thread_time() - cpu
            if isinstance(result, dict):
                _STATS["delivered"] += len(result)
            elif isinstance(result, str):
                _STATS["delivered"] += 1
            return result

        setattr(runner, name, timed)


# --------------------------------------------------------------------------------------
# Setup


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup(url: str, requesters: int) -> tuple[list[str], list[str], list[str]]:
    """Users, teams and tokens; returns (agent tokens, requester tokens, requester emails)."""
    from gongdan.bundle.loader import load_bundle
    from gongdan.engine.accounts.tokens import create_token
    from gongdan.engine.accounts.users import add_user, record_config_version, sync_teams
    from gongdan.engine.store.database import Database
    from gongdan.engine.unit_of_work import begin_write, utc_now
    from gongdan.rules.workflow import Actor

    bundle = load_bundle(ROOT / "config")
    db = Database(url)
    db.upgrade()
    now = utc_now()
    emails = sorted({m.user for team in bundle.teams.values() for m in team.members})
    with begin_write(db, bundle, Actor.system(), now) as ctx:
        agents = [add_user(ctx, e, role="agent") for e in emails]
        people = [
            add_user(ctx, f"requester{i}@customer.example.com", role="requester")
            for i in range(requesters)
        ]
        sync_teams(ctx)
        record_config_version(ctx)
        agent_tokens = [create_token(ctx, u, "bench")[1] for u in agents]
        requester_tokens = [create_token(ctx, u, "bench")[1] for u in people]
        requester_emails = [u.email for u in people]
    db.dispose()
    return agent_tokens, requester_tokens, requester_emails


def in_process_rate(url: str, count: int, seed: int) -> tuple[float, float]:
    """Creates/s and p95 (ms) of the same mix through `TicketService` in this process,
    one thread, no HTTP: what the engine alone does on this database right now."""
    from sqlalchemy import select

    from gongdan.bundle.loader import load_bundle
    from gongdan.engine.accounts.users import actor_for
    from gongdan.engine.service import TicketService
    from gongdan.engine.store.database import Database
    from gongdan.engine.store.models import User

    db = Database(url)
    service = TicketService(db, load_bundle(ROOT / "config"))
    with db.reading() as session:
        users = list(session.scalars(select(User).order_by(User.id)))
        agents = [actor_for(session, u) for u in users if u.role == "agent"]
        people = [actor_for(session, u) for u in users if u.role == "requester"]
    rng = random.Random(seed)
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        if i % 5 == 4:
            who, values = agents[i % len(agents)], body(rng, rng.choice(people).email)
        else:
            who, values = rng.choice(people), body(rng, None)
        one = time.perf_counter()
        service.create_ticket(who, values.pop("type"), **values)
        latencies.append(time.perf_counter() - one)
    seconds = time.perf_counter() - started
    db.dispose()
    return count / seconds, percentile(latencies, 95) * 1000


def server_env(args: argparse.Namespace, url: str) -> dict[str, str]:
    """The environment of the web workers (and of the Celery worker): the background
    work as users run it. In-process: no broker, the web workers' runner delivers.
    Celery: the broker set, `gongdan worker` delivers. --api-only: a broker URL keeps
    background work out of the web workers and nobody delivers (the old mode)."""
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": url,
        "GONGDAN_CONFIG_DIR": str(ROOT / "config"),
        "GONGDAN_BENCH_FULL_APP": "0" if args.api_only else "1",
        "GONGDAN_BENCH_THREADS": str(args.threads),
        "GONGDAN_BENCH_KEEPALIVE": str(args.keepalive_requests),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "bench"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    env.pop("GONGDAN_SMTP_URL", None)
    if args.api_only or args.background == "celery":
        env["GONGDAN_BROKER_URL"] = args.broker
    else:
        env.pop("GONGDAN_BROKER_URL", None)
    env.pop("GONGDAN_BACKGROUND", None)
    if args.background == "process" and not args.api_only:
        env["GONGDAN_BACKGROUND"] = "process"  # the web workers leave it to `gongdan background`
    if args.smtp_port:
        env["GONGDAN_SMTP_URL"] = f"smtp://127.0.0.1:{args.smtp_port}"
    return env


def start_server(args: argparse.Namespace, url: str) -> subprocess.Popen[bytes]:
    env = server_env(args, url)
    command = [
        sys.executable, "-m", "uvicorn", "api:bench_app", "--factory",
        "--host", "127.0.0.1", "--port", str(args.port),
        "--workers", str(args.workers), "--http", "httptools", "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - our own command
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{args.port}/bench/stats", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited with {server.returncode}")
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("uvicorn did not answer within 60 s")


def start_background(args: argparse.Namespace, url: str) -> subprocess.Popen[bytes]:
    """`gongdan background`, the process `gongdan serve --workers N --background
    process` starts beside its web workers when there is no broker (`ui.background`)."""
    return start_gongdan(args, url, ["background"])


def start_celery(args: argparse.Namespace, url: str) -> subprocess.Popen[bytes]:
    """`gongdan worker` (Celery with beat, its default pool and concurrency) as users
    run it, on the bench's broker; its queue emptied first."""
    import redis

    redis.Redis.from_url(args.broker).flushdb()
    beat = Path(tempfile.mkdtemp(prefix="gongdan-bench-")) / "beat"
    return start_gongdan(
        args, url, ["worker", "--", "--loglevel", "warning", "--schedule", str(beat)]
    )


def start_gongdan(
    args: argparse.Namespace, url: str, arguments: list[str]
) -> subprocess.Popen[bytes]:
    """`gongdan --config config <arguments>` in a session of its own, with the
    server's environment; exits the bench if it dies within a second."""
    command = [str(Path(sys.executable).parent / "gongdan"), "--config", str(ROOT / "config"),
               *arguments]  # fmt: skip
    if not Path(command[0]).exists():
        command[0:1] = [sys.executable, "-m", "gongdan.cli"]
    process = subprocess.Popen(  # noqa: S603 - our own command
        command, env=server_env(args, url), cwd=ROOT, start_new_session=True
    )
    time.sleep(1)
    if process.poll() is not None:
        raise SystemExit(f"gongdan {arguments[0]} exited with {process.returncode}")
    return process


def start_smtp_sink(port: int) -> subprocess.Popen[bytes]:
    """A local SMTP server that accepts every mail and drops it (aiosmtpd's Sink)."""
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
               "-c", "aiosmtpd.handlers.Sink"]  # fmt: skip
    sink = subprocess.Popen(command)  # noqa: S603 - our own command
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return sink
        except OSError:
            time.sleep(0.1)
    sink.terminate()
    raise SystemExit("the SMTP sink did not start")


def outbox_counts(url: str) -> tuple[int, int]:
    """(rows not done, rows in all) of the outbox."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE done_at IS NULL), count(*) FROM outbox"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def undelivered(url: str) -> dict[str, int]:
    """Rows settled otherwise than delivered (a bench counts only delivered rows)."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        return {
            str(status): int(count)
            for status, count in conn.execute(
                "SELECT status, count(*) FROM outbox WHERE status <> 'delivered' GROUP BY 1"
            )
        }


def wait_drained(url: str, limit: float) -> float | None:
    """Seconds until no outbox row is left to do (None: not within `limit`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if outbox_counts(url)[0] == 0:
            return time.perf_counter() - started
        time.sleep(0.02)
    return None


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, seconds in used.items():
        walk = pid
        while walk > 1 and walk != root_pid:
            walk = parents.get(walk, 0)
        if walk == root_pid:
            total += seconds
    return total


# --------------------------------------------------------------------------------------
# The client


def body(rng: random.Random, requester: str | None) -> dict[str, Any]:
    category = rng.choice(["software", "software", "network", "access", "hardware"])
    fields: dict[str, Any] = {
        "category": category,
        "impact": rng.choice(["me", "me", "team", "company"]),
    }
    if category == "hardware":
        fields["device_serial"] = f"PC-{rng.randrange(10**6):06d}"
    out: dict[str, Any] = {
        "type": "it_incident",
        "title": rng.choice(TITLES),
        "description": "Created by bench/api.py.",
        "fields": fields,
    }
    if requester is not None:
        out["requester"] = requester
    return out


async def run_clients(
    base: str,
    count: int,
    clients: int,
    agent_tokens: Sequence[str],
    requester_tokens: Sequence[str],
    requester_emails: Sequence[str],
    seed: int,
) -> tuple[float, list[float], int]:
    """`count` creates from `clients` concurrent keep-alive connections: (seconds,
    latencies, errors). The client speaks HTTP/1.1 on asyncio streams itself: it shares
    the machine's two cores with the server, and httpx spent ~1.5 ms of CPU per request
    (measured with `cpu_seconds`), a sixth of the machine at 200 creates/s."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    queue = iter(range(count))

    async def client(number: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 1000 + number)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i in queue:
                if i % 5 == 4:
                    token = agent_tokens[i % len(agent_tokens)]
                    requester = requester_emails[rng.randrange(len(requester_emails))]
                else:
                    who = rng.randrange(len(requester_tokens))
                    token, requester = requester_tokens[who], None
                payload = json.dumps(body(rng, requester)).encode()
                started = time.perf_counter()
                writer.write(
                    b"POST /api/v1/tickets HTTP/1.1\r\nHost: %s\r\n"
                    b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s"
                    % (host.encode(), token.encode(), len(payload), payload)
                )
                status, text, closes = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if closes:  # as any HTTP client does: a new connection for the next one
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                if status != 201:
                    errors += 1
                    if errors <= 3:
                        print(f"  error {status}: {text[:300]}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return time.perf_counter() - started, latencies, errors


async def read_response(reader: asyncio.StreamReader) -> tuple[int, str, bool]:
    """One HTTP/1.1 response with a Content-Length (uvicorn sends one for JSON):
    (status, body, whether the server closes the connection after it)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    closes = any(line.lower().replace(" ", "") == "connection:close" for line in lines)
    return status, (await reader.readexactly(length)).decode(), closes


class WaitSampler:
    """Samples what the database's active sessions wait on, every 50 ms, in a thread:
    shows whether creates queue on a lock (e.g. the per-type number counter) or on
    the server's CPU/IO."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        # A lock wait is named with the statement waiting (its first words).
        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') "
            "|| CASE WHEN wait_event_type = 'Lock' THEN ' on ' || left(regexp_replace("
            "query, '\\s+', ' ', 'g'), 48) ELSE '' END, count(*) "
            "FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND pid <> pg_backend_pid() GROUP BY 1"
        )
        with psycopg.connect(conninfo(self.url), autocommit=True) as conn:
            while not self._stop.wait(0.05):
                self.samples += 1
                for what, count in conn.execute(query, (self.name,)):
                    self.counts[what] = self.counts.get(what, 0) + count

    def report(self) -> None:
        if not self.samples:
            return
        print(f"PostgreSQL sessions of the bench database, mean over {self.samples} samples:")
        for what, count in sorted(self.counts.items(), key=lambda kv: -kv[1])[:6]:
            print(f"  {count / self.samples:5.2f} sessions  {what}")


def worker_stats(
    base: str, workers: int, path: str = "/bench/stats"
) -> dict[int, dict[str, float]]:
    """One answer from each worker (connections are spread by the kernel)."""
    seen: dict[int, dict[str, float]] = {}
    for _ in range(200):
        with httpx.Client(base_url=base) as http:  # a new connection each time
            response = http.get(path)
        seen[int(response.json()["pid"])] = response.json()
        if len(seen) >= workers:
            break
    return seen


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the uvicorn processes, by every
    PostgreSQL process and by this client process, from /proc (Linux): where the
    machine's two cores go per create."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    out = {"uvicorn workers": 0.0, "PostgreSQL": 0.0, "client (this process)": 0.0}
    for pid, (name, seconds) in used.items():
        if pid == os.getpid():
            out["client (this process)"] += seconds
        elif name.startswith("postgres"):
            out["PostgreSQL"] += seconds
        elif pid == server_pid or parents.get(pid) == server_pid:
            out["uvicorn workers"] += seconds
    return out


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requesters", type=int, default=50)
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="serve the API router alone and deliver nothing (the old mode)",
    )
    parser.add_argument(
        "--background",
        choices=("in-process", "process", "celery"),
        default="in-process",
        help="who delivers the outbox: the web workers' runner, or `gongdan worker`",
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    parser.add_argument(
        "--smtp", action="store_true", help="mail notifications to a local SMTP sink (aiosmtpd)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds (medians over them)")
    parser.add_argument(
        "--drain-limit", type=float, default=120, help="seconds to wait for the outbox to drain"
    )
    parser.add_argument("--port", type=int, default=0, help="the server's port (0: a free one)")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per worker for sync routes (0: as serve)"
    )
    parser.add_argument(
        "--in-process", type=int, default=0, help="baseline creates without HTTP (0: skip)"
    )
    parser.add_argument(
        "--keepalive-requests",
        type=int,
        default=0,
        help="requests per connection before the server closes it (0: as serve)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="gongdan_bench_api")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    if not args.database.startswith("gongdan_bench"):
        parser.error("--database must start with gongdan_bench")
    args.smtp_port = _free_port() if args.smtp else 0
    args.port = args.port or _free_port()

    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    url = create_database(args.postgres_url, args.database)
    server = worker = sink = None
    try:
        agent_tokens, requester_tokens, emails = setup(url, args.requesters)
        if args.in_process:
            rate, p95 = in_process_rate(url, args.in_process, args.seed)
            print(
                f"in-process baseline (TicketService, 1 thread, no HTTP, {args.in_process} "
                f"creates): {rate:.1f} creates/s, p95 {p95:.1f} ms"
            )
        if args.smtp:
            sink = start_smtp_sink(args.smtp_port)
        server = start_server(args, url)
        if not args.api_only and args.background == "celery":
            worker = start_celery(args, url)
        if not args.api_only and args.background == "process":
            worker = start_background(args, url)
        base = f"http://127.0.0.1:{args.port}"
        app = "API router alone, nothing delivered" if args.api_only else "full app"
        delivery = (
            ""
            if args.api_only
            else f"; delivery: {args.background}"
            + (", mail to a local SMTP sink" if args.smtp else ", notifications logged")
        )
        print(
            f"uvicorn: {args.workers} workers, httptools, uvloop; {app}{delivery}; "
            f"{args.clients} concurrent clients; PostgreSQL"
        )
        asyncio.run(
            run_clients(base, args.warmup, args.clients, agent_tokens, requester_tokens, emails, 0)
        )
        if not args.api_only:
            wait_drained(url, args.drain_limit)
        rounds = [
            timed_round(args, url, base, server, worker, agent_tokens, requester_tokens, emails, n)
            for n in range(args.rounds)
        ]
        if len(rounds) > 1:
            summarize(rounds, api_only=args.api_only)
        problems = {} if args.api_only else undelivered(url)
        if problems:
            print(f"outbox rows not delivered: {problems}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        for process in (server, worker, sink):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        drop_database(args.postgres_url, args.database)
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def timed_round(
    args: argparse.Namespace,
    url: str,
    base: str,
    server: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes] | None,
    agent_tokens: Sequence[str],
    requester_tokens: Sequence[str],
    emails: Sequence[str],
    number: int,
) -> dict[str, float]:
    """One timed round: the creates, then (full app) the backlog left at the end of
    the timed part and the time to drain it. Prints it; returns its figures."""
    print(f"-- round {number + 1} (load average {os.getloadavg()[0]:.2f})")
    worker_stats(base, args.workers, "/bench/reset")
    cpu_before = cpu_seconds(server.pid)
    worker_cpu_before = tree_cpu_seconds(worker.pid) if worker is not None else 0.0
    rows_before = 0 if args.api_only else outbox_counts(url)[1]
    with WaitSampler(args.postgres_url, args.database) as waits:
        seconds, latencies, errors = asyncio.run(
            run_clients(
                base,
                args.creates,
                args.clients,
                agent_tokens,
                requester_tokens,
                emails,
                args.seed + number,
            )
        )
    out: dict[str, float] = {}
    if not args.api_only:
        backlog, rows_after = outbox_counts(url)
        drained = wait_drained(url, args.drain_limit)
        out["backlog"] = backlog
        out["rows"] = rows_after - rows_before
        out["drain_s"] = drained if drained is not None else float("inf")
    cpu_after = cpu_seconds(server.pid)
    worker_cpu = (tree_cpu_seconds(worker.pid) - worker_cpu_before) if worker else 0.0
    stats = worker_stats(base, args.workers)
    rate = len(latencies) / seconds
    p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
    out.update(rate=rate, p50=p50, p95=p95, errors=errors)
    print(f"creates: {len(latencies)} in {seconds:.2f} s, {errors} errors")
    print(f"  creates/s: {rate:8.1f}   target >= 400: {'OK' if rate >= 400 else 'MISSED'}")
    print(f"  p50: {p50:6.1f} ms   p95: {p95:6.1f} ms   target p95 <= 60 ms: "
          f"{'OK' if p95 <= 60 else 'MISSED'}   max: {max(latencies) * 1000:.1f} ms   "
          f"mean: {statistics.fmean(latencies) * 1000:.1f} ms")  # fmt: skip
    if not args.api_only:
        backlog_s = out["backlog"] / rate
        drain = out["drain_s"]
        delivered_rate = len(latencies) / (seconds + drain)
        out.update(backlog_s=backlog_s, delivered_rate=delivered_rate)
        print(f"  outbox: {int(out['rows'])} rows written; {int(out['backlog'])} not yet "
              f"delivered at the end of the timed part ({backlog_s:.2f} s of creates; "
              f"target <= 1 s: {'OK' if backlog_s <= 1 else 'MISSED'}), drained in "
              f"{drain:.2f} s (target <= 2 s: {'OK' if drain <= 2 else 'MISSED'})")  # fmt: skip
        print(f"  creates/s counting the drain (creates delivered): {delivered_rate:8.1f}")
    totals = {k: sum(s.get(k, 0.0) for s in stats.values()) for k in _STATS}
    if totals["creates"]:
        per = totals["creates"]
        request_ms = totals["request_s"] / per * 1000
        engine_ms = totals["engine_s"] / per * 1000
        auth_ms = totals["auth_s"] / per * 1000
        rest_ms = request_ms - engine_ms - auth_ms
        print(f"in the workers, per create (sums of {len(stats)} workers, "
              f"{int(per)} creates counted):")  # fmt: skip
        for name, value in (
            ("engine (TicketService.create_ticket)", engine_ms),
            ("auth (bearer token lookup)", auth_ms),
            ("HTTP layer (FastAPI, JSON, thread wait)", rest_ms),
            ("whole request in the worker", request_ms),
        ):
            print(f"  {name:40s} {value:6.1f} ms  {value / request_ms * 100:5.1f} %")
        print(f"  CPU time of the thread: engine {totals['engine_cpu_s'] / per * 1000:.2f} ms, "
              f"auth {totals['auth_cpu_s'] / per * 1000:.2f} ms per create")  # fmt: skip
        print(f"  client latency - worker time (queueing, sockets, uvicorn): "
              f"{statistics.fmean(latencies) * 1000 - request_ms:.1f} ms")  # fmt: skip
    if not args.api_only and out.get("rows"):
        if worker is not None:
            out["delivery_ms"] = worker_cpu / out["rows"] * 1000
            print(f"  delivery CPU (the {args.background} worker's processes): "
                  f"{out['delivery_ms']:.2f} ms per outbox row")  # fmt: skip
        elif totals["delivered"]:
            out["delivery_ms"] = totals["delivery_cpu_s"] / totals["delivered"] * 1000
            print(f"  delivery CPU (the runner's threads in the web workers): "
                  f"{out['delivery_ms']:.2f} ms per outbox row "
                  f"({int(totals['delivered'])} rows)")  # fmt: skip
    waits.report()
    print(f"CPU per create (of {os.cpu_count()} cores; a full machine is "
          f"{(os.cpu_count() or 1) * 1000 / rate:.1f} ms per create at this rate):")  # fmt: skip
    for name in cpu_before:
        spent = (cpu_after[name] - cpu_before[name]) / len(latencies) * 1000
        out[f"cpu {name}"] = spent
        print(f"  {name:24s} {spent:5.2f} ms")
    if worker is not None:
        print(f"  {'Celery worker':24s} {worker_cpu / len(latencies) * 1000:5.2f} ms")
    return out


def summarize(rounds: list[dict[str, float]], *, api_only: bool) -> None:
    """Median, min and max of each figure over the rounds."""
    print(f"== over {len(rounds)} rounds: median (min .. max)")
    names = ["rate", "p50", "p95"]
    if not api_only:
        names += ["backlog_s", "drain_s", "delivered_rate", "delivery_ms"]
    for name in names:
        values = [r[name] for r in rounds if name in r]
        if values:
            print(f"  {name:16s} {statistics.median(values):8.2f} "
                  f"({min(values):.2f} .. {max(values):.2f})")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
