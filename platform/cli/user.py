"""`gongdan user add` and `gongdan user signout`: accounts from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongdan.engine import AccountService, Database, database_url
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.rules.workflow import Actor
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


def cmd_user_signout(args: argparse.Namespace) -> int:
    """End every web session of a user at once (an admin's "sign out everywhere")."""
    db = Database(database_url())
    try:
        ended = AccountService(db).sign_out_everywhere(Actor.system(), args.email)
    except NotFound as error:
        print(f"gongdan user signout: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"signed out {args.email} everywhere ({ended} session{'s' * (ended != 1)} ended)")
    return 0


def add_user_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `user add` and `user signout`; returns the leaf parsers."""
    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="create a user")
    user_add.add_argument("email")
    user_add.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    user_add.add_argument("--name")
    user_add.add_argument("--password")
    user_add.set_defaults(handler=cmd_user_add)
    signout = user_commands.add_parser(
        "signout", help="end every web session of a user at once (sign out everywhere)"
    )
    signout.add_argument("email")
    signout.set_defaults(handler=cmd_user_signout)
    return [user_add, signout]
