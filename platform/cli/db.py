"""`gongdan db upgrade`: apply the database migrations (Alembic)."""

from __future__ import annotations

import argparse
from typing import Any

from gongdan.engine import Database, database_url

__all__ = ["add_db_commands"]


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db = Database(database_url())
    db.upgrade(args.revision)
    print(f"database at revision {args.revision}: {db.engine.url.render_as_string()}")
    db.dispose()
    return 0


def add_db_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `db upgrade`; returns the leaf parsers."""
    db = commands.add_parser("db", help="the database ($GONGDAN_DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations (Alembic)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    return [upgrade]
