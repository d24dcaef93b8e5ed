"""`gongdan apply`, `gongdan config log` and `gongdan config show`: the config
lifecycle from the shell (`engine.lifecycle`).

- `apply [DIR]` promotes a bundle by the same path a watched file change takes: exit 0
  when it is active (or already was), 1 when it is invalid (every error printed as
  `gongdan check` prints it) or refused. Running processes follow within seconds.
- `config log [--limit N]`: the activations, newest first, the active one marked `*`.
- `config show VERSION`: the files of a version (a prefix of its id is enough).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gongdan.bundle.compiled import Bundle
from gongdan.engine import (
    AccountService,
    Database,
    database_url,
    promote_folder,
    version_files,
    version_log,
)
from gongdan.errors import NotFound, ValidationFailed

__all__ = ["add_lifecycle_commands", "members_without_account"]


def _database() -> Database:
    db = Database(database_url())
    if db.dialect == "sqlite":
        db.upgrade()
    return db


def cmd_apply(args: argparse.Namespace) -> int:
    from gongdan.channels.email.templates import check_templates  # Jinja2: only here

    directory = args.directory or args.config
    db = _database()
    try:
        result = promote_folder(db, directory, source="apply", checks=check_templates)
    finally:
        db.dispose()
    for issue in result.issues:
        print(issue)
    if result.outcome == "invalid":
        errors = sum(1 for i in result.issues if i.severity == "error")
        print(f"{directory}: {errors} error{'s' * (errors != 1)}: not applied", file=sys.stderr)
        return 1
    if result.outcome == "refused":
        print(f"{directory}: refused: {result.refusal}", file=sys.stderr)
        return 1
    if result.outcome == "unchanged":
        print(f"{directory}: version {result.version} is already active")
    else:
        print(f"{directory}: version {result.version} is active")
    return 0


def cmd_config_log(args: argparse.Namespace) -> int:
    db = Database(database_url())
    try:
        records = version_log(db, args.limit)
    except SQLAlchemyError as error:
        print(f"gongdan config log: cannot read the database: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if not records:
        print("no config version was activated yet")
    for record in records:
        mark = "*" if record.active else " "
        print(
            f"{mark} {record.version}  {record.activated_at.isoformat(timespec='seconds')}  "
            f"{record.source:<11}  {record.activated_by}  ({record.summary})"
        )
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    db = Database(database_url())
    try:
        version, files = version_files(db, args.version)
    except (NotFound, ValidationFailed) as error:
        print(f"gongdan config show: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"# version {version}: {len(files)} file{'s' * (len(files) != 1)}")
    for path, text in files:
        print(f"\n# --- {path}")
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    return 0


def members_without_account(bundle: Bundle) -> list[str] | None:
    """`gongdan check`'s note on the people: a line per team member the bundle names
    who has no account in the database yet. Only when a database is named:
    `$GONGDAN_DATABASE_URL` set, reachable and with its schema (check never creates a
    SQLite file); None otherwise: check needs no database."""
    url = os.environ.get("GONGDAN_DATABASE_URL")
    if not url:
        return None
    if url.startswith("sqlite:///") and not os.path.exists(url.removeprefix("sqlite:///")):
        return None
    named = {
        member.user.strip().lower(): team.id
        for team in bundle.teams.values()
        for member in team.members
    }
    db = Database(url)
    try:
        missing = AccountService(db).missing_accounts(sorted(named))
    except SQLAlchemyError:
        return None  # unreachable, or no schema yet
    finally:
        db.dispose()
    return [
        f"warning: team '{named[email]}' names {email}, who has no account yet "
        f"(gongdan user add {email} --role agent)"
        for email in missing
    ]


def add_lifecycle_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `apply`, `config log` and `config show`; returns the leaf parsers."""
    apply = commands.add_parser(
        "apply", help="activate a config bundle (exit 1 if invalid or refused)"
    )
    apply.add_argument("directory", nargs="?", help="config directory (default: --config)")
    apply.set_defaults(handler=cmd_apply)

    config = commands.add_parser("config", help="the config versions in the database")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    log = config_commands.add_parser("log", help="the versions activated, newest first")
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(handler=cmd_config_log)
    show = config_commands.add_parser("show", help="print the files of a version")
    show.add_argument("version", help="a version id (or a prefix of at least 4 characters)")
    show.set_defaults(handler=cmd_config_show)
    return [apply, log, show]
