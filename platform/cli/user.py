"""`gongdan user add`: accounts from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongdan.engine import AccountService, Database, database_url
from gongdan.errors import Conflict, ValidationFailed
from gongdan.vocabulary import ACCOUNT_ROLES

__all__ = ["add_user_commands"]


def cmd_user_add(args: argparse.Namespace) -> int:
    db = Database(database_url())
    db.upgrade()
    try:
        account = AccountService(db).add_user(
            args.email, role=args.role, name=args.name, password=args.password
        )
    except (ValidationFailed, Conflict) as error:
        print(f"gongdan user add: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"added {account.role} {account.email}")
    return 0


def add_user_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `user add`; returns the leaf parsers."""
    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="create a user")
    user_add.add_argument("email")
    user_add.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    user_add.add_argument("--name")
    user_add.add_argument("--password")
    user_add.set_defaults(handler=cmd_user_add)
    return [user_add]
