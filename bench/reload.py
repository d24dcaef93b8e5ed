"""Benchmark: live config reload across processes (issue 18).

Starts `--processes` (2) real `gongdan serve` processes on one fresh PostgreSQL
database (`--database`, dropped at the end), all watching one config folder
(`GONGDAN_CONFIG_RELOAD=watch`), for the example bundle (`config/`) and for the
500-type bundle of `bench/config_load.py` (its generator). Then, `--runs` times, it
writes a new ticket type (with its own workflow) into the folder and measures:

- the time from the file write to the new type's schema answering 200 in every
  process (`GET /api/v1/config/ticket-types/ID/schema`, polled every 10 ms per
  process): per process and for the slowest;
- the CPU each process spent on that reload, as its follower thread measures it
  (`time.thread_time()` around load + check + compile + promote + swap, reported as
  `last_reload_cpu_seconds` by `GET /api/v1/config/status`): the process that
  promoted read and checked the folder, the others compiled the stored version;
- the failed requests of a light load running throughout (GETs of a type's schema
  and of `/healthz`, alternating between the processes, every 20 ms).

In this process it also times, with `time.process_time()`, the two halves of a
reload: `load_candidate` (read, check, compile: what the promoting process does) and
`compile_files` of the stored files (what a following process does), from cold and
after one file changed (the loader parses again only the files whose bytes changed).

Targets: every process answers within 5 s (2 s with watching); a reload of the
500-type bundle costs at most 1 s CPU; no failed request. Nothing asserts.

    .venv/bin/python bench/reload.py [--runs N] [--processes N] [--bundles example,large]
        [--database NAME] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from config_load import generate_bundle

from gongdan.bundle.loader import PARSE_CACHE
from gongdan.engine import AccountService, Database, load_candidate
from gongdan.engine.lifecycle.promote import compile_files
from gongdan.rules.workflow import Actor

REPO = Path(__file__).parents[1]
WAIT_TARGET_S = 5.0
WATCH_TARGET_S = 2.0
CPU_TARGET_S = 1.0
NEW_TYPE = """\
kind: TicketType
id: {id}
name: {{en: Reload {n}, zh-CN: 重载 {n}}}
key_prefix: RL{n}
workflow: {id}_flow
fields:
  - {{id: note, type: text, label: {{en: Note, zh-CN: 备注}}}}
---
kind: Workflow
id: {id}_flow
initial: open
states:
  open: {{category: new}}
  done: {{category: closed}}
transitions:
  - {{id: finish, from: [open], to: done}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def call(port: int, path: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.upgrade()
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def servers(root: Path, url: str, count: int, logs: Path) -> Iterator[list[int]]:
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": url,
        "GONGDAN_CONFIG_DIR": str(root),
        "GONGDAN_CONFIG_RELOAD": "watch",
    }
    ports = [free_port() for _ in range(count)]
    processes = []
    for port in ports:
        with (logs / f"serve-{port}.log").open("wb") as out:
            command = [sys.executable, "-m", "gongdan.cli", "serve", "--port", str(port)]
            processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
            )
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 180
            while True:
                try:
                    call(port, "/healthz")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(
                            (logs / f"serve-{port}.log").read_text(errors="replace")
                        ) from None
                    time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


class Load(threading.Thread):
    """Light requests alternating between the processes until stopped."""

    def __init__(self, ports: list[int], path: str) -> None:
        super().__init__(daemon=True)
        self.ports, self.path = ports, path
        self.done, self.failures = 0, 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            port = self.ports[self.done % len(self.ports)]
            path = self.path if self.done % 2 else "/healthz"
            try:
                status, _ = call(port, path)
            except OSError:
                status = 0
            self.failures += status != 200
            self.done += 1
            time.sleep(0.02)


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"
    )


