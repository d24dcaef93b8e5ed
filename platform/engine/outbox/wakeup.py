"""When the outbox relay runs: as soon as a row is written, not on a fixed second.

On PostgreSQL, migration 0016's trigger sends `NOTIFY gongdan_outbox` with every
statement that writes outbox rows, delivered when the write commits; `OutboxWakeup`
LISTENs on it (`engine.store.token_events.ChannelListener`, one connection per process)
and wakes the relay threads waiting in `wait`. A relay still looks every
`IDLE_SECONDS` on its own (rows retried after a backoff, leases that ran out). Woken,
it waits `GATHER_SECONDS` more, so the rows of a burst go out in batches rather than
one by one.

SQLite (or PostgreSQL while the listener is not connected) has no notifications: the
relay polls, every `MIN_POLL_SECONDS` while it finds work, doubling up to
`MAX_POLL_SECONDS` while it finds none (`next_poll`).
"""

from __future__ import annotations

import threading

from gongdan.engine.store.database import Database
from gongdan.engine.store.token_events import ChannelListener

__all__ = [
    "CHANNEL",
    "GATHER_SECONDS",
    "IDLE_SECONDS",
    "MAX_POLL_SECONDS",
    "MIN_POLL_SECONDS",
    "OutboxWakeup",
    "next_poll",
]

CHANNEL = "gongdan_outbox"
GATHER_SECONDS = 0.05
IDLE_SECONDS = 1.0
MIN_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 0.5


def next_poll(previous: float, found_work: bool) -> float:
    """The adaptive poll's next wait: short while there is work, doubling while idle."""
    if found_work:
        return MIN_POLL_SECONDS
    return min(max(previous, MIN_POLL_SECONDS) * 2, MAX_POLL_SECONDS)


class OutboxWakeup:
    """Wakes the relay threads of this process when outbox rows are written."""

    def __init__(self, db: Database) -> None:
        self._changed = threading.Condition()
        self._generation = 0
        self._listening = False
        self._poll = MIN_POLL_SECONDS
        self._listener: ChannelListener | None = None
        if db.dialect == "postgresql":
            self._listener = ChannelListener(db.url, CHANNEL, self.notify, self._set_listening)

    @property
    def listening(self) -> bool:
        """Whether a written row wakes the relay (else it polls)."""
        return self._listening

    def start(self) -> None:
        if self._listener is not None:
            self._listener.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.notify()  # threads waiting look again (and see they are to stop)

    def generation(self) -> int:
        """A counter of the notifications so far (hand it to `wait`)."""
        with self._changed:
            return self._generation

    def notify(self) -> None:
        """Rows were written (the listener calls it; so may a writer in this process)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait until a notification newer than generation `seen`, at most `timeout`
        seconds; whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._generation != seen, timeout)

    def rest(self, seen: int, found_work: bool, stop: threading.Event) -> None:
        """A relay thread's pause after a round that found work or not (`seen`: the
        generation before the round): listening, until a row is written (then
        `GATHER_SECONDS` more) or `IDLE_SECONDS`; else the adaptive poll's wait.
        Returns early when `stop` is set."""
        if self._listening:
            if self.wait(seen, IDLE_SECONDS) and not stop.is_set():
                stop.wait(GATHER_SECONDS)
            return
        self._poll = next_poll(self._poll, found_work)
        stop.wait(self._poll)

    def _set_listening(self, listening: bool) -> None:
        self._listening = listening
        if listening:
            self.notify()  # rows written while it was not listening: look now
