"""Delivering the outbox: the relay that claims due rows, and the delivery of one row.

The engine writes an outbox row in the same transaction as each ticket change. From
there, two steps (the same code under Celery and in the in-process runner):

1. `relay_once` claims due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so relays
   running at once never claim the same row; SQLite: every write transaction holds
   the database's single write lock) and hands each id to `dispatch`. The claim is a
   lease: it moves `next_attempt_at` forward, so if the worker dies, the row is due
   again when the lease ends.
2. `deliver` performs the side effect of one row (see `delivery`: a signed webhook
   POST, or a notification through a `Notifier`). It is idempotent (a row already done, or being
   delivered by someone else, is left alone); each attempt is logged in `deliveries`;
   a failure is retried with exponential backoff and the row is dead after
   `MAX_ATTEMPTS`. No transaction is open during the side effect.

The relay's own bookkeeping (claims, leases, the delivery log) writes through the unit
of work's runner like everything else (`unit_of_work.begin_write`, as the system, with
no config: `NO_BUNDLE`); it writes no events.

Delivery is at least once. A receiver sees every retry of one row with the same
`X-Gongdan-Delivery` id (the row id), so deduplicating on it gives exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import insert, select, update

from gongdan.engine.outbox.delivery import (
    Attempt,
    Channels,
    Job,
    describe,
    handler_for,
    logs_only,
    read_job,
    read_jobs,
    ticket_key,
)
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Delivery, Outbox
from gongdan.engine.unit_of_work import NO_BUNDLE, UnitOfWork, begin_write
from gongdan.rules.workflow import Actor

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ATTEMPTS",
    "Channels",
    "DeliveryRecord",
    "Dispatch",
    "Outcome",
    "claim_due",
    "deliver",
    "deliver_batch",
    "deliver_due",
    "lease_from_env",
    "list_deliveries",
    "relay_batch",
    "relay_once",
    "retry_delay",
]

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=2)  # longer than a webhook's timeout, with room to spare
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
RELAY, DELIVERING = "relay@", "deliver@"
LEASE_ENV = "GONGDAN_OUTBOX_LEASE_SECONDS"

Dispatch = Callable[[int], object]
Outcome = Literal["delivered", "pending", "dead", "skipped", "not_due", "missing"]


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1, 2, …): 30 s, 1 min,
    2 min, 4 min … doubling, capped at one hour."""
    delay: timedelta = BACKOFF_BASE * 2 ** max(attempt - 1, 0)
    return min(delay, BACKOFF_CAP)


def lease_from_env(environ: Mapping[str, str] | None = None) -> timedelta:
    """The lease of a claimed row: `GONGDAN_OUTBOX_LEASE_SECONDS` when set, else
    `DEFAULT_LEASE`. Celery's tasks and the in-process runner both read it here, so a
    crashed process's rows come back after the same time whichever relays them."""
    env = os.environ if environ is None else environ
    seconds = (env.get(LEASE_ENV) or "").strip()
    if not seconds:
        return DEFAULT_LEASE
    try:
        value = float(seconds)
    except ValueError:
        raise ValueError(f"{LEASE_ENV}={seconds!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"{LEASE_ENV}={seconds!r} must be more than 0 seconds")
    return timedelta(seconds=value)


def _claimant(prefix: str) -> str:
    """Who holds a claim: enough to find the process in a log."""
    who = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    return (prefix + who)[:128]


def _bookkeeping(db: Database, now: datetime) -> AbstractContextManager[UnitOfWork]:
    """One write of the relay's own (a claim, a release, an attempt logged)."""
    return begin_write(db, NO_BUNDLE, Actor.system(), now)


# The relay ------------------------------------------------------------------------


def relay_once(
    db: Database,
    dispatch: Dispatch,
    now: datetime,
    batch: int = 100,
    *,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Claim up to `batch` due rows and hand each id to `dispatch`; returns how many
    were dispatched. If `dispatch` fails (the broker is down), the rows not yet handed
    over are released at once and the error is raised."""
    token = _claimant(RELAY)
    ids = claim_due(db, now, batch, lease=lease, token=token)
    for done, outbox_id in enumerate(ids):
        try:
            dispatch(outbox_id)
        except Exception:
            _release(db, ids[done:], token, now)
            raise
    return len(ids)


def relay_batch(
    db: Database,
    dispatch: Callable[[list[int]], object],
    now: datetime,
    batch: int = 100,
    *,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Claim up to `batch` due rows and hand their ids to `dispatch` at once (one
    Celery task per batch, `deliver_batch`); returns how many. If `dispatch` fails
    (the broker is down), the rows are released at once and the error is raised."""
    token = _claimant(RELAY)
    ids = claim_due(db, now, batch, lease=lease, token=token)
    if ids:
        try:
            dispatch(ids)
        except Exception:
            _release(db, ids, token, now)
            raise
    return len(ids)


def _due(limit: int, now: datetime, what: Any = Outbox.id) -> Any:
    """The due rows, oldest due first, locked (skipping rows another relay holds)."""
    return (
        select(what)
        .where(Outbox.done_at.is_(None), Outbox.next_attempt_at <= now)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def claim_due(
    db: Database,
    now: datetime,
    limit: int,
    *,
    lease: timedelta = DEFAULT_LEASE,
    token: str | None = None,
) -> list[int]:
    """Claim up to `limit` due rows for a relay (a lease: `next_attempt_at` moves
    forward, so the rows come back if nobody delivers them); returns their ids,
    oldest due first. Relays racing never claim the same row (`SKIP LOCKED`)."""
    token = token or _claimant(RELAY)
    with _bookkeeping(db, now) as ctx:
        ids = list(ctx.session.scalars(_due(limit, now)))
        if ids:
            ctx.session.execute(
                update(Outbox)
                .where(Outbox.id.in_(ids))
                .values(claimed_at=now, claimed_by=token, next_attempt_at=now + lease)
            )
    return ids


def _release(db: Database, ids: list[int], token: str, now: datetime) -> None:
    with _bookkeeping(db, now) as ctx:
        ctx.session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids), Outbox.claimed_by == token, Outbox.done_at.is_(None))
            .values(claimed_at=None, claimed_by=None, next_attempt_at=now)
        )


