"""The `gongdan` command line: check and export config, serve the platform.

Every command takes `--config DIR` (default `$GONGDAN_CONFIG_DIR` or `./config`) and
uses the database at `$GONGDAN_DATABASE_URL` (default `sqlite:///./gongdan.db`).
Exit codes: 0 success, 1 the input is invalid (every error printed, one per line as
`file:line:col: path: message`), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gongdan.bundle import schemas
from gongdan.bundle.loader import check_bundle
from gongdan.cli.mail import add_mail_commands
from gongdan.cli.sla import add_sla_commands
from gongdan.cli.token import add_token_commands
from gongdan.engine.accounts.users import ROLES, add_user
from gongdan.engine.service import utc_now
from gongdan.engine.store.database import Database, database_url
from gongdan.errors import ConfigError, Conflict, ValidationFailed

__all__ = ["main", "run"]


def _default_config() -> str:
    return os.environ.get("GONGDAN_CONFIG_DIR", "config")


def cmd_check(args: argparse.Namespace) -> int:
    directory = args.directory or args.config
    bundle, issues = check_bundle(directory)
    if bundle is not None:
        from gongdan.channels.email.templates import check_templates  # Jinja2 lives in the ui

        issues = sorted([*issues, *check_templates(bundle)])
        if any(i.severity == "error" for i in issues):
            bundle = None
    for issue in issues:
        print(issue)
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    if bundle is None:
        print(
            f"{directory}: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}",
            file=sys.stderr,
        )
        return 1
    suffix = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
    print(f"{directory}: OK: {bundle.summary()}{suffix}")
    return 0


def cmd_schema_export(args: argparse.Namespace) -> int:
    out = Path(args.directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in schemas.KINDS:
        target = out / schemas.schema_file_name(kind)
        target.write_text(
            json.dumps(schemas.kind_schema(kind), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        written.append(target.name)
    (out / "gongdan.schema.json").write_text(
        json.dumps(schemas.bundle_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    written.append("gongdan.schema.json")
    print(f"wrote {len(written)} schemas to {out}: {', '.join(written)}")
    return 0


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


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = Database(database_url())
    db.upgrade(args.revision)
    print(f"database at revision {args.revision}: {db.engine.url.render_as_string()}")
    db.dispose()
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    db = Database(database_url())
    db.upgrade()
    try:
        with db.transaction() as session:
            user = add_user(
                session,
                args.email,
                role=args.role,
                name=args.name,
                password=args.password,
                now=utc_now(),
            )
            email, role = user.email, user.role
    except (ValidationFailed, Conflict) as error:
        print(f"gongdan user add: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"added {role} {email}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongdan", description="Gongdan (工单) ticketing platform"
    )
    parser.add_argument(
        "--config",
        default=_default_config(),
        help="config directory (default: $GONGDAN_CONFIG_DIR or ./config)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate a config bundle; exit 1 with every error")
    check.add_argument("directory", nargs="?", help="config directory (default: --config)")
    check.set_defaults(handler=cmd_check)

    schema = commands.add_parser("schema", help="JSON Schemas of the config language")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the JSON Schemas to DIR")
    export.add_argument("directory")
    export.set_defaults(handler=cmd_schema_export)

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

    db = commands.add_parser("db", help="the database ($GONGDAN_DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations (Alembic)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="create a user")
    user_add.add_argument("email")
    user_add.add_argument("--role", required=True, choices=ROLES)
    user_add.add_argument("--name")
    user_add.add_argument("--password")
    user_add.set_defaults(handler=cmd_user_add)

    sla_leaves = add_sla_commands(commands)
    mail_leaves = add_mail_commands(commands)
    token_leaves = add_token_commands(commands)

    for sub in (
        check,
        export,
        serve,
        worker,
        upgrade,
        user_add,
        *sla_leaves,
        *token_leaves,
        *mail_leaves,
    ):
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command == "worker":
        args.celery_args = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
