"""Who else has a ticket's page open: the collision warning's "also viewing".

Each open ticket page polls `/desk/tickets/{key}/activity` (htmx, every
`POLL_SECONDS`); each poll says "this agent is looking at this ticket" here, and a
viewer not heard from for `TTL_SECONDS` is gone. Kept in the web process's memory
(one per app, on `app.state`), so with several web processes an agent sees the viewers
served by the same process only; what changed on the ticket (the other half of the
warning) comes from the database and is exact everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["POLL_SECONDS", "TTL_SECONDS", "Presence"]

POLL_SECONDS = 10
TTL_SECONDS = 3 * POLL_SECONDS


class Presence:
    """The viewers of each ticket, by key: email -> (name, last heard, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._viewers: dict[str, dict[str, tuple[str, float]]] = {}

    def seen(self, key: str, email: str, name: str) -> list[str]:
        """Note that `email` views ticket `key`; the names of the others viewing it."""
        now = self._clock()
        with self._lock:
            viewers = self._viewers.setdefault(key, {})
            viewers[email] = (name or email, now)
            for other, (_name, at) in list(viewers.items()):
                if now - at > TTL_SECONDS:
                    del viewers[other]
            return sorted(n for e, (n, _at) in viewers.items() if e != email)