# Delivery -------------------------------------------------------------------------


def deliver(
    db: Database,
    outbox_id: int,
    now: datetime,
    *,
    channels: Channels | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = MAX_ATTEMPTS,
) -> Outcome:
    """Deliver outbox row `outbox_id` once; returns its status afterwards (delivered,
    pending: to be retried, dead, skipped) or why nothing was done (not_due: done
    elsewhere or waiting for its retry time; missing)."""
    channels = channels or Channels()
    with _bookkeeping(db, now) as ctx:
        row = ctx.session.get(Outbox, outbox_id, with_for_update=True)
        if row is None:
            return "missing"
        if row.done_at is not None:
            return _status(row.status)
        claimed_by_relay = (row.claimed_by or "").startswith(RELAY)
        if row.next_attempt_at > now and not claimed_by_relay:
            return "not_due"  # being delivered by someone else, or waiting to retry
        handler = handler_for(row.topic)
        if handler is None:
            row.status, row.done_at, row.claimed_by = "skipped", now, None
            row.last_error = f"no handler for topic '{row.topic}': nothing to deliver"
            return "skipped"
        row.attempts += 1
        row.claimed_at, row.claimed_by = now, _claimant(DELIVERING)
        row.next_attempt_at = now + lease
        job = read_job(ctx, row)
    try:
        attempts = handler(job, channels)
    except Exception as error:  # a bug or a notifier's failure must not wedge the row
        log.exception("delivering outbox row %s (%s) failed", outbox_id, job.topic)
        kind = "webhook" if job.topic == "webhook" else "notification"
        attempts = [Attempt(kind, job.topic, False, None, describe(error))]
    return _record(db, job, attempts, now, max_attempts)


def _outcome(attempt: Attempt) -> str:
    """What the delivery log says of an attempt: delivered, logged (no mail server: only
    written to the log) or failed."""
    if not attempt.ok:
        return "failed"
    return "logged" if attempt.logged_only else "delivered"


def _record(
    db: Database, job: Job, attempts: list[Attempt], now: datetime, max_attempts: int
) -> Outcome:
    with _bookkeeping(db, now) as ctx:
        session = ctx.session
        for attempt in attempts:
            session.add(
                Delivery(
                    outbox_id=job.outbox_id,
                    ticket_key=ticket_key(job.payload),
                    kind=attempt.kind,
                    target=attempt.target[:2000],
                    attempt=job.attempt,
                    outcome=_outcome(attempt),
                    status_code=attempt.status_code,
                    error=attempt.error,
                    at=now,
                )
            )
        row = session.get(Outbox, job.outbox_id, with_for_update=True)
        if row is None or row.done_at is not None:
            return "missing" if row is None else _status(row.status)  # finished elsewhere
        return _settle(row, job, attempts, now, max_attempts)


def _status(value: str) -> Outcome:
    statuses: dict[str, Outcome] = {
        "delivered": "delivered",
        "dead": "dead",
        "skipped": "skipped",
    }
    return statuses.get(value, "pending")


# Delivery in batches ----------------------------------------------------------------

