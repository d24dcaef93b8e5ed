"""`gongdan serve`, `gongdan background` and `gongdan worker`: run the web platform,
its background work without a broker, and the Celery worker."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from gongdan.engine import AccountService, Database, database_url
from gongdan.errors import ConfigError

__all__ = ["add_serve_commands"]


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn  # only `serve` needs the web stack

    from gongdan.ui.app import create_app
    from gongdan.ui.serving import tune_collector
    from gongdan.ui.websettings import WebSettings

    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    try:
        # Checks the config, migrates the embedded database and seeds the demo once,
        # before any worker starts.
        app = create_app(config_dir=args.config, database_url=database_url(), demo=args.demo)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return 1
    _first_run_hint(demo=args.demo)
    # X-Forwarded-Proto / -For are believed only from the configured proxies (uvicorn
    # would otherwise trust 127.0.0.1 by default): `ui.headers`, `ui.websettings`.
    trusted = WebSettings.from_env().trusted_proxies
    proxies: dict[str, Any] = {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted) or "",
    }
    if args.workers == 1:
        tune_collector()
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", **proxies)
        return 0
    app.state.db.dispose()
    os.environ["GONGDAN_CONFIG_DIR"] = str(args.config)
    os.environ["GONGDAN_DATABASE_URL"] = database_url()
    background = _start_background(args)
    try:
        uvicorn.run(
            "gongdan.ui.app:serve_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level="info",
            timeout_worker_healthcheck=worker_healthcheck_seconds(),
            **proxies,
        )
    finally:
        if background is not None:
            background.terminate()  # it finishes the batches under way
            try:
                background.wait(40)
            except subprocess.TimeoutExpired:
                background.kill()
    return 0


def _start_background(args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """With several web workers, no broker and `--background process`, the background
    work in one process of its own (`gongdan background`; `ui.background`)."""
    from gongdan.ui.background import BACKGROUND_ENV

    if os.environ.get("GONGDAN_BROKER_URL") or args.background != "process":
        os.environ[BACKGROUND_ENV] = "threads"
        return None
    os.environ[BACKGROUND_ENV] = "process"  # the web workers leave it to that process
    command = [sys.executable, "-m", "gongdan.cli", "--config", str(args.config), "background"]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and module


def cmd_background(args: argparse.Namespace) -> int:
    """`gongdan background`: relay the outbox and run the scheduled jobs in this
    process (what `serve --workers N` starts beside its web workers)."""
    from gongdan.ui.app import background_jobs
    from gongdan.ui.background import run_background

    try:
        return run_background(args.config, database_url(), background_jobs())
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return 1


def _first_run_hint(*, demo: bool) -> None:
    """On a database without an admin, say how to make the first one (or try the demo)."""
    if demo:  # the demo seeds an admin
        return
    db = Database(database_url())
    try:
        if AccountService(db).has_admin():
            return
    finally:
        db.dispose()
    print(
        "gongdan serve: nobody can sign in yet (the database has no admin). Create the "
        "first admin with\n"
        "  gongdan user add you@example.com --role admin --password 'a long password'\n"
        "or start with demo people and tickets (password: demo): gongdan serve --demo",
        file=sys.stderr,
        flush=True,
    )


# How long the supervisor waits for a worker process to answer its health check before
# it kills it. uvicorn's 5 s is far too short on a loaded machine: a worker spawns a
# fresh interpreter and imports the app before its answering thread gets a turn, then
# loads the bundle and syncs the teams. bench/worker_start.py measures process start to
# first answer: on the shared 2-core machine (load average 15 to 20) the median was
# 12 to 13 s, 20 to 24 s with one more core busy and 27 to 31 s (40 s at worst) with
# two. The health check only waits for the worker's answering thread, which starts
# before the app is imported, so 60 s leaves a margin. A worker that dies is still replaced at once (its exit is seen, not
# waited for); only a hung one takes this long to be killed.
# GONGDAN_WORKER_HEALTHCHECK_SECONDS changes it.
WORKER_HEALTHCHECK_SECONDS = 60


def worker_healthcheck_seconds() -> int:
    raw = os.environ.get("GONGDAN_WORKER_HEALTHCHECK_SECONDS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else WORKER_HEALTHCHECK_SECONDS


def cmd_worker(args: argparse.Namespace) -> int:
    if not os.environ.get("GONGDAN_BROKER_URL"):
        print(
            "gongdan worker: set GONGDAN_BROKER_URL (e.g. redis://127.0.0.1:6379/0); "
            "without a broker, `gongdan serve` runs background work in-process",
            file=sys.stderr,
        )
        return 2
    os.environ["GONGDAN_CONFIG_DIR"] = str(args.config)
    extra = [a for a in args.celery_args if a != "--"]
    command = [sys.executable, "-m", "celery", "-A", "gongdan.tasks", "worker", "--beat", *extra]
    sys.stdout.flush()
    os.execv(sys.executable, command)  # noqa: S606 - becomes the Celery worker: signals go to it
    return 0  # pragma: no cover - execv does not return


def add_serve_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `serve` and `worker`; returns the leaf parsers."""
    serve = commands.add_parser("serve", help="run the web platform")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo users and tickets")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; PostgreSQL for more)"
    )
    serve.add_argument(
        "--background",
        choices=("threads", "process"),
        default="threads",
        help="without a broker and with several workers: the outbox and scheduled jobs "
        "in threads of each worker (default) or in one process of their own",
    )
    serve.set_defaults(handler=cmd_serve)
    background = commands.add_parser(
        "background",
        help="relay the outbox and run the scheduled jobs (no broker; `serve` starts it)",
    )
    background.set_defaults(handler=cmd_background)

    worker = commands.add_parser(
        "worker",
        help="run `celery -A gongdan.tasks worker --beat` (needs $GONGDAN_BROKER_URL)",
    )
    # Everything after `worker` goes to celery (e.g. --concurrency 4): see `main`.
    worker.set_defaults(handler=cmd_worker, celery_args=[])
    return [serve, worker, background]
