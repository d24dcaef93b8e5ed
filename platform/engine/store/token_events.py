"""Hearing, on PostgreSQL, that recognised bearer tokens may be stale.

Migration 0015's triggers send `NOTIFY gongdan_tokens` with every change that can make
a recognised token wrong (a revocation, a deactivation, a change of role or teams),
delivered when that change commits. `TokenEventListener` holds one connection per
process and database that `LISTEN`s on the channel, in a daemon thread: it calls
`on_change` for every notification, and reports with `on_state` whether it is
listening, so that a process trusts what it kept only while no notification can be
missed (it forgets everything when the connection is lost, and again once it is back).
This is the only code that speaks to the driver for it (`tests/engine/store`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

__all__ = ["CHANNEL", "TokenEventListener"]

log = logging.getLogger(__name__)

CHANNEL = "gongdan_tokens"
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
POLL_SECONDS = 1.0  # how often the thread looks whether it should stop


class TokenEventListener:
    """LISTEN on `CHANNEL` of the database at `url` (a SQLAlchemy PostgreSQL URL)."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[], None],
        on_state: Callable[[bool], None],
    ) -> None:
        parsed = make_url(url).set(drivername="postgresql")
        self._conninfo = parsed.render_as_string(hide_password=False)
        self._on_change, self._on_state = on_change, on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gongdan-token-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self._on_state(True)
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=POLL_SECONDS):
                            self._on_change()
            except Exception:
                log.debug("token event listener lost its connection", exc_info=True)
            self._on_state(False)
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            self._stop.wait(delay)
