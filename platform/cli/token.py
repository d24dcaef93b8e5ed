"""`gongdan token create|list|revoke`: bearer tokens for the REST API from the shell.

    gongdan token create crm@example.com --name "CRM sync"
    created token 7 'CRM sync' for crm@example.com; it is shown only once:
    gd_q2Vd…

`create` prints the new token alone on its LAST line (scripts take `tail -n 1`); only
its SHA-256 is stored. `revoke ID` takes the id `create` and `list` print.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gongdan.engine import AccountService, Database, database_url
from gongdan.errors import NotFound, ValidationFailed
from gongdan.rules.workflow import Actor

__all__ = ["add_token_commands"]


def _database() -> Database:
    db = Database(database_url())
    if db.dialect == "sqlite":
        db.upgrade()  # the embedded default sets itself up, as `user add` does
    return db


def cmd_token_create(args: argparse.Namespace) -> int:
    db = _database()
    try:
        # The operator at the shell acts as the system: the event names no user.
        info, token = AccountService(db).create_token(Actor.system(), args.email, args.name)
    except (NotFound, ValidationFailed) as error:
        print(f"gongdan token create: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    label = f" '{info.name}'" if info.name else ""
    print(f"created token {info.id}{label} for {info.user}; it is shown only once:")
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    db = _database()
    try:
        tokens = AccountService(db).list_tokens(args.email)
    except NotFound as error:
        print(f"gongdan token list: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    for info in tokens:
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        used = f"{info.last_used_at:%Y-%m-%d %H:%M}" if info.last_used_at else "never"
        print(f"{info.id}\t{info.prefix}…\t{state}\tlast used {used}\t{info.name}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    db = _database()
    try:
        info = AccountService(db).revoke_token(Actor.system(), args.id)
    except NotFound as error:
        print(f"gongdan token revoke: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"revoked token {info.id} ({info.prefix}…) of {info.user}")
    return 0


def add_token_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Register `token create`, `token list` and `token revoke`; returns the leaves."""
    token = commands.add_parser("token", help="bearer tokens for the REST API")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser(
        "create", help="create a token for a user; prints it on the last line"
    )
    create.add_argument("email")
    create.add_argument("--name", default="", help="what the token is for")
    create.set_defaults(handler=cmd_token_create)
    listing = token_commands.add_parser("list", help="a user's tokens (never the tokens)")
    listing.add_argument("email")
    listing.set_defaults(handler=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=cmd_token_revoke)
    return [create, listing, revoke]
