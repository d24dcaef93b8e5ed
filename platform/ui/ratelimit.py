"""How often one address may ask for accounts and password mails.

Self sign-up and "forgot my password" each send a mail or make an account for whoever
asks, without signing in: a script could flood mailboxes or fill the user table.
Each is limited per client address with a sliding window: at most `limit` requests in
`seconds`. The count lives in the web process (one window per app), so with several
workers a client gets at most `limit` per worker; enough to stop a flood, and a
colleague behind the same office NAT is rarely refused (ten in ten minutes).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["SlidingWindow", "client_address"]


class SlidingWindow:
    """At most `limit` events per key within the last `seconds`."""

    def __init__(
        self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.seconds, self._clock = limit, seconds, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when over the limit."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 100_000:  # forget idle addresses now and then
                self._seen = {
                    k: v for k, v in self._seen.items() if v and v[-1] > now - self.seconds
                }
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.seconds:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (at least 1)."""
        with self._lock:
            times = self._seen.get(key)
            if not times:
                return 1
            return max(1, int(times[0] + self.seconds - self._clock()) + 1)


def client_address(host: str | None) -> str:
    """The key of a client: its address as the server saw it (behind a proxy, uvicorn's
    --proxy-headers makes it the forwarded one)."""
    return host or "unknown"
