"""Benchmark: how long a web worker takes to start, from its process start to its first
answered request (issue 20), idle and with busy cores beside it.

`gongdan serve --workers N` spawns each worker as a fresh interpreter that imports the
app, loads the bundle and syncs the teams before it answers; uvicorn's supervisor kills
a worker that does not answer its health check within `timeout_worker_healthcheck`
(`gongdan serve` sets it: `cli.serve.WORKER_HEALTHCHECK_SECONDS`). This starts the same
factory (`gongdan.ui.app:serve_app`) in a process of its own, `--runs` times per load
(0, 1 and 2 busy-looping processes on the side), on a fresh PostgreSQL database of the
example config (`--database`, dropped at the end), and prints the median, min and max
seconds until `/healthz` first answers 200. Nothing here asserts; it prints.

`--bundle big` uses the 500-type bundle of `bench/config_load.py` (generated into a
temporary folder) instead of the example config; `--busy 0,1,2` chooses the loads.

    .venv/bin/python bench/worker_start.py [--runs N] [--bundle example|big] [--busy 0,1,2]
        [--database NAME] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = os.environ.get(
    "GONGDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _burn(stop: float) -> None:
    while time.monotonic() < stop:
        pass


def start_once(url: str, config: Path) -> float:
    """Seconds from starting a worker process to its first 200 on /healthz."""
    port = _free_port()
    env = {**os.environ, "GONGDAN_DATABASE_URL": url, "GONGDAN_CONFIG_DIR": str(config)}
    env.pop("GONGDAN_BROKER_URL", None)
    command = [
        sys.executable, "-c",
        "import uvicorn; uvicorn.run('gongdan.ui.app:serve_app', factory=True, "
        f"host='127.0.0.1', port={port}, log_level='warning')",
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - our own command
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.monotonic() - started
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("the worker exited before it answered") from None
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(timeout=90)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="gongdan_bench_worker_start")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL)
    parser.add_argument("--bundle", choices=("example", "big"), default="example")
    parser.add_argument("--busy", default="0,1,2", help="busy processes beside, per load")
    args = parser.parse_args(argv)
    config = ROOT / "config"
    if args.bundle == "big":
        sys.path.insert(0, str(ROOT / "bench"))
        from config_load import generate_bundle

        config = Path(tempfile.mkdtemp(prefix="gongdan-start-")) / "config"
        generate_bundle(config)

    with psycopg.connect(_conninfo(args.postgres_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    url = make_url(args.postgres_url).set(database=args.database).render_as_string(False)
    try:
        from gongdan.engine import Database
        from gongdan.ui.app import create_app

        database = Database(url)
        database.upgrade()
        database.dispose()
        create_app(config, database_url=url, demo=args.bundle == "example").state.db.dispose()
        print(f"{args.bundle} bundle; load average before: {os.getloadavg()[0]:.1f} "
              f"({os.cpu_count()} cores)")  # fmt: skip
        for busy in [int(b) for b in args.busy.split(",")]:
            times = []
            for _ in range(args.runs):
                burners = [
                    multiprocessing.Process(target=_burn, args=(time.monotonic() + 120,))
                    for _ in range(busy)
                ]
                for burner in burners:
                    burner.start()
                try:
                    times.append(start_once(url, config))
                finally:
                    for burner in burners:
                        burner.terminate()
                        burner.join()
            print(
                f"{busy} busy: median {statistics.median(times):.2f} s, "
                f"min {min(times):.2f}, max {max(times):.2f} ({args.runs} runs)"
            )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        with psycopg.connect(_conninfo(args.postgres_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
