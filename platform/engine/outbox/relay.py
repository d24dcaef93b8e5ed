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
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update

from gongdan.engine.outbox.delivery import (
    Attempt,
    Channels,
    Job,
    describe,
    handler_for,
    read_job,
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
    "deliver",
    "lease_from_env",
    "list_deliveries",
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
    with _bookkeeping(db, now) as ctx:
        ids = list(
            ctx.session.scalars(
                select(Outbox.id)
                .where(Outbox.done_at.is_(None), Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            ctx.session.execute(
                update(Outbox)
                .where(Outbox.id.in_(ids))
                .values(claimed_at=now, claimed_by=token, next_attempt_at=now + lease)
            )
    for done, outbox_id in enumerate(ids):
        try:
            dispatch(outbox_id)
        except Exception:
            _release(db, ids[done:], token, now)
            raise
    return len(ids)


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


def _status(value: str) -> Outcome:
    statuses: dict[str, Outcome] = {
        "delivered": "delivered",
        "dead": "dead",
        "skipped": "skipped",
    }
    return statuses.get(value, "pending")


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
