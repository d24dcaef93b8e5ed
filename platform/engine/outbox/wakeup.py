"""When the outbox relay runs: as soon as there is work, not on a fixed second.

A write of this process that adds outbox rows wakes the relay threads of this process
when it commits (`Database.on_outbox_written`, called by `unit_of_work.begin_write`):
in `gongdan serve` every web worker relays, so the rows of its own creates are picked
up within `GATHER_SECONDS` (the pause that lets a burst's rows go out together). Rows
written elsewhere (the CLI, another process; for `gongdan worker`, every row) are found
by a short adaptive poll: `BUSY_SECONDS` while rounds find work, then doubling up to
`IDLE_SECONDS` while they find none. The poll is one indexed query (`ix_outbox_due`).

Why not LISTEN/NOTIFY on PostgreSQL: a transaction that sent a NOTIFY takes a
cluster-wide lock at commit and holds it across its WAL flush, so every create's commit
would wait in line behind the others ("Lock:object" on COMMIT); measured with a trigger
on the outbox, creates per second fell by a third to a half (bench/NOTES.md).
"""

from __future__ import annotations

import threading

from gongdan.engine.store.database import Database

__all__ = [
    "BUSY_SECONDS",
    "GATHER_SECONDS",
    "IDLE_SECONDS",
    "OutboxWakeup",
    "next_poll",
]

GATHER_SECONDS = 0.05
BUSY_SECONDS = 0.1
IDLE_SECONDS = 0.5


def next_poll(previous: float, found_work: bool) -> float:
    """The adaptive poll's next wait: short while there is work, doubling while idle."""
    if found_work:
        return BUSY_SECONDS
    return min(max(previous, BUSY_SECONDS) * 2, IDLE_SECONDS)


class OutboxWakeup:
    """Wakes the relay threads of this process when this process writes outbox rows,
    and paces their polling otherwise."""

    def __init__(self, db: Database) -> None:
        self._changed = threading.Condition()
        self._generation = 0
        self._poll = BUSY_SECONDS
        db.on_outbox_written(self.notify)

    def generation(self) -> int:
        """A counter of the wake-ups so far (hand it to `wait` or `rest`)."""
        with self._changed:
            return self._generation

    def notify(self) -> None:
        """Rows were written: wake the threads waiting."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait until a wake-up newer than generation `seen`, at most `timeout`
        seconds; whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._generation != seen, timeout)

    def rest(self, seen: int, found_work: bool, stop: threading.Event) -> None:
        """A relay thread's pause after a round that found work or not (`seen`: the
        generation before the round). After work, `BUSY_SECONDS`: the rows of a
        sustained load go in batches. Idle, until a row is written here (then
        `GATHER_SECONDS` more) or the adaptive poll's time. Returns early on `stop`."""
        self._poll = next_poll(self._poll, found_work)
        if found_work:
            stop.wait(self._poll)
        elif self.wait(seen, self._poll) and not stop.is_set():
            stop.wait(GATHER_SECONDS)

    def stop(self) -> None:
        self.notify()  # threads waiting look again (and see they are to stop)
