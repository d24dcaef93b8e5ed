"""The Celery app (`celery -A gongdan.tasks worker --beat`, or `gongdan worker`).

Tasks are thin and idempotent: they take ids, find the database through
`GONGDAN_DATABASE_URL` and the config bundle through a `LiveConfig` per process (the
database's active version, followed twice a second; in watch mode it also
promotes changes to `GONGDAN_CONFIG_DIR`), and call the same service functions the
in-process runner calls.
Beat runs `relay_outbox` every two seconds, each job of
`gongdan.engine.outbox.runner.SCHEDULED_JOBS` and, when `GONGDAN_IMAP_URL` is set,
`poll_mail`. Notifications go out by SMTP when `GONGDAN_SMTP_URL` is set.

Messages are acknowledged after the task ran (`task_acks_late`) and a worker takes one
at a time (`worker_prefetch_multiplier=1`), so a killed worker loses nothing: its
message goes back to the queue, and the row it was delivering is due again in the
outbox when its lease ends (`GONGDAN_OUTBOX_LEASE_SECONDS`, default 120).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from sqlalchemy.exc import InterfaceError, OperationalError

from gongdan.bundle.compiled import Bundle
from gongdan.channels import channels_for
from gongdan.channels.email.templates import check_templates
from gongdan.engine import (
    SCHEDULED_JOBS,
    Channels,
    Database,
    LiveConfig,
    OutboxWakeup,
    database_url,
    deliver,
    deliver_batch,
    find_job,
    lease_from_env,
    relay_batch,
    run_exclusively,
    start_config,
    utc_now,
)

__all__ = [
    "RELAY_BATCH",
    "RELAY_EVERY_SECONDS",
    "app",
    "deliver_outbox",
    "deliver_outbox_batch",
    "poll_mail",
    "relay_outbox",
    "run_scheduled_job",
]

log = logging.getLogger(__name__)

RELAY_BATCH = 100
RELAY_EVERY_SECONDS = 2.0
# Errors worth retrying the task for: the database is restarting or unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def _beat_schedule() -> dict[str, dict[str, Any]]:
    # A beat message older than a few periods is useless (the next one is on its way),
    # so it expires instead of piling up while workers are busy or down.
    schedule = {
        "relay-outbox": {
            "task": "gongdan.tasks.relay_outbox",
            "schedule": RELAY_EVERY_SECONDS,
            "options": {"expires": RELAY_EVERY_SECONDS * 5},
        }
    }
    for job in SCHEDULED_JOBS:
        schedule[f"job:{job.name}"] = {
            "task": "gongdan.tasks.run_scheduled_job",
            "schedule": job.every_seconds,
            "args": (job.name,),
            "options": {"expires": max(job.every_seconds * 5, 10.0)},
        }
    if os.environ.get("GONGDAN_IMAP_URL"):
        every = float(os.environ.get("GONGDAN_IMAP_POLL_SECONDS") or 60)
        schedule["poll-mail"] = {
            "task": "gongdan.tasks.poll_mail",
            "schedule": every,
            "options": {"expires": every * 2},
        }
    return schedule


app = Celery("gongdan")
app.conf.update(
    broker_url=os.environ.get("GONGDAN_BROKER_URL") or "memory://",
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    # With acks_late, a task whose worker process died is put back, not acknowledged.
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # A task running when the broker connection drops cannot be acknowledged any more:
    # cancel it (Celery 6's default); its row is delivered again when its lease ends.
    worker_cancel_long_running_tasks_on_connection_loss=True,
    timezone="UTC",
    enable_utc=True,
    beat_schedule=_beat_schedule(),
)

_lock = threading.Lock()
_state: dict[str, Any] = {}


def database() -> Database:
    """This process's database (`GONGDAN_DATABASE_URL`), opened on first use."""
    with _lock:
        if "db" not in _state:
            _state["db"] = Database(database_url())
        db: Database = _state["db"]
        return db


def live_config() -> LiveConfig:
    """This process's `LiveConfig`, started on first use (in each pool process: a
    forked child does not inherit its parent's thread)."""
    db = database()
    with _lock:
        live: LiveConfig | None = _state.get("live")
        if live is None or _state.get("live_pid") != os.getpid():
            config_dir = os.environ.get("GONGDAN_CONFIG_DIR", "config")
            live = start_config(db, config_dir, checks=check_templates)
            live.start()
            _state["live"], _state["live_pid"] = live, os.getpid()
        return live


def bundle() -> Bundle:
    """This process's current config bundle (the database's active version)."""
    return live_config().current()


