"""Benchmark: the desk's search at `--rows` (1,000,000) tickets on PostgreSQL.

The tickets are bulk-loaded with COPY by `bench/engine.py`'s loader (five ticket types
with realistic custom data and English titles and descriptions), then, in SQL: one
ticket in 50 gets a Chinese title ("打印机卡纸 …"), exactly one a rare Chinese phrase
in its description, and one ticket in three a comment; then `VACUUM (ANALYZE)`.
Timed, `--runs` times after `--warmup` untimed calls each, for an agent of the service
desk (scoped to their teams) and for an admin, as the desk runs them (`QueueService`
on the search queue, first page of 50 with its people, newest change first):

- a key (what `/desk/search` does first: one lookup of a ticket the agent may see);
- the search queue for: the same key as text, an English word, a rare error code,
  a Chinese phrase (common and rare), a custom-field value (an order number), two
  Chinese characters (too short for a trigram: the newest tickets only), a word in
  comments and part of requesters' names.

The database is migrated as `gongdan db upgrade` does, so the trigram indexes of
migration 0019 are there (rebuilt after the load, with the others).

Printed: median and p95 in ms next to the 100 ms target of issue 21. Nothing asserts;
the figures depend on the machine (the load average is printed). The bench database
is named `--database` (must start with `gongdan_bench`) and dropped at the end unless
`--keep`.

    .venv/bin/python bench/search.py [--rows N] [--runs N] [--warmup N] [--keep]
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench
import queues as queue_bench

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


def main(argv: list[str] | None = None) -> int:
    args, bundle, url = engine_bench.loaded_list_database(
        __doc__ or "",
        argv,
        rows=1_000_000,
        runs=20,
        warmup=3,
        database="gongdan_bench_search",
    )
    try:
        with psycopg.connect(engine_bench.conninfo(url), autocommit=True) as conn:
            for statement in SEED_TEXT:
                conn.execute(statement)
            conn.execute("VACUUM (ANALYZE) tickets")
            conn.execute("VACUUM (ANALYZE) comments")
            found = conn.execute(
                "SELECT key FROM tickets WHERE team_id = 'service_desk' ORDER BY id LIMIT 1"
            ).fetchone()
            key = found[0] if found else "INC-1"
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
            "two Chinese characters '卡纸' (newest tickets only)": "卡纸",
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
                query = QueueQuery(filters=TicketQuery(text=text))
                page = queues.list_queue(person, "search", query)
                median, p95 = queue_bench.timed(
                    lambda p=person, q=query: queues.list_queue(p, "search", q),
                    args.runs,
                    args.warmup,
                )
                queue_bench.report(f"{what} ({len(page.items)} rows)", median, p95, TARGET_MS)
        db.dispose()
    finally:
        if not args.keep:
            engine_bench.drop_database(args.postgres_url, args.database)
    print(f"load average at the end: {engine_bench.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
