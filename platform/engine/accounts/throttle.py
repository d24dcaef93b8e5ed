"""Counts shared by every process, for throttling: how often a key (an account's
failed sign-ins, a client address's password mails…) was hit in its current window.

Fixed windows: a key's count starts at its first hit and is forgotten `window`
seconds later. `hit` counts one and returns the new count with the seconds left in the
window, in one statement (an UPSERT: `INSERT … ON CONFLICT DO UPDATE … RETURNING`, on
PostgreSQL and SQLite alike), so processes that hit the same key at once each see a
different count and none is lost. `peek` reads counts without counting; `clear`
forgets a key (a successful sign-in clears its account's failures).

`DatabaseCounts` keeps them in the `throttle_counts` table (the embedded default has
nothing else); `RedisCounts` in Redis (`INCR` and `EXPIRE` in one pipeline) when
`GONGDAN_THROTTLE_REDIS_URL` says so. Neither runs in a unit of work: a count is not a
change of anything a user sees, and it must stay counted when the request fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from gongdan.engine.store.database import Database
from gongdan.engine.store.models import ThrottleCount

__all__ = ["Counts", "DatabaseCounts", "RedisCounts", "counts_for"]

_TABLE = ThrottleCount.__table__


class Counts(Protocol):
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one for `key`; (count in this window, seconds until it ends)."""
        ...

    def peek(self, keys: Sequence[str], window: int) -> dict[str, tuple[int, int]]:
        """The (count, seconds left) of each of `keys` still in its window."""
        ...

    def clear(self, key: str) -> None:
        """Forget `key`'s count."""
        ...


class DatabaseCounts:
    """Counts in the `throttle_counts` table (see the module docstring)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db, self.clock = db, clock
        dialect = postgresql if db.dialect == "postgresql" else sqlite
        stmt = dialect.insert(ThrottleCount).values(
            key=bindparam("key"), window_start=bindparam("now"), count=1
        )
        expired = stmt.excluded.window_start - bindparam("window") >= _TABLE.c.window_start
        self._upsert = stmt.on_conflict_do_update(
            index_elements=[_TABLE.c.key],
            set_={
                "count": case((expired, literal(1)), else_=_TABLE.c.count + 1),
                "window_start": case(
                    (expired, stmt.excluded.window_start), else_=_TABLE.c.window_start
                ),
            },
        ).returning(_TABLE.c.count, _TABLE.c.window_start)

    def _run(self, work: Callable[[Connection], Any]) -> Any:
        with self.db.read_once() as connection:
            return work(connection)

    def hit(self, key: str, window: int) -> tuple[int, int]:
        now = int(self.clock())
        params = {"key": key[:300], "now": now, "window": window}
        count, start = self._run(lambda c: c.execute(self._upsert, params).one())
        return int(count), max(1, int(start) + window - now)

    def peek(self, keys: Sequence[str], window: int) -> dict[str, tuple[int, int]]:
        now = int(self.clock())
        query = select(_TABLE.c.key, _TABLE.c.count, _TABLE.c.window_start).where(
            _TABLE.c.key.in_([k[:300] for k in keys]), _TABLE.c.window_start > now - window
        )
        rows = self._run(lambda c: c.execute(query).all())
        return {key: (int(count), max(1, int(start) + window - now)) for key, count, start in rows}

    def clear(self, key: str) -> None:
        self._run(lambda c: c.execute(delete(ThrottleCount).where(_TABLE.c.key == key[:300])))


class RedisCounts:
    """Counts in Redis: a key per counted thing, expiring with its window."""

    def __init__(self, url: str, prefix: str = "gongdan:throttle:") -> None:
        import redis  # the Celery broker's client; only needed when configured

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.prefix = prefix

    def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, window, nx=True)
        pipe.ttl(name)
        count, _, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def peek(self, keys: Sequence[str], window: int) -> dict[str, tuple[int, int]]:
        pipe = self.client.pipeline()
        for key in keys:
            pipe.get(self.prefix + key)
            pipe.ttl(self.prefix + key)
        answers = pipe.execute()
        out = {}
        for index, key in enumerate(keys):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(ttl) > 0:
                out[key] = (int(count), int(ttl))
        return out

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


def counts_for(db: Database, redis_url: str = "") -> Counts:
    """Redis counts when `redis_url` is given, else the database's."""
    return RedisCounts(redis_url) if redis_url else DatabaseCounts(db)
