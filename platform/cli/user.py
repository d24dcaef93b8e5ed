"""`gongdan user add|list|set|deactivate|reactivate|signout`: accounts from the shell,
as an admin manages them in the console's People page (`/admin/people`).

- `user list [--role R] [--query Q] [--format text|json]`: every account, one a line;
- `user set EMAIL [--role R] [--name N] [--language L] [--away|--back]`;
- `user deactivate EMAIL` (signed out everywhere, tokens stop working) and
  `user reactivate EMAIL`;
- `user signout EMAIL`: end every web session at once.

Changes are recorded as done by the system (the shell has no signed-in admin). The
last active admin can neither be deactivated nor lose the role (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gongdan.engine import LANGUAGES, AccountService, Database, database_url
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


def cmd_user_list(args: argparse.Namespace) -> int:
    db = Database(database_url())
    db.upgrade()
    try:
        people = AccountService(db).list_people(query=args.query or "", role=args.role or "")
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps([p.as_json() for p in people], ensure_ascii=False, indent=2))
        return 0
    if not people:
        print("no users")
    for p in people:
        flags = [
            flag
            for flag, on in (
                ("inactive", not p.active),
                ("away", p.away),
                ("no password", not p.has_password),
            )
            if on
        ]
        teams = f"  teams: {', '.join(p.teams)}" if p.teams else ""
        extra = f"  ({', '.join(flags)})" if flags else ""
        print(f"{p.email:<32} {p.role:<9} {p.name}{teams}{extra}")
    return 0


def cmd_user_set(args: argparse.Namespace) -> int:
    db = Database(database_url())
    try:
        person = AccountService(db).set_user(
            Actor.system(),
            args.email,
            role=args.role,
            name=args.name,
            language=args.language,
            away=args.away,
        )
    except (ValidationFailed, Conflict, NotFound) as error:
        print(f"gongdan user set: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    away = ", away" if person.away else ""
    print(f"{person.email}: {person.role}, {person.name}, {person.language}{away}")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    db = Database(database_url())
    try:
        person = AccountService(db).set_active(Actor.system(), args.email, active)
    except (Conflict, NotFound) as error:
        print(f"gongdan user {args.user_command}: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"{person.email} is {'active' if person.active else 'deactivated'}")
    return 0


def cmd_user_deactivate(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_user_reactivate(args: argparse.Namespace) -> int:
    return _set_active(args, True)


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
    """Register the `user` commands; returns the leaf parsers."""
    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="create a user")
    user_add.add_argument("email")
    user_add.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    user_add.add_argument("--name")
    user_add.add_argument("--password")
    user_add.set_defaults(handler=cmd_user_add)
    listing = user_commands.add_parser("list", help="list the users")
    listing.add_argument("--role", choices=ACCOUNT_ROLES)
    listing.add_argument("--query", help="only users whose email or name contains this")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=cmd_user_list)
    change = user_commands.add_parser("set", help="change a user's role, name, language or away")
    change.add_argument("email")
    change.add_argument("--role", choices=ACCOUNT_ROLES)
    change.add_argument("--name")
    change.add_argument("--language", choices=LANGUAGES)
    away = change.add_mutually_exclusive_group()
    away.add_argument("--away", dest="away", action="store_true", default=None, help="mark away")
    away.add_argument("--back", dest="away", action="store_false", help="no longer away")
    change.set_defaults(handler=cmd_user_set)
    deactivate = user_commands.add_parser(
        "deactivate", help="deactivate a user (signed out everywhere, tokens stop working)"
    )
    deactivate.add_argument("email")
    deactivate.set_defaults(handler=cmd_user_deactivate)
    reactivate = user_commands.add_parser("reactivate", help="reactivate a deactivated user")
    reactivate.add_argument("email")
    reactivate.set_defaults(handler=cmd_user_reactivate)
    signout = user_commands.add_parser(
        "signout", help="end every web session of a user at once (sign out everywhere)"
    )
    signout.add_argument("email")
    signout.set_defaults(handler=cmd_user_signout)
    return [user_add, listing, change, deactivate, reactivate, signout]