# Webhooks of a batch go out at once on these threads (each POST waits on the network,
# not the CPU); shared by every batch of the process, so the calls in flight stay few.
WEBHOOK_THREADS = 8
# A batch records its outcomes once, at its end; one whose side effects run longer
# than this (a slow mail server, webhooks timing out) records what is done every so
# often, so a process killed in the middle redelivers little (with the same ids).
CHECKPOINT_SECONDS = 1.0
_webhook_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _webhooks() -> ThreadPoolExecutor:
    global _webhook_pool
    with _pool_lock:
        if _webhook_pool is None:
            _webhook_pool = ThreadPoolExecutor(WEBHOOK_THREADS, thread_name_prefix="gongdan-hook")
        return _webhook_pool


def deliver_batch(
    db: Database,
    ids: Sequence[int],
    now: datetime,
    *,
    channels: Channels | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = MAX_ATTEMPTS,
    checkpoint: float = CHECKPOINT_SECONDS,
) -> dict[int, Outcome]:
    """`deliver` for several rows at once (the ids a relay claimed): the rows are
    taken and read in one transaction, their side effects done (notifications one
    after the other in the order the rows were written, through one batch of the
    notifier: one SMTP connection; webhooks at once on a bounded pool), and their
    outcomes recorded in one more. Each row keeps `deliver`'s guarantees: a row done,
    or being delivered by someone else, is left alone; a failure is retried with
    backoff, and the other rows of the batch are not held back by it. Returns each
    id's outcome."""
    channels = channels or Channels()
    with _bookkeeping(db, now) as ctx:
        rows = list(
            ctx.session.scalars(
                select(Outbox)
                .where(Outbox.id.in_(list(ids)))
                .order_by(Outbox.id)  # locked in one order: batches never deadlock
                .with_for_update()
            )
        )
        outcomes: dict[int, Outcome] = dict.fromkeys(ids, "not_due")
        jobs = _start(ctx, rows, now, lease, channels, outcomes)
    outcomes.update(_run(db, jobs, channels, now, max_attempts, checkpoint))
    return outcomes


def deliver_due(
    db: Database,
    now: datetime,
    limit: int = 100,
    *,
    channels: Channels | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = MAX_ATTEMPTS,
    checkpoint: float = CHECKPOINT_SECONDS,
) -> dict[int, Outcome]:
    """Claim up to `limit` due rows and deliver them as one batch (`deliver_batch`),
    the claim and the reading in one transaction: what a relay that delivers itself
    (the in-process runner) does. Returns each claimed id's outcome."""
    channels = channels or Channels()
    with _bookkeeping(db, now) as ctx:
        rows = sorted(ctx.session.scalars(_due(limit, now, Outbox)), key=lambda r: r.id)
        outcomes: dict[int, Outcome] = {}
        jobs = _start(ctx, rows, now, lease, channels, outcomes)
    outcomes.update(_run(db, jobs, channels, now, max_attempts, checkpoint))
    return outcomes


def _start(
    ctx: UnitOfWork,
    rows: list[Outbox],
    now: datetime,
    lease: timedelta,
    channels: Channels,
    outcomes: dict[int, Outcome],
) -> list[Job]:
    """Take the rows that are to be delivered now (as `deliver` does, row by row):
    count the attempt, lease them to this delivery and read their jobs. Rows nobody
    handles are settled here, skipped, at no further cost."""
    started = []
    token = _claimant(DELIVERING)
    for row in rows:
        if row.done_at is not None:
            outcomes[row.id] = _status(row.status)
            continue
        claimed_by_relay = (row.claimed_by or "").startswith(RELAY)
        if row.next_attempt_at > now and not claimed_by_relay:
            outcomes[row.id] = "not_due"
            continue
        if handler_for(row.topic) is None:
            row.status, row.done_at, row.claimed_by = "skipped", now, None
            row.last_error = f"no handler for topic '{row.topic}': nothing to deliver"
            outcomes[row.id] = "skipped"
            continue
        row.attempts += 1
        row.claimed_at, row.claimed_by = now, token
        row.next_attempt_at = now + lease
        started.append(row)
    return read_jobs(ctx, started, logs_only=logs_only(channels))


