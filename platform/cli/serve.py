"""`gongdan serve` and `gongdan worker`: run the web platform and the Celery worker."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gongdan.engine import AccountService, Database, database_url
from gongdan.errors import ConfigError

__all__ = ["add_serve_commands"]


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn  # only `serve` needs the web stack

    from gongdan.ui.app import create_app
    from gongdan.ui.serving import tune_collector

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
    if args.workers == 1:
        tune_collector()
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return 0
    app.state.db.dispose()
    os.environ["GONGDAN_CONFIG_DIR"] = str(args.config)
    os.environ["GONGDAN_DATABASE_URL"] = database_url()
    uvicorn.run(
        "gongdan.ui.app:serve_app",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level="info",
    )
    return 0


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
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run `celery -A gongdan.tasks worker --beat` (needs $GONGDAN_BROKER_URL)",
    )
    # Everything after `worker` goes to celery (e.g. --concurrency 4): see `main`.
    worker.set_defaults(handler=cmd_worker, celery_args=[])
    return [serve, worker]
