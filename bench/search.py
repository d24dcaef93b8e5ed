"""Benchmark: the desk's search at `--rows` (1,000,000) tickets on PostgreSQL.

The tickets are bulk-loaded with COPY by `bench/engine.py`'s loader (five ticket types
with realistic custom data and English titles and descriptions), then, in SQL: one
ticket in 50 gets a Chinese title ("打印机卡纸 …"), exactly one a rare Chinese phrase
in its description, and one ticket in three a comment; then `VACUUM (ANALYZE)`.
Timed, `--runs` times after `--warmup` untimed calls each, for an agent of the service
desk (scoped to their teams) and for an admin, as the desk runs them (`QueueService`
on the search queue, first page of 50 with its people, newest change first):

- a key (what `/desk/search` does first: one lookup of a ticket the agent may see);
- the search queue for: the same key as text (the first ticket's: a one-digit key,
  the worst case), a typical key as text (the service desk's middle ticket), an
  English word, a rare error code, a Chinese phrase (common and rare), a
  custom-field value (an order number), two Chinese characters and one (too short for
  a trigram: migration 0022's CJK pair indexes), a word in comments and part of
  requesters' names.

The database is migrated as `gongdan db upgrade` does, so the trigram indexes of
migration 0019 are there (rebuilt after the load, with the others). With `--keep`, a
database `--database` already loaded (by this bench or by `bench/scale.py --keep`) is
reused and migrated to the head; the text above is added to it once.

`--explain` also prints, for each search, every statement it runs with its plan
(`EXPLAIN (ANALYZE, BUFFERS)`) and the sum of their execution times: the database's own
time, which the machine's load hardly moves. `--only=WORDS` runs only the searches
whose description contains WORDS (repeatable).

Printed: median and p95 in ms next to the 100 ms target of issue 21. Nothing asserts;
the figures depend on the machine (the load average is printed). The bench database
is named `--database` (must start with `gongdan_bench`) and dropped at the end unless
`--keep`.

    .venv/bin/python bench/search.py [--rows N] [--runs N] [--warmup N] [--keep]
        [--database NAME] [--explain] [--only=WORDS ...]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench
import queues as queue_bench

from gongdan.bundle.loader import load_bundle
from gongdan.engine.reads.queries import TicketQuery
from gongdan.engine.reads.queues import QueueQuery, QueueService
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database

TARGET_MS = 100.0
RARE_CHINESE = "固态硬盘彻底损坏"
SEED_TEXT = [
    "UPDATE tickets SET title = '打印机卡纸 ' || title WHERE id % 50 = 0",
    """UPDATE tickets SET description = description || ' 固态硬盘彻底损坏。'
        WHERE id = (SELECT max(id) / 2 FROM tickets)""",
    """INSERT INTO comments (ticket_id, author_id, body, public, created_at)
       SELECT id, requester_id, 'Still happening after a restart, see ticket ' || key,
              true, updated_at
       FROM tickets WHERE id % 3 = 0""",
]


def _database(argv: list[str] | None) -> tuple[Any, Any, str]:
    """The options, the bundle and the loaded database (reused with `--keep`)."""
    given = sys.argv[1:] if argv is None else argv
    explain = "--explain" in given
    only = [a.split("=", 1)[1] for a in given if a.startswith("--only=")]
    rest = [a for a in given if a != "--explain" and not a.startswith("--only=")]
    args = engine_bench.list_options(
        __doc__ or "", rest, rows=1_000_000, runs=20, warmup=3, database="gongdan_bench_search"
    )
    args.explain, args.only = explain, only
    url = engine_bench.database_url(args.postgres_url, args.database)
    if args.keep and _loaded(url):
        print(f"{os.cpu_count()} CPUs, load average at start: {engine_bench.load()}")
        print(f"reusing {args.database} (migrating to head)")
        db = Database(url)
        db.upgrade()
        db.dispose()
        return args, load_bundle(engine_bench.CONFIG_DIR), url
    args, bundle, url = engine_bench.loaded_list_database(
        __doc__ or "", rest, rows=1_000_000, runs=20, warmup=3, database="gongdan_bench_search"
    )
    args.explain, args.only = explain, only
    return args, bundle, url


def _loaded(url: str) -> bool:
    try:
        with psycopg.connect(engine_bench.conninfo(url)) as conn:
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM tickets)").fetchone()
            return bool(row and row[0])
    except psycopg.Error:
        return False


def _seed(url: str) -> None:
    """The text this bench searches for, added once."""
    with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
        seeded = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM tickets WHERE title LIKE '打印机卡纸 %')"
        ).fetchone()
        if seeded and seeded[0]:
            return
        for statement in SEED_TEXT:
            conn.execute(statement)
        conn.execute("VACUUM (ANALYZE) tickets")
        conn.execute("VACUUM (ANALYZE) comments")


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def explain(db: Database, call: Callable[[], Any]) -> None:
    """Each SELECT `call` runs, with its plan (EXPLAIN (ANALYZE, BUFFERS), after the
    `SET LOCAL`s it ran), and the sum of their planning and execution times."""
    with _statements(db) as seen:
        call()
    total = 0.0
    with db.engine.connect() as conn:
        for statement, parameters in seen:
            if statement.lstrip().upper().startswith("SET LOCAL"):  # as the read had it
                conn.exec_driver_sql(statement, parameters)
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
            plan = [r[0] for r in rows]
            for line in plan:
                if line.startswith(("Planning Time", "Execution Time")):
                    total += float(line.split(":")[1].split()[0])
            print("    " + statement.replace("\n", " ")[:300])
            print("\n".join("      " + line for line in plan))
    print(f"    database time (planning + execution, all statements): {total:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    args, bundle, url = _database(argv)
    try:
        _seed(url)
        with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
            found = conn.execute(
                "SELECT key FROM tickets WHERE team_id = 'service_desk' ORDER BY id LIMIT 1"
            ).fetchone()
            key = found[0] if found else "INC-1"
            found = conn.execute(
                "SELECT key FROM tickets WHERE team_id = 'service_desk' "
                "AND id > (SELECT max(id) / 2 FROM tickets) ORDER BY id LIMIT 1"
            ).fetchone()
            typical = found[0] if found else key
            found = conn.execute(
                "SELECT data->>'order_number' FROM tickets WHERE data ? 'order_number' "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
            order = found[0] if found else "SO0"
        db = Database(url)
        queues = QueueService(db, bundle)
        service = TicketService(db, bundle)
        desk_email = bundle.teams["service_desk"].members[0].user
        people = {
            "agent (service desk)": queue_bench.actor(db, desk_email),
            "admin": queue_bench.actor(db, "bench.admin@example.com"),
        }
        searches = {
            f"key as text '{key}'": key,
            "English word 'VPN'": "VPN",
            f"rare code '{engine_bench.RARE_TERM}'": engine_bench.RARE_TERM,
            "Chinese phrase '打印机卡纸' (1 in 50)": "打印机卡纸",
            f"rare Chinese phrase '{RARE_CHINESE}'": RARE_CHINESE,
            f"custom field value '{order}'": str(order),
            "two Chinese characters '卡纸' (CJK pair index)": "卡纸",
            "one Chinese character '慢' (CJK pair index)": "慢",
            f"a typical key as text '{typical}'": typical,
            "a word in comments 'restart' (1 in 3)": "restart",
            "requester name 'Customer 12'": "Customer 12",
        }
        for who, person in people.items():
            print(f"{who}:")
            median, p95 = queue_bench.timed(
                lambda p=person: service.get_ticket(p, key), args.runs, args.warmup
            )
            queue_bench.report(f"key jump to {key}", median, p95, TARGET_MS)
            for what, text in searches.items():
                if args.only and not any(o in what for o in args.only):
                    continue
                query = QueueQuery(filters=TicketQuery(text=text))
                page = queues.list_queue(person, "search", query)
                median, p95 = queue_bench.timed(
                    lambda p=person, q=query: queues.list_queue(p, "search", q),
                    args.runs,
                    args.warmup,
                )
                queue_bench.report(f"{what} ({len(page.items)} rows)", median, p95, TARGET_MS)
                if args.explain:
                    explain(db, lambda p=person, q=query: queues.list_queue(p, "search", q))
        db.dispose()
    finally:
        if not args.keep:
            engine_bench.drop_database(args.postgres_url, args.database)
    print(f"load average at the end: {engine_bench.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
