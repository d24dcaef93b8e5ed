"""One process per periodic job: a lease row per job (`job_leases`, migration 0018).

Every web worker of `gongdan serve --workers N` runs the embedded runner, and a
deployment may run Celery beat as well: without a lease each of them would run each
job every period. Before running a job, a process moves the job's lease forward with
one conditional UPDATE (`until <= now`): of the processes that try in one period,
exactly one sees its row updated and runs the job; the others skip it until the lease
ends. The lease lasts 90% of the job's period, so the process that ran it last, on its
next tick, usually runs it again. A process that dies mid-run holds the lease no
longer than that. On both databases (the rows are made on first use; an insert that
loses a race changes nothing).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gongdan.bundle.compiled import Bundle
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import JobLease
from gongdan.engine.unit_of_work import NO_BUNDLE, begin_write
from gongdan.rules.workflow import Actor

__all__ = ["HOLDER", "claim_job", "run_exclusively"]

# Who holds a lease: this process (for whoever looks at the table).
HOLDER = f"{socket.gethostname()}:{os.getpid()}"[:128]
SHARE = 0.9


def claim_job(db: Database, name: str, every_seconds: float, now: datetime) -> bool:
    """Whether this process may run job `name` now (and then it holds the lease for
    90% of `every_seconds`): one conditional UPDATE, plus an INSERT the first time."""
    until = now + timedelta(seconds=every_seconds * SHARE)
    with begin_write(db, NO_BUNDLE, Actor.system(), now) as ctx:
        session = ctx.session
        moved = session.scalar(
            update(JobLease)
            .where(JobLease.name == name, JobLease.until <= now)
            .values(until=until, holder=HOLDER)
            .returning(JobLease.name)
        )
        if moved is not None:
            return True
        if session.scalar(select(JobLease.name).where(JobLease.name == name)) is not None:
            return False
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        made = session.scalar(
            insert(JobLease)
            .values(name=name, until=until, holder=HOLDER)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(JobLease.name)
        )
        return made is not None


def run_exclusively(
    db: Database,
    bundle: Bundle,
    now: datetime,
    name: str,
    every_seconds: float,
    run: Callable[[Database, Bundle, datetime], object],
) -> bool:
    """Run a periodic job if this process wins its lease for this period; whether it
    ran."""
    if not claim_job(db, name, every_seconds, now):
        return False
    run(db, bundle, now)
    return True