def channels() -> Channels:
    """Where this process's side effects go: mail by SMTP when `GONGDAN_SMTP_URL` is
    set (`gongdan.channels.email`), else notifications are only logged. Built on first use."""
    with _lock:
        found: Channels | None = _state.get("channels")
    if found is None:
        from gongdan.channels.email.notifier import notifier_from_env  # only workers send mail

        found = channels_for(notifier_from_env(database(), bundle))
        with _lock:
            _state.setdefault("channels", found)
    return found


def lease() -> timedelta:
    return lease_from_env()


def _forget_parent_connections(**_: Any) -> None:
    # A forked pool process must not share the parent's database connections.
    with _lock:
        db = _state.pop("db", None)
    if db is not None:
        db.engine.dispose(close=False)


worker_process_init.connect(_forget_parent_connections, weak=False)


def _task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`app.task`, typed for mypy (Celery ships no type hints)."""
    decorator: Callable[[Callable[..., Any]], Any] = app.task(**options)
    return decorator


@_task(
    name="gongdan.tasks.deliver_outbox",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def deliver_outbox(outbox_id: int) -> str:
    """Deliver one outbox row (a no-op if it is done or being delivered elsewhere)."""
    return deliver(database(), int(outbox_id), utc_now(), channels=channels(), lease=lease())


@_task(
    name="gongdan.tasks.deliver_outbox_batch",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def deliver_outbox_batch(outbox_ids: list[int]) -> dict[str, str]:
    """Deliver the outbox rows a relay claimed together, as one batch
    (`deliver_batch`: each row a no-op if it is done or being delivered elsewhere)."""
    ids = [int(i) for i in outbox_ids]
    outcomes = deliver_batch(database(), ids, utc_now(), channels=channels(), lease=lease())
    return {str(k): v for k, v in outcomes.items()}


@_task(name="gongdan.tasks.relay_outbox")
def relay_outbox() -> int:
    """Hand the due outbox rows to `deliver_outbox_batch` tasks, one per batch of up to
    `RELAY_BATCH`: batch after batch while there is a backlog, for at most about one
    beat period."""
    return relay_for(RELAY_EVERY_SECONDS)


def relay_for(seconds: float, batch: int = RELAY_BATCH) -> int:
    """Claim due rows and queue them as batch tasks until none is left or `seconds`
    have passed; returns how many rows were queued. If the broker refuses a batch,
    its rows are released at once (`relay_batch`) and the error raised."""
    deadline = time.monotonic() + seconds
    relayed = 0
    while True:
        count = relay_batch(database(), _enqueue_batch, utc_now(), batch, lease=lease())
        relayed += count
        if count < batch or time.monotonic() >= deadline:
            return relayed


def _enqueue_batch(outbox_ids: list[int]) -> None:
    deliver_outbox_batch.apply_async((outbox_ids,))


class RelayWatch:
    """The relay of a Celery worker's main process: it claims due rows as soon as
    they are due (`OutboxWakeup`'s short adaptive poll: every 0.1 s while it finds
    work, backing off to 0.5 s while it finds none) and queues one `deliver_outbox_batch` task per batch, so a burst waits
    neither for beat's next `relay_outbox` nor for a task per row. Beat's relay stays,
    as the fallback of a worker started without it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.wakeup = OutboxWakeup(db)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gongdan-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.stop()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.wakeup.generation()
            found = 0
            try:
                found = relay_for(RELAY_EVERY_SECONDS)
            except Exception:
                log.exception("outbox relay failed; trying again in %ss", RELAY_EVERY_SECONDS)
                self._stop.wait(RELAY_EVERY_SECONDS)
            self.wakeup.rest(seen, found > 0, self._stop)


def _start_watch(**_: Any) -> None:
    if os.environ.get("GONGDAN_RELAY_WATCH", "1") == "0":
        return
    with _lock:
        if "watch" in _state:
            return
        watch = _state["watch"] = RelayWatch(Database(database_url()))
    watch.start()


def _stop_watch(**_: Any) -> None:
    with _lock:
        watch = _state.pop("watch", None)
    if watch is not None:
        watch.stop()


worker_ready.connect(_start_watch, weak=False)
worker_shutdown.connect(_stop_watch, weak=False)


@_task(name="gongdan.tasks.poll_mail")
def poll_mail() -> str:
    """Take in the unseen mail of `$GONGDAN_IMAP_URL` once (beat runs it when set)."""
    from gongdan.channels.email.imap import poll_from_env  # only workers read mail

    result = poll_from_env(database(), bundle)
    return "no IMAP mailbox configured" if result is None else str(result)


@_task(name="gongdan.tasks.run_scheduled_job")
def run_scheduled_job(name: str) -> None:
    """Run one job of `SCHEDULED_JOBS` now."""
    job = find_job(name)  # one process per period runs it (`automation.leases`)
    run_exclusively(database(), bundle(), utc_now(), job.name, job.every_seconds, job.run)