def bench_bundle(name: str, root: Path, args: argparse.Namespace) -> None:
    print(f"\n== {name} bundle: {sum(1 for _ in root.rglob('*.yaml'))} files")
    # In this process: the promoter's half (load + check + compile) and a follower's,
    # from cold (nothing parsed yet: a process starting) and after one changed file
    # (the files parsed before are taken from the loader's cache: a reload).
    colds, loads, compiles = [], [], []
    extra = root / "ticket_types" / "bench_in_process.yaml"
    for run in range(3):
        PARSE_CACHE.clear()
        started = time.process_time()
        candidate = load_candidate(root)
        colds.append(time.process_time() - started)
        assert candidate.bundle is not None, candidate.errors[:5]
        compile_files(candidate.files, candidate.version)  # (the stored names cached too)
        extra.write_text(NEW_TYPE.format(id=f"bench_in_process_{run}", n=900 + run), "utf-8")
        started = time.process_time()
        candidate = load_candidate(root)
        loads.append(time.process_time() - started)
        assert candidate.bundle is not None, candidate.errors[:5]
        started = time.process_time()
        compile_files(candidate.files, candidate.version)
        compiles.append(time.process_time() - started)
    extra.unlink()
    candidate = load_candidate(root)
    assert candidate.bundle is not None
    print(f"in-process load_candidate CPU, cold:          {spread(colds)}")
    print(f"in-process load_candidate CPU, 1 file changed: {spread(loads)}")
    print(f"in-process compile_files CPU, 1 file changed:  {spread(compiles)}")
    with (
        fresh_database(args.postgres_url, args.database) as url,
        tempfile.TemporaryDirectory() as logs,
        servers(root, url, args.processes, Path(logs)) as ports,
    ):
        db = Database(url)
        accounts = AccountService(db)
        accounts.add_user("bench.admin@example.com", role="admin")
        token = accounts.create_token(Actor.system(), "bench.admin@example.com", "bench")[1]
        db.dispose()
        first_type = next(iter(candidate.bundle.ticket_types))
        load = Load(ports, f"/api/v1/config/ticket-types/{first_type}/schema")
        load.start()
        slowest: list[float] = []
        per_process: dict[int, list[float]] = {p: [] for p in ports}
        cpu: dict[int, list[float]] = {p: [] for p in ports}
        for run in range(args.runs):
            type_id = f"bench_reload_{run}_{int(time.time())}"
            before = {p: call(p, "/api/v1/config/status", token)[1]["reloads"] for p in ports}
            path = root / "ticket_types" / f"{type_id}.yaml"
            started = time.perf_counter()
            path.write_text(NEW_TYPE.format(id=type_id, n=run), encoding="utf-8")
            waiting = set(ports)
            while waiting and time.perf_counter() - started < 30:
                for port in list(waiting):
                    status, _ = call(port, f"/api/v1/config/ticket-types/{type_id}/schema")
                    if status == 200:
                        per_process[port].append(time.perf_counter() - started)
                        waiting.discard(port)
                time.sleep(0.01)
            if waiting:
                print(f"run {run}: processes {sorted(waiting)} did not answer in 30 s")
                continue
            slowest.append(time.perf_counter() - started)
            time.sleep(1.5)  # let every process finish its round (and its CPU report)
            for port in ports:
                status = call(port, "/api/v1/config/status", token)[1]
                if status["reloads"] > before[port]:
                    cpu[port].append(status["last_reload_cpu_seconds"])
            print(
                f"run {run}: every process in {slowest[-1]:.3f} s; CPU "
                + ", ".join(f":{p} {cpu[p][-1]:.3f} s" for p in ports if cpu[p])
            )
        load.halt.set()
        load.join()
    print(f"write → new type answering in every process: {spread(slowest)}")
    for port in ports:
        print(f"  process :{port}: answering {spread(per_process[port])}; CPU {spread(cpu[port])}")
    all_cpu = [c for values in cpu.values() for c in values]
    print(f"CPU per reload (any process): {spread(all_cpu)}")
    print(f"load during reloads: {load.done} requests, {load.failures} failed")
    worst = max(slowest, default=float("inf"))
    print(
        f"targets: every process <= {WATCH_TARGET_S} s with watching: "
        f"{'met' if worst <= WATCH_TARGET_S else 'NOT met'} (worst {worst:.3f} s); "
        f"reload CPU <= {CPU_TARGET_S} s: "
        f"{'met' if max(all_cpu, default=0) <= CPU_TARGET_S else 'NOT met'}; "
        f"failed requests: {load.failures}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--bundles", default="example,large")
    parser.add_argument("--database", default="gongdan_bench_reload")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "GONGDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args(argv)
    print(
        f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for name in args.bundles.split(","):
        with tempfile.TemporaryDirectory(prefix="gongdan-reload-") as tmp:
            root = Path(tmp) / "config"
            if name == "example":
                shutil.copytree(REPO / "config", root, ignore=shutil.ignore_patterns("tests"))
            elif name == "large":
                root.mkdir()
                generate_bundle(root)
            else:
                parser.error(f"unknown bundle '{name}' (example, large)")
            bench_bundle(name, root, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
