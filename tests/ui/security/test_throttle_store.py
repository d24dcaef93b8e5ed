"""The counts throttling keeps (`engine.accounts.throttle`): one hit is one count even
when many processes hit one key at once (the UPSERT is atomic), windows end, counts are
read without counting and cleared; the same in the database (SQLite, PostgreSQL) and in
Redis (when it runs at 127.0.0.1:6379)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import delete

from gongdan.engine import Counts, Database
from gongdan.engine.accounts.throttle import DatabaseCounts, RedisCounts
from gongdan.engine.store.models import ThrottleCount
from tests.conftest import service_unavailable


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def counts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counts]:
    if request.param != "redis":
        if request.param == "sqlite":
            db = Database(f"sqlite:///{tmp_path / 'counts.db'}")
            db.upgrade()
        else:
            db = Database(request.getfixturevalue("postgres_url"))
        with db.read_once() as connection:
            connection.execute(delete(ThrottleCount))
        yield DatabaseCounts(db)
        db.dispose()
        return
    store = RedisCounts("redis://127.0.0.1:6379/0", prefix=f"test:{secrets.token_hex(4)}:")
    try:
        store.client.ping()
    except Exception as exc:
        service_unavailable(f"Redis is not reachable: {exc}")
    yield store
    for key in store.client.scan_iter(f"{store.prefix}*"):
        store.client.delete(key)


def test_concurrent_hits_each_get_their_own_count(counts: Counts) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = sorted(n for n, _ in pool.map(lambda _: counts.hit("signin:ip:x", 60), range(40)))
    assert seen == list(range(1, 41))
    assert counts.peek(["signin:ip:x", "signin:ip:y"], 60) == {
        "signin:ip:x": (40, pytest.approx(60, abs=2))
    }
    counts.clear("signin:ip:x")
    assert counts.peek(["signin:ip:x"], 60) == {}
    assert counts.hit("signin:ip:x", 60)[0] == 1


def test_a_window_ends(db: Database) -> None:
    now = [5000.0]
    counts = DatabaseCounts(db, clock=lambda: now[0])
    assert [counts.hit("k", 10)[0] for _ in range(3)] == [1, 2, 3]
    assert counts.hit("k", 10) == (4, 10)
    now[0] += 4
    assert counts.peek(["k"], 10) == {"k": (4, 6)}
    now[0] += 6
    assert counts.peek(["k"], 10) == {}
    assert counts.hit("k", 10) == (1, 10)