def _run(
    db: Database,
    jobs: list[Job],
    channels: Channels,
    now: datetime,
    max_attempts: int,
    checkpoint: float,
) -> dict[int, Outcome]:
    """Do the jobs' side effects and record their outcomes (see `deliver_batch`)."""
    if not jobs:
        return {}
    hooks: dict[int, Future[list[Attempt]]] = {
        job.outbox_id: _webhooks().submit(_attempts, job, channels)
        for job in jobs
        if job.topic == "webhook"
    }
    done: list[tuple[Job, list[Attempt]]] = []
    outcomes: dict[int, Outcome] = {}
    last = time.monotonic()
    opener = getattr(channels.notifier, "batch", None)
    # (An `SmtpNotifier` composes the mails of all the jobs there, from one read.)
    with opener(jobs) if callable(opener) else nullcontext():
        for job in jobs:
            if job.topic == "webhook":
                continue
            done.append((job, _attempts(job, channels)))
            if checkpoint >= 0 and time.monotonic() - last >= checkpoint:
                outcomes.update(_record_many(db, done, now, max_attempts))
                done, last = [], time.monotonic()
    for job in jobs:
        if job.topic == "webhook":
            done.append((job, hooks[job.outbox_id].result()))
    outcomes.update(_record_many(db, done, now, max_attempts))
    return outcomes


def _attempts(job: Job, channels: Channels) -> list[Attempt]:
    handler = handler_for(job.topic)
    assert handler is not None  # noqa: S101 - `_start` settled the rows without one
    try:
        return handler(job, channels)
    except Exception as error:  # a bug or a notifier's failure must not wedge the row
        log.exception("delivering outbox row %s (%s) failed", job.outbox_id, job.topic)
        kind = "webhook" if job.topic == "webhook" else "notification"
        return [Attempt(kind, job.topic, False, None, describe(error))]


_DELIVERY_INSERT = insert(Delivery)


def _record_many(
    db: Database, done: list[tuple[Job, list[Attempt]]], now: datetime, max_attempts: int
) -> dict[int, Outcome]:
    """Record the outcomes of several rows in one transaction (as `_record` does for
    one): their attempts in the delivery log, each row delivered, retried or dead."""
    if not done:
        return {}
    outcomes: dict[int, Outcome] = {}
    with _bookkeeping(db, now) as ctx:
        session = ctx.session
        session.execute(
            _DELIVERY_INSERT,
            [
                {
                    "outbox_id": job.outbox_id,
                    "ticket_key": ticket_key(job.payload),
                    "kind": attempt.kind,
                    "target": attempt.target[:2000],
                    "attempt": job.attempt,
                    "outcome": _outcome(attempt),
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "at": now,
                }
                for job, attempts in done
                for attempt in attempts
            ],
        )
        rows = {
            row.id: row
            for row in session.scalars(
                select(Outbox)
                .where(Outbox.id.in_([job.outbox_id for job, _ in done]))
                .order_by(Outbox.id)
                .with_for_update()
            )
        }
        for job, attempts in done:
            row = rows.get(job.outbox_id)
            if row is None:
                outcomes[job.outbox_id] = "missing"
                continue
            if row.done_at is not None:  # finished elsewhere
                outcomes[job.outbox_id] = _status(row.status)
                continue
            outcomes[job.outbox_id] = _settle(row, job, attempts, now, max_attempts)
    return outcomes


def _settle(
    row: Outbox, job: Job, attempts: list[Attempt], now: datetime, max_attempts: int
) -> Outcome:
    """Mark `row` after an attempt: delivered, retried later, or dead."""
    errors = [a.error or "failed" for a in attempts if not a.ok]
    row.claimed_by = None
    row.last_error = "; ".join(errors)[:4000] or None
    if not errors:
        row.status, row.done_at = "delivered", now
    elif job.attempt >= max_attempts:
        row.status, row.done_at = "dead", now
        log.warning("outbox row %s (%s) is dead: %s", row.id, row.topic, row.last_error)
    else:
        row.status, row.next_attempt_at = "pending", now + retry_delay(job.attempt)
    if row.done_at is not None and "token" in (row.payload or {}):
        # A one-time link's token is kept only until its mail is out (or given up on).
        row.payload = {k: v for k, v in row.payload.items() if k != "token"}
    return _status(row.status)


# Reading --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One logged delivery attempt, as the ticket page shows it."""

    id: int
    outbox_id: int
    ticket_key: str | None
    kind: str
    target: str
    attempt: int
    outcome: str
    status_code: int | None
    error: str | None
    at: datetime

    @classmethod
    def build(cls, row: Delivery) -> DeliveryRecord:
        return cls(
            id=row.id,
            outbox_id=row.outbox_id,
            ticket_key=row.ticket_key,
            kind=row.kind,
            target=row.target,
            attempt=row.attempt,
            outcome=row.outcome,
            status_code=row.status_code,
            error=row.error,
            at=row.at,
        )


def list_deliveries(db: Database, ticket_key: str) -> list[DeliveryRecord]:
    """Every delivery attempt for the ticket `ticket_key`, oldest first."""
    with db.reading() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.ticket_key == ticket_key).order_by(Delivery.id)
        )
        return [DeliveryRecord.build(row) for row in rows]
