"""Benchmark: the CPU and the SQL of mailing notifications (issue 23).

Creates `--tickets` it_incident tickets with the example bundle (`config/`) on a fresh
PostgreSQL database (half of them with a staff reply, so `replied` and
`follower_update` mails go out besides `created`), then delivers the whole outbox
the way the in-process runner does (`deliver_due`, batches of `--batch`) through an
`SmtpNotifier` to a local SMTP sink (aiosmtpd, in its own process so its CPU is not
counted; the templates are compiled before, as at start-up). Printed: mails sent, this process's CPU per mail, SQL statements and
transactions per mail, and the wall time. `--profile` adds a cProfile of the
delivery (own time of the top functions).

The target (issue 23) is <= 2 ms CPU per mail. The machine's load is printed: CPU
per mail is what to compare across loads, not the wall time.

    .venv/bin/python bench/mail.py [--tickets N] [--batch N] [--runs N] [--profile]
        [--database NAME] [--keep] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench

from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.channels.email.templates import mail_templates
from gongdan.engine.outbox.relay import deliver_due
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import MailMessage, Outbox

EXAMPLE = Path(__file__).resolve().parent.parent / "config"


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def sink(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
               "-c", "aiosmtpd.handlers.Sink"]  # fmt: skip
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter
    time.sleep(1.0)
    return process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Counter:
    def __init__(self, db: Database) -> None:
        self.statements = self.transactions = 0
        self.texts: dict[str, int] = {}

        @event.listens_for(db.engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.statements += 1
            head = " ".join(statement.split())[:110]
            self.texts[head] = self.texts.get(head, 0) + 1

        @event.listens_for(db.engine, "begin")
        def _begin(*_: Any) -> None:
            self.transactions += 1


def fill(db: Database, bundle: Any, tickets: int, seed: int) -> None:
    rnd = random.Random(seed)
    admin, agents, requesters = engine_bench.setup_people(
        db, bundle, max(10, tickets // 3), utc_now()
    )
    service = TicketService(db, bundle)
    calls = engine_bench.create_workload(tickets, rnd, requesters, agents)
    for n, call in enumerate(calls):
        record = service.create_ticket(call.actor, "it_incident", **call.values)
        if n % 2 == 0:
            service.add_comment(admin, record.ticket.key, "We are on it.", public=True)


def run(url: str, bundle: Any, port: int, batch: int, profile: bool) -> dict[str, float]:
    db = Database(url)
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, "desk@example.com")
    notifier = SmtpNotifier(db, lambda: bundle, settings, environ={})
    channels = channels_for(notifier)
    mail_templates(bundle)  # compiled at start-up, as `notifier_from_env` does
    counter = Counter(db)
    profiler = cProfile.Profile(time.process_time) if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    rows = 0
    while True:
        done = deliver_due(db, utc_now(), batch, channels=channels)
        rows += len(done)
        if not done:
            break
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    with db.reading() as session:
        mails = session.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.direction == "out")
        )
        left = session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
        )
    db.dispose()
    if profiler:
        for text, count in sorted(counter.texts.items(), key=lambda x: -x[1])[:25]:
            print(f"{count:6d}  {text}")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    mails = mails or 1
    return {
        "rows": rows,
        "mails": mails,
        "left": left or 0,
        "cpu_ms_per_mail": 1000 * cpu / mails,
        "statements_per_mail": counter.statements / mails,
        "transactions_per_mail": counter.transactions / mails,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", default="gongdan_bench_mail")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "GONGDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if not args.database.startswith("gongdan_bench"):
        parser.error("--database must start with gongdan_bench")
    bundle = load_bundle(EXAMPLE)
    port = free_port()
    smtp = sink(port)
    results = []
    try:
        for n in range(args.runs):
            url = engine_bench.create_database(args.postgres_url, args.database)
            db = Database(url)
            db.upgrade()
            fill(db, bundle, args.tickets, args.seed + n)
            db.dispose()
            print(f"run {n + 1}: {load()}", flush=True)
            result = run(url, bundle, port, args.batch, args.profile and n == 0)
            results.append(result)
            print("  " + "  ".join(f"{k} {v:.2f}" for k, v in result.items()), flush=True)
            if not args.keep:
                engine_bench.drop_database(args.postgres_url, args.database)
    finally:
        smtp.terminate()
        smtp.wait()
    for key in ("cpu_ms_per_mail", "statements_per_mail", "transactions_per_mail"):
        values = [r[key] for r in results]
        print(
            f"{key}: median {statistics.median(values):.2f} "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
    print(load())


if __name__ == "__main__":
    main()
