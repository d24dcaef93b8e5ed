"""Background work without a broker, and the schedule shared with Celery.

`SCHEDULED_JOBS` is the one list of periodic jobs: Celery beat runs each through the
`gongdan.tasks.run_scheduled_job` task, and `InProcessRunner` (what `gongdan serve`
uses when `GONGDAN_BROKER_URL` is unset) runs them in a thread. The runner also relays
the outbox every second and delivers rows on a few threads: the same `relay_once`
and `deliver` the Celery tasks call, so behaviour does not depend on the deployment.

Each run of a job first takes the job's lease for the period (`automation.leases`), so
of several `serve` workers (or beat plus a runner) one runs each job per period. A job
must still be safe to repeat (a lease can end during a long run): claim its rows with
row locks or conditional updates, as `relay_once` does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
from gongdan.engine.outbox.relay import Channels, deliver, lease_from_env, relay_once
from gongdan.engine.service import utc_now
from gongdan.engine.store.database import Database

__all__ = ["SCHEDULED_JOBS", "InProcessRunner", "ScheduledJob", "find_job"]

log = logging.getLogger(__name__)


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
    process: the embedded default for `gongdan serve` without a broker."""

    def __init__(
        self,
        db: Database,
        bundle: Callable[[], Bundle],
        *,
        interval: float = 1.0,
        workers: int = 4,
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
        self.workers = workers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[object]] = set()
        self._lock = threading.Lock()
        self._last_run: dict[str, float] = {}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gongdan-deliver")
        self._thread = threading.Thread(target=self._loop, name="gongdan-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop relaying and wait for deliveries under way (each ends within the
        webhook timeout); rows not started stay claimed until their lease ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run_pending(self) -> int:
        """One tick: relay what is due (up to the free delivery slots) and run the
        jobs whose time has come. Returns how many rows were dispatched."""
        with self._lock:
            self._in_flight = {f for f in self._in_flight if not f.done()}
            free = self.workers * 4 - len(self._in_flight)
        dispatched = 0
        if free > 0:
            dispatched = relay_once(self.db, self._dispatch, self.clock(), free, lease=self.lease)
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
        return dispatched

    def _dispatch(self, outbox_id: int) -> None:
        if self._pool is None:  # not started: deliver on this thread
            self._deliver(outbox_id)
            return
        future = self._pool.submit(self._deliver, outbox_id)
        with self._lock:
            self._in_flight.add(future)

    def _deliver(self, outbox_id: int) -> object:
        try:
            return deliver(
                self.db, outbox_id, self.clock(), channels=self.channels, lease=self.lease
            )
        except Exception:
            # The row stays claimed; it is due again when its lease ends.
            log.exception("delivering outbox row %s failed", outbox_id)
            return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.run_pending() > 0
            except Exception:
                log.exception("outbox relay failed; trying again in %ss", self.interval)
            # A burst (many tickets at once) drains at the speed of the delivery
            # threads, not one batch per interval.
            self._stop.wait(min(self.interval, 0.05) if busy else self.interval)
