"""The real thing: Redis and a Celery worker (with beat) started by the test as a
subprocess, delivering webhooks to a loopback receiver.

- A ticket's webhook arrives signed (the worker started through `gongdan worker`).
- A worker killed (SIGKILL) in the middle of a delivery and started again: the
  receiver, deduplicating on X-Gongdan-Delivery, sees the delivery exactly once.
- Redis stopped while 100 tickets are created (all succeed), then started again:
  every outbox row is delivered, none lost. This test runs its own redis-server on
  another loopback port, so the shared one is not disturbed.

Without Redis these tests skip, or fail under GONGDAN_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import select

from gongdan.bundle.loader import load_bundle
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Base, Outbox
from tests.conftest import service_unavailable
from tests.factories import make_user
from tests.helpers import free_port, wait_until
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle

SHARED_REDIS = os.environ.get("GONGDAN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
LEASE_SECONDS = 4  # how soon a row whose worker died is delivered again
BIN = Path(sys.executable).parent


def ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


class Worker:
    """`celery -A gongdan.tasks worker --beat --pool solo` in its own process group
    (beat runs in a child process), so killing the group leaves nothing behind."""

    def __init__(self, root: Path, env: dict[str, str], *, via_cli: bool = False) -> None:
        self.root, self.env, self.via_cli = root, env, via_cli
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / f"worker-{uuid.uuid4().hex[:8]}.log"

    def start(self) -> Worker:
        options = [
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "--schedule",
            str(self.root / "beat-schedule"),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if self.via_cli:
            command = [str(BIN / "gongdan"), "worker", *options]
        else:
            command = [sys.executable, "-m", "celery", "-A", "gongdan.tasks", "worker", "--beat"]
            command += options
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        ready = wait_until(lambda: " ready." in self.output() or process.poll() is not None, 60)
        assert ready and process.poll() is None, self.output()
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(20)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """A database of the shared Redis that no one else uses during this test."""
    if not ping(SHARED_REDIS):
        service_unavailable(f"Redis is not reachable at {SHARED_REDIS}")
    url = f"{SHARED_REDIS}/{8 + os.getpid() % 8}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    database = Database(url)
    database.upgrade()
    database.dispose()
    return url


def worker_env(broker: str, database_url: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGDAN_")}
    return {
        **env,
        "GONGDAN_BROKER_URL": broker,
        "GONGDAN_DATABASE_URL": database_url,
        "GONGDAN_CONFIG_DIR": str(config),
        "GONGDAN_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        SECRET_ENV: SECRET.decode(),
    }


def outbox(db: Database) -> list[Outbox]:
    with db.reading() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def all_delivered(db: Database) -> bool:
    return all(row.status == "delivered" for row in outbox(db))


def test_a_worker_delivers_a_ticket_webhook_signed(
    tmp_path: Path, receiver: Receiver, shared_redis: str, sqlite_url: str, workers: list[Worker]
) -> None:
    config = webhook_bundle(tmp_path, receiver.url)
    env = worker_env(shared_redis, sqlite_url, config)
    workers.append(Worker(tmp_path, env, via_cli=True).start())
    db = Database(sqlite_url)
    service = TicketService(db, load_bundle(config))
    agent = make_user(db, "li.wei@example.com", "agent")
    key = service.create_ticket(agent, "incident", title="Badge reader offline").ticket.key

    (request,) = receiver.wait_for(1, timeout=30)
    assert request.signed(), workers[0].output()
    assert request.path == "/created"
    assert wait_until(lambda: all_delivered(db), 30), workers[0].output()
    hook = next(row for row in outbox(db) if row.topic == "webhook")
    assert request.delivery == str(hook.id)
    assert hook.payload["ticket"] == key and hook.attempts == 1
    db.dispose()


def test_a_worker_killed_mid_delivery_delivers_exactly_once_after_restart(
    tmp_path: Path, receiver: Receiver, shared_redis: str, sqlite_url: str, workers: list[Worker]
) -> None:
    receiver.answer = lambda n: (200, 3.0 if n == 0 else 0.0)  # the first one hangs
    config = webhook_bundle(tmp_path, receiver.url)
    env = worker_env(shared_redis, sqlite_url, config)
    workers.append(Worker(tmp_path, env).start())
    db = Database(sqlite_url)
    service = TicketService(db, load_bundle(config))
    agent = make_user(db, "li.wei@example.com", "agent")
    service.create_ticket(agent, "incident", title="Label printer offline")

    receiver.wait_for(1, timeout=30)
    workers[0].kill()  # SIGKILL while the receiver is still answering
    hook = next(row for row in outbox(db) if row.topic == "webhook")
    assert (hook.status, hook.attempts) == ("pending", 1)

    workers.append(Worker(tmp_path, env).start())
    assert wait_until(lambda: all_delivered(db), 40), workers[1].output()
    time.sleep(LEASE_SECONDS / 2)  # room for a duplicate to show up, if there were one
    assert receiver.deliveries() == {str(hook.id)}  # exactly once, deduplicated
    assert len(receiver.requests) == 2  # the cut-short attempt and the one that landed
    assert all(r.signed() for r in receiver.requests)
    (hook,) = [row for row in outbox(db) if row.id == hook.id]
    assert (hook.status, hook.attempts) == ("delivered", 2)
    db.dispose()


class RedisServer:
    """A redis-server of this test's own on a free loopback port (no persistence)."""

    def __init__(self, executable: str, root: Path) -> None:
        self.executable, self.root, self.port = executable, root, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), *options, "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_until(lambda: ping(self.url), 10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        assert not ping(self.url)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    executable = shutil.which("redis-server")
    if executable is None:
        service_unavailable("redis-server is not installed")
    assert executable is not None
    server = RedisServer(executable, tmp_path)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(10)


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    database = Database(postgres_url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()
    yield postgres_url


def test_tickets_created_while_redis_is_down_are_all_delivered_when_it_is_back(
    tmp_path: Path,
    receiver: Receiver,
    own_redis: RedisServer,
    postgres: str,
    workers: list[Worker],
) -> None:
    own_redis.start()
    config = webhook_bundle(tmp_path, receiver.url)
    env = worker_env(own_redis.url, postgres, config)
    workers.append(Worker(tmp_path, env).start())
    db = Database(postgres)
    service = TicketService(db, load_bundle(config))
    agent = make_user(db, "li.wei@example.com", "agent")
    service.create_ticket(agent, "incident", title="Before the outage")
    assert receiver.wait_for(1, timeout=30), workers[0].output()

    own_redis.stop()
    keys = [
        service.create_ticket(agent, "incident", title=f"During the outage {n}").ticket.key
        for n in range(100)
    ]
    assert len(set(keys)) == 100  # every ticket was created with Redis down
    assert wait_until(lambda: "Cannot connect to redis" in workers[0].output(), 10)
    assert len(receiver.requests) == 1  # nothing got through meanwhile
    own_redis.start()

    assert wait_until(lambda: all_delivered(db), 90), workers[0].output()[-5000:]
    rows = outbox(db)
    assert len(rows) == 202  # ticket.created and the webhook, for each of 101 tickets
    hooks = {str(row.id) for row in rows if row.topic == "webhook"}
    assert wait_until(lambda: receiver.deliveries() >= hooks, 10)
    assert receiver.deliveries() == hooks  # none lost, none unknown
    assert all(r.signed() for r in receiver.requests)
    db.dispose()


def test_a_burst_is_delivered_in_batch_tasks_soon_after_it_is_written(
    tmp_path: Path, receiver: Receiver, shared_redis: str, postgres: str, workers: list[Worker]
) -> None:
    # Issue 23: one task per batch, not per row, and no wait for beat's next round.
    config = webhook_bundle(tmp_path, receiver.url)
    env = worker_env(shared_redis, postgres, config)
    workers.append(Worker(tmp_path, env).start())
    db = Database(postgres)
    service = TicketService(db, load_bundle(config))
    agent = make_user(db, "li.wei@example.com", "agent")
    for n in range(30):
        service.create_ticket(agent, "incident", title=f"Burst {n}")

    assert wait_until(lambda: all_delivered(db), 60), workers[0].output()[-5000:]
    rows = outbox(db)
    assert len(rows) == 60 and {row.attempts for row in rows} == {1}
    hooks = {str(row.id) for row in rows if row.topic == "webhook"}
    assert wait_until(lambda: receiver.deliveries() == hooks, 10)
    assert len(receiver.requests) == 30  # each webhook once
    log = workers[0].output()
    batches = log.count("gongdan.tasks.deliver_outbox_batch[") // 2  # received, succeeded
    assert 1 <= batches < 30, log[-5000:]
    assert "gongdan.tasks.deliver_outbox[" not in log  # no task per row
    db.dispose()
