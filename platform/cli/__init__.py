"""The `gongdan` command line: one module per command group.

`config` (check, schema export), `bundle_test` (test: the bundle's own tests), `graph`
(a workflow as a diagram), `serve` (serve, worker), `db`, `user`, `token`, `sla` and
`mail`. Every command takes `--config DIR` (default `$GONGDAN_CONFIG_DIR` or
`./config`) and uses the database at `$GONGDAN_DATABASE_URL` (default
`sqlite:///./gongdan.db`). Exit codes: 0 success, 1 the input is invalid (every error
printed, one per line as `file:line:col: path: message`), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from gongdan.cli.bundle_test import add_test_commands
from gongdan.cli.config import add_config_commands
from gongdan.cli.db import add_db_commands
from gongdan.cli.graph import add_graph_commands
from gongdan.cli.mail import add_mail_commands
from gongdan.cli.serve import add_serve_commands
from gongdan.cli.sla import add_sla_commands
from gongdan.cli.token import add_token_commands
from gongdan.cli.user import add_user_commands

__all__ = ["build_parser", "main", "run"]


def _default_config() -> str:
    return os.environ.get("GONGDAN_CONFIG_DIR", "config")


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
    leaves = [
        *add_config_commands(commands),
        *add_test_commands(commands),
        *add_graph_commands(commands),
        *add_serve_commands(commands),
        *add_db_commands(commands),
        *add_user_commands(commands),
        *add_sla_commands(commands),
        *add_token_commands(commands),
        *add_mail_commands(commands),
    ]
    for sub in leaves:
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


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
