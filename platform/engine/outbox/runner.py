"""Background work without a broker, and the schedule shared with Celery.

`SCHEDULED_JOBS` is the one list of periodic jobs: Celery beat runs each through the
`gongdan.tasks.run_scheduled_job` task, and `InProcessRunner` (what `gongdan serve`
uses when `GONGDAN_BROKER_URL` is unset) runs them in a thread. The runner also relays
the outbox as soon as rows are written (`wakeup`) and delivers them in batches
(`relay.deliver_due`): the same batch delivery the Celery tasks run, so behaviour does
not depend on the deployment.

Each run of a job first takes the job's lease for the period (`automation.leases`), so
of several `serve` workers (or beat plus a runner) one runs each job per period. A job
must still be safe to repeat (a lease can end during a long run): claim its rows with
row locks or conditional updates, as `relay_batch` does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gongdan.bundle.compiled import Bundle
from gongdan.engine.automation.leases import run_exclusively
from gongdan.engine.automation.report_mail import run_report_mail
from gongdan.engine.automation.scheduler import (
    run_after_transitions,
    run_scheduled_automations,
    run_sla_scan,
)
from gongdan.engine.outbox.relay import Channels, deliver_due, lease_from_env
from gongdan.engine.outbox.wakeup import OutboxWakeup
from gongdan.engine.service import utc_now
from gongdan.engine.store.database import Database

__all__ = ["RELAY_BATCH", "SCHEDULED_JOBS", "InProcessRunner", "ScheduledJob", "find_job"]

log = logging.getLogger(__name__)

# Rows one relay thread claims and delivers at once (one claim, one record).
RELAY_BATCH = 100


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A periodic job: `run(db, bundle, now)` every `every_seconds`."""

    name: str
    every_seconds: float
    run: Callable[[Database, Bundle, datetime], object]


# The scheduler's jobs (`gongdan.engine.automation.scheduler`): both Celery beat and the
# in-process runner run them. Names must be unique.
SCHEDULED_JOBS: list[ScheduledJob] = [
    ScheduledJob("sla_scan", 15, run_sla_scan),
    ScheduledJob("after_transitions", 60, run_after_transitions),
    ScheduledJob("scheduled_automations", 60, run_scheduled_automations),
    ScheduledJob("report_mail", 60, run_report_mail),
]


def find_job(name: str) -> ScheduledJob:
    for job in SCHEDULED_JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no scheduled job '{name}'")


class InProcessRunner:
    """Relays the outbox and runs the scheduled jobs in background threads of this
    process: the embedded default for `gongdan serve` without a broker.

    `workers` relay threads each claim up to `batch` due rows and deliver them as one
    batch (`deliver_due`), again at once while batches come full, then wait to be
    woken (`OutboxWakeup`: a row written by this process, else a short adaptive poll).
    The scheduled jobs run on a thread of their own every `interval` seconds."""

    def __init__(
        self,
        db: Database,
        bundle: Callable[[], Bundle],
        *,
        interval: float = 1.0,
        workers: int = 2,
        batch: int = RELAY_BATCH,
        channels: Channels | None = None,
        lease: timedelta | None = None,
        clock: Callable[[], datetime] = utc_now,
        jobs: list[ScheduledJob] | None = None,
    ) -> None:
        self.db, self.bundle, self.interval, self.clock = db, bundle, interval, clock
        self.channels = channels or Channels()
        # The same lease as Celery's side (`GONGDAN_OUTBOX_LEASE_SECONDS`) unless given.
        self.lease = lease_from_env() if lease is None else lease
        self.jobs = SCHEDULED_JOBS if jobs is None else jobs
        self.workers, self.batch = workers, batch
        self.wakeup = OutboxWakeup(db)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._relays: list[threading.Thread] = []
        self._last_run: dict[str, float] = {}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._relays = [
            threading.Thread(target=self._relay, name=f"gongdan-relay-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for relay in self._relays:
            relay.start()
        self._thread = threading.Thread(target=self._loop, name="gongdan-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop relaying and wait for the batches under way (each ends within the
        webhook timeout); rows not started stay claimed until their lease ends."""
        self._stop.set()
        self.wakeup.stop()
        deadline = time.monotonic() + timeout
        for thread in [*self._relays, *([self._thread] if self._thread else [])]:
            thread.join(max(deadline - time.monotonic(), 0.1))
        self._relays, self._thread = [], None

    def deliver_pending(self) -> int:
        """Deliver what is due now, batch after batch; returns how many rows."""
        delivered = 0
        while True:
            count = len(
                deliver_due(
                    self.db, self.clock(), self.batch, channels=self.channels, lease=self.lease
                )
            )
            delivered += count
            if count < self.batch or self._stop.is_set():
                return delivered

    def run_pending(self) -> int:
        """One tick on this thread: deliver what is due and run the jobs whose time
        has come. Returns how many rows were delivered."""
        delivered = self.deliver_pending()
        self.run_jobs()
        return delivered

    def run_jobs(self) -> None:
        for job in self.jobs:
            last = self._last_run.get(job.name)
            if last is None or time.monotonic() - last >= job.every_seconds:
                self._last_run[job.name] = time.monotonic()
                try:  # one process per period runs it (`automation.leases`)
                    run_exclusively(
                        self.db, self.bundle(), self.clock(), job.name, job.every_seconds, job.run
                    )
                except Exception:
                    log.exception("scheduled job %s failed", job.name)

    def _relay(self) -> None:
        while not self._stop.is_set():
            seen = self.wakeup.generation()
            found = 0
            try:
                found = self.deliver_pending()
            except Exception:
                log.exception("outbox relay failed; trying again in %ss", self.interval)
                self._stop.wait(self.interval)
            self.wakeup.rest(seen, found > 0, self._stop)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_jobs()
            self._stop.wait(self.interval)
