"""Benchmark: the CPU each list and queue page costs the server, at 100k and 1M tickets.

A shared machine's load moves wall-clock latencies; CPU time per request hardly moves.
This bench serves the databases `bench/scale.py --keep` loaded (`--database`_<size>,
loaded here the same way if missing) with the full app (`gongdan serve --workers 2`,
its background work running), and for each page of `bench/scale.py`'s HTTP measures
(every API list variant, each desk queue page, the counts fragment, a ticket page,
`/healthz`; `--only WORDS` keeps those whose name contains WORDS, and only then the
API searches, `--only "api search"`) sends a block of
`--runs` sequential requests (after `--warmup`), the sizes taking turns block by
block, and reads around each block the CPU time of the server's processes (the
workers: `/proc/<pid>/stat`) and of the PostgreSQL backends connected to its database.

Printed per page and size: wall median and p95 (ms), the app's CPU per request and the
database's CPU per request (ms), and the load average. An idle block (no request, as
long as a block took) gives the background work's own CPU, subtracted from both.

    .venv/bin/python bench/page_cpu.py [--sizes N ...] [--runs N] [--warmup N]
        [--only WORDS ...] [--database PREFIX] [--port P] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench
import scale as scale_bench

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    """`pid` and its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [c for c, p in parents.items() if p in frontier]
        found += frontier
    return found


class Meter:
    """CPU of the app's processes and of the database's backends, read together."""

    def __init__(self, server_pid: int, admin_url: str, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self.conn = psycopg.connect(engine_bench.conninfo(admin_url), autocommit=True)

    def read(self) -> tuple[float, float]:
        app = sum(_cpu_seconds(p) for p in _children(self.server_pid))
        pids = [
            r[0]
            for r in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            )
        ]
        return app, sum(_cpu_seconds(p) for p in pids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", default="gongdan_bench_scale")
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument("--postgres-url", default=engine_bench.DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    args.keep = True
    print(f"{os.cpu_count()} CPUs, load average at start: {engine_bench.load()}")
    urls = {rows: scale_bench.load_size(args, rows) for rows in args.sizes}
    servers = {
        rows: scale_bench.start_server(url, args.port + i)
        for i, (rows, url) in enumerate(urls.items())
    }
    try:
        who = {rows: scale_bench.people(url) for rows, url in urls.items()}
        calls = {
            rows: scale_bench.measures(f"http://127.0.0.1:{args.port + i}", who[rows])
            for i, rows in enumerate(urls)
        }
        meters = {
            rows: Meter(servers[rows].pid, args.postgres_url, f"{args.database}_{rows}")
            for rows in urls
        }
        names = [
            n
            for n in calls[args.sizes[0]]
            if any(o in n for o in args.only) or (not args.only and not n.startswith("api search"))
        ]
        print(f"{'page':<44} {'size':>9}  wall median / p95 ms   CPU ms/request: app, database")
        for name in names:
            for rows in urls:
                for _ in range(args.warmup):
                    calls[rows][name]()
            times: dict[int, list[float]] = {rows: [] for rows in urls}
            cpu: dict[int, list[tuple[float, float]]] = {rows: [] for rows in urls}
            for i in range(args.rounds):
                for rows in list(urls) if i % 2 == 0 else list(reversed(urls)):
                    app0, db0 = meters[rows].read()
                    t0 = time.perf_counter()
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        calls[rows][name]()
                        times[rows].append((time.perf_counter() - started) * 1000)
                    spent = time.perf_counter() - t0
                    app1, db1 = meters[rows].read()
                    time.sleep(min(spent, 2.0))  # the background work's own CPU, idle
                    app2, db2 = meters[rows].read()
                    idle = min(spent, 2.0)
                    scale_ = spent / idle if idle else 0.0
                    cpu[rows].append(
                        (
                            ((app1 - app0) - (app2 - app1) * scale_) * 1000 / args.runs,
                            ((db1 - db0) - (db2 - db1) * scale_) * 1000 / args.runs,
                        )
                    )
            for rows in urls:
                app = statistics.median(c[0] for c in cpu[rows])
                db = statistics.median(c[1] for c in cpu[rows])
                print(
                    f"{name:<44} {rows:>9,}  {statistics.median(times[rows]):6.1f} / "
                    f"{engine_bench.percentile(times[rows], 95):6.1f}        "
                    f"{app:5.1f}, {db:5.1f}   (load {engine_bench.load()})",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
